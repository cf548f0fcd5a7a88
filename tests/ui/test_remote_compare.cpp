// The app's remote backend (issue 22): the real main window, offscreen, drives the side by side
// through `blocklens-cli serve` processes started here. Over a BlockLens server the numbers and
// texts are the engine's (as a local run of the same model gives them) and the runs are recorded
// in the local workspace with the server's address and the model's fingerprint; over a plain
// OpenAI server (--no-extensions) only the full-attention column runs and the view says why.
#include "annotation/annotation_session.hpp"
#include "inference/compare_view.hpp"
#include "inference/inference_worker.hpp"
#include "inference/model_panel.hpp"
#include "inference/run_format.hpp"
#include "inference_fixture.hpp"
#include "main_window.hpp"
#include "store/store.hpp"
#include "support/serve_process.hpp"

#include <QAction>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>

using namespace blocklens;
using namespace blocklens::ui;
using namespace blocklens::ui::display;

namespace {

constexpr const char* kQuery = "What does block attention cache?";

QString demoModel()
{
    return QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/models/demo");
}

} // namespace

class TestRemoteCompare : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("BlockLensTests"));
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(tmp_.isValid());
    }

    void sideBySideOverABlockLensServer()
    {
        test::ServeProcess server({QStringLiteral("--model"), demoModel()});
        QVERIFY2(server.ok(), server.error().c_str());
        const QString workspace = tmp_.filePath(QStringLiteral("ws.sqlite"));
        MainWindow window(workspace);
        window.show();
        QSignalSpy loaded(window.inferenceWorker(), &InferenceWorker::modelLoaded);
        window.modelPanel()->connectToServer(QString::fromStdString(server.url()));
        QVERIFY(loaded.wait(30000));
        const ModelInfo info = *window.inferenceWorker()->model();
        QCOMPARE(info.server, QString::fromStdString(server.url()));
        QVERIFY(info.blockAttention);
        const engine::ModelBundle demo = engine::loadModelBundle(engine::readModelFiles(demoModel().toStdString()));
        QCOMPARE(info.fingerprint.toStdString(), demo.model.fingerprint());

        openDocument(window);
        window.compareView()->setQuery(QString::fromLatin1(kQuery));
        window.compareView()->setMaxNewTokens(6);
        QSignalSpy shown(window.compareView(), &CompareView::comparisonShown);
        QSignalSpy tokens(window.inferenceWorker(), &InferenceWorker::tokenStreamed);
        window.action(QStringLiteral("runComparison"))->trigger();
        QVERIFY(shown.wait(120000));
        QVERIFY(tokens.count() >= 2); // streamed as the server generated them

        const CompareReport& report = *window.compareView()->lastReport();
        std::vector<std::size_t> cuts;
        for (const auto& b : window.annotation()->boundaries())
            cuts.push_back(b.offset);
        const test::DirectComparison d =
            test::runDirectComparison(demoModel().toStdString(), *window.annotation()->document(), cuts, kQuery, 6);
        QCOMPARE(report.input.ids, d.ids);
        QCOMPARE(report.input.blocks, d.blocks);
        QCOMPARE(report.full.logits.values, d.full.logits.values);
        QCOMPARE(report.block.logits.values, d.block.logits.values);
        auto shows = [&](const char* name) { return window.compareView()->labelText(QLatin1String(name)); };
        QCOMPARE(shows("meanKl"), QStringLiteral("%1 (%2)").arg(formatKl(d.cmp.meanKl), formatKl(d.cmp.maxKl)));
        QCOMPARE(shows("top1Agreement"), formatPercent(d.cmp.top1Agreement));
        QCOMPARE(shows("blockFlops"), formatFlops(d.block.stats.prefillFlops.total()));
        QCOMPARE(window.compareView()->streamedText(CompareColumn::Full), QString::fromStdString(d.fullText));
        QCOMPARE(window.compareView()->streamedText(CompareColumn::Block), QString::fromStdString(d.blockText));
        QVERIFY2(report.recorded, qPrintable(report.recordError));

        // Recorded locally: the server's model by fingerprint, the server's address with it.
        auto store = store::Store::open(workspace.toStdString());
        const auto runs = store.listRuns();
        QCOMPARE(runs.size(), std::size_t{2});
        for (const auto& run : runs) {
            QCOMPARE(run.modelHash, demo.model.fingerprint());
            QVERIFY2(run.software.find(server.url()) != std::string::npos, run.software.c_str());
        }
    }

    void plainOpenAiServerRunsFullAttentionOnly()
    {
        test::ServeProcess server({QStringLiteral("--model"), demoModel(), QStringLiteral("--no-extensions")});
        QVERIFY2(server.ok(), server.error().c_str());
        MainWindow window(tmp_.filePath(QStringLiteral("ws2.sqlite")));
        window.show();
        QSignalSpy loaded(window.inferenceWorker(), &InferenceWorker::modelLoaded);
        window.modelPanel()->connectToServer(QString::fromStdString(server.url()));
        QVERIFY(loaded.wait(30000));
        QVERIFY(!window.inferenceWorker()->model()->blockAttention);

        openDocument(window);
        window.compareView()->setMaxNewTokens(6);
        QSignalSpy shown(window.compareView(), &CompareView::comparisonShown);
        window.action(QStringLiteral("runComparison"))->trigger();
        QVERIFY(shown.wait(120000));
        const CompareReport& report = *window.compareView()->lastReport();
        QVERIFY(!report.blockUnavailable.isEmpty());
        QVERIFY(!report.fullText.isEmpty());
        QVERIFY(report.full.stats.ttftMs > 0);
        QCOMPARE(window.compareView()->streamedText(CompareColumn::Full), report.fullText);
        QVERIFY(window.compareView()->labelText(QStringLiteral("fullTtft")) != QStringLiteral("—"));
        QCOMPARE(window.compareView()->labelText(QStringLiteral("blockTtft")), QStringLiteral("—"));
        QVERIFY2(window.compareView()->statusText().contains(QStringLiteral("needs a BlockLens server")),
                 qPrintable(window.compareView()->statusText()));
    }

private:
    void openDocument(MainWindow& window)
    {
        QSignalSpy segmented(&window, &MainWindow::segmentationShown);
        window.openPath(QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/demo/block-attention.md"));
        QVERIFY(segmented.wait(30000));
        QVERIFY(window.annotation()->boundaries().size() >= 2);
    }

    QTemporaryDir tmp_;
};

QTEST_MAIN(TestRemoteCompare)
#include "test_remote_compare.moc"
