// Issue 19 item 4, block distillation in the app: the Model panel offers every bundled model by
// name (README's first line as tooltip); the side by side puts a second model's block attention
// beside the loaded model's full and block attention, with its KL and top-1 agreement measured
// against the LOADED model's full attention (checked here against separate runs of the engine);
// a second model with another tokenizer is refused in one line naming both files, the previous
// result staying on screen; presentation mode ends with the block-distilled model beside, or
// says in its caption why the step is skipped.
#include "engine/metrics.hpp"
#include "engine/model_bundle.hpp"
#include "engine/run_record.hpp"
#include "inference/bundled_models.hpp"
#include "inference/demo_model.hpp"
#include "inference/compare_view.hpp"
#include "inference/inference_worker.hpp"
#include "inference/model_panel.hpp"
#include "inference/other_model_picker.hpp"
#include "inference/presentation_mode.hpp"
#include "inference/run_format.hpp"
#include "inference_fixture.hpp"
#include "side_by_side_steps.hpp"
#include "main_window.hpp"
#include "annotation/annotation_session.hpp"
#include "store/store.hpp"
#include "usecases/model_comparison.hpp"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QGroupBox>
#include <QLineEdit>
#include <QSignalSpy>
#include <QtTest>

#include <filesystem>

using namespace blocklens;
using namespace blocklens::ui;
using namespace blocklens::ui::display;

namespace {

constexpr const char* kQuery = "What does block attention cache?";
constexpr int kNewTokens = 4;

void writeReadme(const std::filesystem::path& dir, const QString& text)
{
    QFile f(QString::fromStdString((dir / "README.md").string()));
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(text.toUtf8());
}

QString qstr(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }

} // namespace

