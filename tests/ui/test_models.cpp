// Item models and boundary edits: QAbstractItemModelTester plus behaviour checks.
#include "annotation/boundary_edits.hpp"
#include "models/dataset_model.hpp"
#include "score_chart.hpp"
#include "segmenter_panel.hpp"

#include <QComboBox>
#include <QSpinBox>

#include <QAbstractItemModelTester>
#include <QtTest>

using namespace blocklens;
using Edit = store::AnnotationEdit;

namespace {

std::shared_ptr<const Dataset> makeDataset()
{
    auto ds = std::make_shared<Dataset>();
    auto add = [&](const char* id, const char* category, const char* variant, std::string text, std::vector<Boundary> b) {
        DocumentMeta m;
        m.id = id;
        m.category = category;
        m.variant = variant;
        m.lang = "en";
        ds->documents.emplace_back(std::move(text), m, std::move(b));
    };
    add("a1", "book", "plain", std::string(300, 'x'), {{100, 1}});
    add("b2", "code", "structured", std::string(50, 'y'), {});
    add("c3", "book", "structured", std::string(1000, 'z'), {{10, 1}, {500, 2}});
    return ds;
}

} // namespace

class TestModels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void datasetModelPassesModelTester()
    {
        ui::DatasetModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setDataset(makeDataset());
        QCOMPARE(model.rowCount(), 3);
        model.setReviewed(1, true);
        model.setBlockCount(0, 5);
        ui::DatasetFilterModel proxy;
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        proxy.setSourceModel(&model);
        proxy.setText(QStringLiteral("book"));
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setText({});
        proxy.setStatusFilter(ui::DatasetFilterModel::StatusFilter::Unreviewed);
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setStatusFilter(ui::DatasetFilterModel::StatusFilter::All);
        proxy.sort(ui::DatasetModel::Characters, Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, ui::DatasetModel::Id).data().toString(), QStringLiteral("c3"));
        QCOMPARE(proxy.index(2, ui::DatasetModel::Id).data().toString(), QStringLiteral("b2"));
        model.setDataset(nullptr);
        QCOMPARE(proxy.rowCount(), 0);
    }

    void datasetModelShowsColumns()
    {
        ui::DatasetModel model;
        model.setDataset(makeDataset());
        QCOMPARE(model.index(2, ui::DatasetModel::Blocks).data().toInt(), 3);
        QCOMPARE(model.index(0, ui::DatasetModel::Status).data().toString(), QStringLiteral("unreviewed"));
        model.setReviewed(0, true);
        QCOMPARE(model.index(0, ui::DatasetModel::Status).data().toString(), QStringLiteral("reviewed"));
        QCOMPARE(model.headerData(ui::DatasetModel::Category, Qt::Horizontal).toString(), QStringLiteral("Category"));
    }

    void editsApplyAndInvert_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("offset");
        QTest::addColumn<int>("newOffset");
        QTest::addColumn<int>("level");
        QTest::addColumn<bool>("ok");
        QTest::newRow("insert") << int(Edit::Kind::Insert) << 30 << 0 << 2 << true;
        QTest::newRow("insert duplicate") << int(Edit::Kind::Insert) << 20 << 0 << 2 << false;
        QTest::newRow("insert at 0") << int(Edit::Kind::Insert) << 0 << 0 << 1 << false;
        QTest::newRow("insert past end") << int(Edit::Kind::Insert) << 100 << 0 << 1 << false;
        QTest::newRow("delete") << int(Edit::Kind::Delete) << 20 << 0 << 0 << true;
        QTest::newRow("delete missing") << int(Edit::Kind::Delete) << 21 << 0 << 0 << false;
        QTest::newRow("move") << int(Edit::Kind::Move) << 20 << 55 << 0 << true;
        QTest::newRow("move onto another") << int(Edit::Kind::Move) << 20 << 60 << 0 << false;
        QTest::newRow("level") << int(Edit::Kind::Level) << 60 << 0 << 3 << true;
        QTest::newRow("level unchanged") << int(Edit::Kind::Level) << 60 << 0 << 2 << false;
    }
    void editsApplyAndInvert()
    {
        QFETCH(int, kind);
        QFETCH(int, offset);
        QFETCH(int, newOffset);
        QFETCH(int, level);
        QFETCH(bool, ok);
        const std::vector<Boundary> before{{20, 1}, {60, 2}};
        std::vector<Boundary> bs = before;
        const Edit e{static_cast<Edit::Kind>(kind), std::size_t(offset), std::size_t(newOffset), level};
        const QString why = ui::applyEdit(bs, e, 100);
        QCOMPARE(why.isEmpty(), ok);
        if (!ok) {
            QCOMPARE(bs, before);
            return;
        }
        QVERIFY(std::is_sorted(bs.begin(), bs.end(), [](auto& a, auto& b) { return a.offset < b.offset; }));
        QVERIFY(ui::applyEdit(bs, ui::inverseEdit(before, e), 100).isEmpty());
        QCOMPARE(bs, before);
    }

    // Issue 15 item 6: cuts below the threshold (depth refinement) are their own series, with an
    // explanation; they follow the threshold as it moves.
    void scoreChartSeparatesRefinedCuts()
    {
        ui::ScoreChart chart;
        const std::vector<segment::Candidate> candidates{{10, 1, 0}, {20, 2, 0}, {30, 3, 0}};
        const std::vector<double> scores{0.9, 0.2, 0.7};
        const std::vector<std::size_t> lineStarts{0, 10, 20, 30};
        const std::vector<Boundary> chosen{{10, 1}, {20, 1}, {30, 1}};
        chart.setThreshold(0.5);
        chart.setData(candidates, scores, lineStarts, chosen, {});
        QCOMPARE(chart.cutCount(), 2);
        QCOMPARE(chart.refinedCutCount(), 1);
        QVERIFY(chart.toolTip().contains(QStringLiteral("depth refinement")));
        chart.setThreshold(0.8);
        QCOMPARE(chart.refinedCutCount(), 2);
        chart.setThreshold(std::nullopt); // decoders without a threshold: every cut is a cut
        QCOMPARE(chart.refinedCutCount(), 0);
        QCOMPARE(chart.cutCount(), 3);
    }

    // Issue 14: the minimum block size is on every granularity page, not only "Target size", and
    // the one set on the threshold page reaches the segmentation and holds there.
    void theMinimumBlockSizeIsOnEveryPage()
    {
        ui::SegmenterPanel panel;
        std::optional<ui::SegmentRequest> emitted;
        connect(&panel, &ui::SegmenterPanel::requestChanged, this, [&](const ui::SegmentRequest& r) { emitted = r; });
        panel.setThreshold(0.3);
        QVERIFY(panel.currentRequest().options.granularity.mode == segment::GranularityMode::Threshold);
        QVERIFY(!panel.currentRequest().options.granularity.minTokens); // the segmenter's own at first
        auto* onThreshold = panel.findChild<QSpinBox*>(QStringLiteral("thresholdMinTokens"));
        QVERIFY(onThreshold);
        QVERIFY2(onThreshold->specialValueText().contains(QString::number(segment::kDefaultMinTokens)),
                 qPrintable(onThreshold->specialValueText())); // hybrid: the structural default, in numbers
        onThreshold->setValue(60);
        QVERIFY(emitted);
        const auto last = emitted->options.granularity;
        QVERIFY(last.mode == segment::GranularityMode::Threshold);
        QVERIFY(last.minTokens && *last.minTokens == 60);
        for (const char* page : {"defaultMinTokens", "targetMinTokens", "blocksMinTokens"}) {
            auto* other = panel.findChild<QSpinBox*>(QLatin1String(page));
            QVERIFY2(other && other->value() == 60, page);
        }

        // Segmented with that request: no block under 60 tokens but the last (which has nothing
        // after it to join); with the segmenter's own minimum there are such blocks, so the
        // setting is what made the difference.
        const auto doc = std::make_shared<const Document>(loadDocument(BLOCKLENS_SOURCE_DIR "/resources/demo/block-attention.md"));
        const auto grid = std::make_shared<const segment::TokenGrid>(segment::TokenGrid::approximate(*doc));
        auto smallBlocks = [&](const ui::SegmentRequest& request) {
            const ui::SegmentResult r = ui::runSegmentation(doc, grid, request);
            if (!r.error.isEmpty())
                qWarning("%s", qPrintable(r.error));
            int small = 0;
            for (std::size_t i = 0; i + 1 < r.segmentation.blocks.size(); ++i)
                small += r.segmentation.blocks[i].tokens() < 60 ? 1 : 0;
            return r.error.isEmpty() && !r.segmentation.blocks.empty() ? small : -1;
        };
        QCOMPARE(smallBlocks(panel.currentRequest()), 0);
        panel.setMinimumTokens(0);
        QVERIFY(!panel.currentRequest().options.granularity.minTokens);
        QVERIFY(smallBlocks(panel.currentRequest()) > 0);
    }
};

QTEST_MAIN(TestModels)
#include "test_models.moc"