class TestDistilledView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("BlockLensTests"));
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(tmp_.isValid());
        // The "bundled" models of this test: a base and its block-distilled counterpart beside it
        // (other weights, same tokenizer), found through $BLOCKLENS_MODELS_DIR.
        const std::filesystem::path root = std::filesystem::path(tmp_.path().toStdString()) / "models";
        std::filesystem::create_directories(root);
        baseDir_ = test::makeTestModel(tmp_, "models/tiny-llama", 7);
        distilledDir_ = test::makeTestModel(tmp_, "models/tiny-llama-block-distilled", 8);
        writeReadme(baseDir_, QStringLiteral("# Tiny test model\n\nRandom weights.\n"));
        writeReadme(distilledDir_, QStringLiteral("---\nlicense: mit\n---\n\n## Tiny test model, block-distilled\n"));
        qputenv("BLOCKLENS_MODELS_DIR", root.string().c_str());
        // A model alone (no block-distilled counterpart), outside the bundled models.
        loneDir_ = test::makeTestModel(tmp_, "lone-model", 9);
        docPath_ = QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/demo/block-attention.md");
    }

    void modelPanelOffersEveryBundledModel()
    {
        InferenceWorker worker;
        ModelPanel panel(&worker);
        auto* source = panel.findChild<QComboBox*>(QStringLiteral("modelSource"));
        QVERIFY(source);
        auto indexOf = [source](const QString& name) {
            for (int i = 0; i < source->count(); ++i)
                if (source->itemText(i) == name)
                    return i;
            return -1;
        };
        const int base = indexOf(QStringLiteral("tiny-llama"));
        const int distilled = indexOf(QStringLiteral("tiny-llama-block-distilled"));
        QVERIFY(base >= 0 && distilled >= 0);
        QCOMPARE(source->itemData(base, Qt::ToolTipRole).toString(), QStringLiteral("Tiny test model"));
        QCOMPARE(source->itemData(distilled, Qt::ToolTipRole).toString(), QStringLiteral("Tiny test model, block-distilled"));
        // The demo model, when this build has one, comes first; a directory is still offered, last.
        if (const QString demo = findDemoModel(); !demo.isEmpty())
            QCOMPARE(QFileInfo(source->itemData(0).toString()).canonicalFilePath(), QFileInfo(demo).canonicalFilePath());
        QCOMPARE(source->itemData(source->count() - 1).toString(), QString());
        QVERIFY(indexOf(QStringLiteral("lone-model")) < 0); // not under the models directory

        // Choosing one fills the directory; a directory that is a bundled model selects it.
        source->setCurrentIndex(distilled);
        QCOMPARE(QFileInfo(panel.directory()).canonicalFilePath(), QFileInfo(qstr(distilledDir_)).canonicalFilePath());
        panel.setDirectory(qstr(baseDir_));
        QCOMPARE(source->currentIndex(), base);
        panel.setDirectory(qstr(loneDir_));
        QCOMPARE(source->currentIndex(), source->count() - 1);

        // The side by side's second model offers the same models.
        OtherModelPicker picker;
        QCOMPARE(picker.directory(), QString());
        QVERIFY(picker.combo()->findText(QStringLiteral("tiny-llama-block-distilled")) > 0);
        QCOMPARE(findDistilledModel(qstr(baseDir_)), QFileInfo(qstr(distilledDir_)).canonicalFilePath());
        QCOMPARE(findDistilledModel(qstr(loneDir_)), QString());
        // Also by the other names train-block's output goes by (demo-distill beside demo).
        const std::filesystem::path solo = std::filesystem::path(tmp_.path().toStdString()) / "solo";
        for (const auto& dir : {solo, std::filesystem::path(solo.string() + "-distill")}) {
            std::filesystem::create_directories(dir);
            std::filesystem::copy_file(baseDir_ / "config.json", dir / "config.json");
        }
        QCOMPARE(findDistilledModel(qstr(solo)), QFileInfo(qstr(solo) + QStringLiteral("-distill")).canonicalFilePath());
    }

    // The third column is the second model's block attention, measured against the loaded
    // model's full attention: the same numbers as separate engine runs of the two models.
    void secondModelRunsBesideAgainstTheSameReference()
    {
        const QString workspace = tmp_.filePath(QStringLiteral("ws-beside.sqlite"));
        MainWindow window(workspace);
        window.show();
        window.loadModel(qstr(baseDir_));
        openDocument(window);
        CompareView* view = window.compareView();
        prepare(view);
        QVERIFY(!view->findChild<QGroupBox*>(QStringLiteral("otherColumn"))->isVisible());
        view->otherModelPicker()->setDirectory(qstr(distilledDir_));
        QVERIFY(runAndWait(window));
        const auto& report = *view->lastReport();
        QVERIFY(report.other.has_value());
        QCOMPARE(report.other->name, QStringLiteral("tiny-llama-block-distilled"));

        // Independently: the base model under full attention, the other under block-cached.
        const auto baseBundle = engine::loadModelBundle(engine::readModelFiles(baseDir_, std::nullopt, engine::TokenizerNeed::Required));
        const auto otherBundle = engine::loadModelBundle(engine::readModelFiles(distilledDir_, std::nullopt, engine::TokenizerNeed::Required));
        const Tokenizer& tok = *baseBundle.tokenizer;
        std::vector<std::size_t> cuts;
        for (const auto& b : window.annotation()->boundaries())
            cuts.push_back(b.offset);
        const usecases::DocumentTokens tokens(tok, *window.annotation()->document());
        const auto input = usecases::comparisonInput(tokens, segment::tokenBlockStarts(tokens.grid(), cuts), tok, kQuery);
        usecases::ComparisonOptions options;
        options.maxNewTokens = kNewTokens;
        engine::RunRequest req = usecases::comparisonRequest(input, options);
        req.mode = engine::AttentionMode::Full;
        const engine::RunResult baseFull = engine::Runner(baseBundle.model).run(req);
        req.mode = engine::AttentionMode::BlockCached;
        const engine::RunResult otherBlock = engine::Runner(otherBundle.model).run(req);
        const engine::RunResult baseBlock = engine::Runner(baseBundle.model).run(req);
        const auto otherCmp = engine::compareRuns(baseFull, otherBlock, input.ids, input.blocks.back());
        const auto baseCmp = engine::compareRuns(baseFull, baseBlock, input.ids, input.blocks.back());
        // Different weights: the two block columns differ, so the check below tells them apart.
        QVERIFY(std::abs(otherCmp.meanKl - baseCmp.meanKl) > 1e-6);

        QVERIFY(view->findChild<QGroupBox*>(QStringLiteral("otherColumn"))->isVisible());
        QVERIFY(view->findChild<QGroupBox*>(QStringLiteral("otherColumn"))->title().contains(QStringLiteral("tiny-llama-block-distilled")));
        QCOMPARE(view->labelText(QStringLiteral("otherMeanKl")), QStringLiteral("%1 (%2)").arg(formatKl(otherCmp.meanKl), formatKl(otherCmp.maxKl)));
        QCOMPARE(view->labelText(QStringLiteral("otherTop1Agreement")), formatPercent(otherCmp.top1Agreement));
        QCOMPARE(view->labelText(QStringLiteral("meanKl")), QStringLiteral("%1 (%2)").arg(formatKl(baseCmp.meanKl), formatKl(baseCmp.maxKl)));
        QCOMPARE(report.other->block.generated, otherBlock.generated);
        QCOMPARE(view->streamedText(CompareColumn::OtherBlock), QString::fromStdString(tok.decode(otherBlock.generated, true)));
        QCOMPARE(view->labelText(QStringLiteral("otherFlops")), formatFlops(otherBlock.stats.prefillFlops.total()));

        // Recorded: the two runs of the loaded model and the second model's, with its divergence.
        QVERIFY(report.recorded);
        auto store = store::Store::open(workspace.toStdString());
        const auto runs = store.listRuns();
        QCOMPARE(runs.size(), std::size_t{3});
        const auto other = std::find_if(runs.begin(), runs.end(), [&](const store::RunRecord& r) { return r.modelHash == otherBundle.model.fingerprint(); });
        QVERIFY(other != runs.end());
        QVERIFY(other->logitKl && std::abs(*other->logitKl - otherCmp.meanKl) <= 1e-6 * std::max(1.0, otherCmp.meanKl));

        // Nothing beside again: two columns.
        view->otherModelPicker()->setDirectory({});
        QVERIFY(runAndWait(window));
        QVERIFY(!view->lastReport()->other);
        QVERIFY(!view->findChild<QGroupBox*>(QStringLiteral("otherColumn"))->isVisible());
    }

    // Another tokenizer.json: one line naming both files, and the result on screen stays.
    void anotherTokenizerIsRefused()
    {
        const std::filesystem::path odd = std::filesystem::path(tmp_.path().toStdString()) / "odd-tokenizer";
        std::filesystem::copy(baseDir_, odd, std::filesystem::copy_options::recursive);
        {
            QFile f(qstr(odd / "tokenizer.json"));
            QVERIFY(f.open(QIODevice::Append));
            f.write("\n"); // the same vocabulary, another file
        }
        MainWindow window;
        window.show();
        window.loadModel(qstr(baseDir_));
        openDocument(window);
        CompareView* view = window.compareView();
        prepare(view);
        QVERIFY(runAndWait(window));
        const auto before = view->lastReport()->comparison.meanKl;
        view->otherModelPicker()->setDirectory(qstr(odd));
        QSignalSpy failed(view, &CompareView::comparisonFailed);
        window.action(QStringLiteral("runComparison"))->trigger();
        QVERIFY(failed.wait(60000));
        const QString status = view->statusText();
        QVERIFY2(status.contains(qstr(baseDir_ / "tokenizer.json")) && status.contains(qstr(odd / "tokenizer.json")) &&
                     status.contains(QStringLiteral("share a tokenizer")),
                 qPrintable(status));
        QVERIFY(!status.contains(QLatin1Char('\n')));
        QCOMPARE(view->lastReport()->comparison.meanKl, before);
        QVERIFY(!view->lastReport()->other);
    }

    void presentationEndsWithTheDistilledModel()
    {
        MainWindow window;
        window.show();
        window.loadModel(qstr(baseDir_));
        openDocument(window);
        prepare(window.compareView());
        PresentationMode* pm = window.presentationMode();
        window.action(QStringLiteral("presentationMode"))->trigger();
        QCOMPARE(pm->steps().last(), QStringLiteral("distilled"));
        while (pm->step() + 1 < pm->steps().size())
            pm->next();
        QVERIFY(pm->caption().contains(QStringLiteral("Training for block attention")));
        QVERIFY(!pm->caption().contains(QStringLiteral("Skipped")));
        // Earlier steps may run a comparison too (the race): wait for the one with the model beside.
        QTRY_VERIFY_WITH_TIMEOUT(window.compareView()->lastReport() && window.compareView()->lastReport()->other &&
                                     !window.compareView()->isRunning(),
                                 200000);
        QCOMPARE(window.compareView()->lastReport()->other->name, QStringLiteral("tiny-llama-block-distilled"));
        QVERIFY(window.findChild<QDockWidget*>(QStringLiteral("compareDock"))->isVisible());
        QVERIFY(window.compareView()->findChild<QGroupBox*>(QStringLiteral("otherColumn"))->isVisible());
        pm->exit();
        QCOMPARE(window.compareView()->otherModelPicker()->directory(), QString()); // the choice as it was
    }

    void presentationSkipsTheStepWithoutADistilledModel()
    {
        MainWindow window;
        window.show();
        window.loadModel(qstr(loneDir_));
        openDocument(window);
        QTRY_VERIFY_WITH_TIMEOUT(window.inferenceWorker()->model().has_value(), 60000);
        PresentationMode* pm = window.presentationMode();
        window.action(QStringLiteral("presentationMode"))->trigger();
        QCOMPARE(pm->steps().last(), QStringLiteral("distilled"));
        // Straight to the last step (the earlier ones would start runs of their own).
        QSignalSpy failed(window.compareView(), &CompareView::comparisonFailed);
        while (pm->step() + 1 < pm->steps().size())
            pm->next();
        QVERIFY2(pm->caption().contains(QStringLiteral("Skipped")) && pm->caption().contains(QStringLiteral("lone-model-block-distilled")),
                 qPrintable(pm->caption()));
        QVERIFY(!window.compareView()->otherModelPicker()->directory().size());
        pm->exit();
        // The menu action says the same in the side by side, and starts nothing.
        window.action(QStringLiteral("compareDistilled"))->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 10000);
        QVERIFY(window.compareView()->statusText().contains(QStringLiteral("lone-model-block-distilled")));
    }

private:
    void prepare(CompareView* view) { test::prepareSideBySide(view, kQuery, kNewTokens); }
    bool runAndWait(MainWindow& window) { return test::runSideBySide(window, 120); }
    void openDocument(MainWindow& window) { QVERIFY(test::openAndSegment(window, docPath_)); }

    QTemporaryDir tmp_;
    std::filesystem::path baseDir_, distilledDir_, loneDir_;
    QString docPath_;
};

QTEST_MAIN(TestDistilledView)
#include "test_distilled_view.moc"
