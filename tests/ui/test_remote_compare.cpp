// The app's remote backend (issue 22): the real main window, offscreen, drives every view that
// runs a model through `blocklens-cli serve` processes started here. Over a BlockLens server the
// side by side's numbers and texts, the heatmap's capture and the repair chart's sweep are the
// engine's (as a local run of the same model gives them); the side by side is recorded in the
// local workspace with the server's address and the model's fingerprint; Cancel stops the
// server's work and keeps the previous chart; the server's tokenizer is fetched, so blocks are
// measured in the model's own tokens. Over a plain OpenAI server (--no-extensions) only the
// full-attention column runs and the views say why.
#include "analysis/attention_panel.hpp"
#include "annotation/annotation_session.hpp"
#include "engine/repairs.hpp"
#include "inference/compare_view.hpp"
#include "inference/inference_worker.hpp"
#include "inference/model_panel.hpp"
#include "inference/repair_chart.hpp"
#include "inference/repair_panel.hpp"
#include "inference/run_format.hpp"
#include "inference_fixture.hpp"
#include "main_window.hpp"
#include "net/client.hpp"
#include "segment/token_grid.hpp"
#include "segmentation_runner.hpp"
#include "side_by_side_steps.hpp"
#include "store/store.hpp"
#include "support/serve_process.hpp"

#include <QAction>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>

#include <algorithm>
#include <fstream>

using namespace blocklens;
using namespace blocklens::ui;
using namespace blocklens::ui::display;

namespace {

constexpr const char* kQuery = "What does block attention cache?";

QString demoModel()
{
    return QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/models/demo");
}

std::string readBytes(const QString& path)
{
    std::ifstream in(path.toStdString(), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The server's counters (net::RemoteClient::health): the block cache's misses count the blocks
// its runs encoded, so they measure how much work a request did there.
std::int64_t serverCacheMisses(const net::RemoteClient& client)
{
    return client.health()["cache"]["misses"].get<std::int64_t>();
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
        QVERIFY(connectTo(window, server));
        const ModelInfo info = *window.inferenceWorker()->model();
        QCOMPARE(info.server, QString::fromStdString(server.url()));
        QVERIFY(info.blockAttention);
        const engine::ModelBundle demo = engine::loadModelBundle(engine::readModelFiles(demoModel().toStdString()));
        QCOMPARE(info.fingerprint.toStdString(), demo.model.fingerprint());

        QVERIFY(test::openAndSegment(window, demoDocument()));
        window.compareView()->setQuery(QString::fromLatin1(kQuery));
        window.compareView()->setMaxNewTokens(6);
        QSignalSpy shown(window.compareView(), &CompareView::comparisonShown);
        QSignalSpy tokens(window.inferenceWorker(), &InferenceWorker::tokenStreamed);
        window.action(QStringLiteral("runComparison"))->trigger();
        QVERIFY(shown.wait(120000));
        QVERIFY(tokens.count() >= 2); // streamed as the server generated them

        const CompareReport& report = *window.compareView()->lastReport();
        const test::DirectComparison d =
            test::runDirectComparison(demoModel().toStdString(), *window.annotation()->document(), test::cutsOnScreen(window), kQuery, 6);
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
        // The KL sparkline names the query's tokens in the server's tokenizer (fetched), not by position.
        std::vector<QString> queryTokens;
        for (std::size_t i = static_cast<std::size_t>(d.blocks.back()); i < d.ids.size(); ++i)
            queryTokens.push_back(QString::fromStdString(demo.tokenizer->decode(std::vector<std::int32_t>{d.ids[i]}, true)));
        QVERIFY(report.queryTokenText == queryTokens);
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

    // Item 3: the server's tokenizer.json is fetched (byte for byte the model's), so the document
    // on screen is measured in the model's own tokens, as with a model loaded here.
    void blocksAreMeasuredInTheServersTokens()
    {
        test::ServeProcess server({QStringLiteral("--model"), demoModel()});
        QVERIFY2(server.ok(), server.error().c_str());
        MainWindow window(tmp_.filePath(QStringLiteral("ws-tokens.sqlite")));
        window.show();
        QVERIFY(test::openAndSegment(window, demoDocument()));
        QVERIFY(window.segmentationRunner()->grid());
        QCOMPARE(QString::fromStdString(window.segmentationRunner()->grid()->unit()), QStringLiteral("approx-tokens"));
        QSignalSpy segmented(&window, &MainWindow::segmentationShown);
        QVERIFY(connectTo(window, server));
        const ModelInfo info = *window.inferenceWorker()->model();
        QVERIFY(!info.tokenizerFile.isEmpty());
        QVERIFY2(!info.tokenizerFile.startsWith(demoModel()), qPrintable(info.tokenizerFile)); // a copy here, not the server's file
        const QString served = demoModel() + QStringLiteral("/tokenizer.json");
        QVERIFY(readBytes(info.tokenizerFile) == readBytes(served));

        QTRY_VERIFY_WITH_TIMEOUT(!segmented.isEmpty(), 30000);
        const auto grid = window.segmentationRunner()->grid();
        QVERIFY(grid);
        QCOMPARE(QString::fromStdString(grid->unit()), QStringLiteral("tokens"));
        const Document& doc = *window.annotation()->document();
        const Tokenizer tok = Tokenizer::fromFile(served.toStdString());
        const auto expected = segment::TokenGrid::fromEncoding(tok.encode(doc.text()), doc.length(), "tokens").size();
        QCOMPARE(grid->size(), expected);
        QVERIFY(expected != segment::TokenGrid::approximate(doc).size()); // the test can tell them apart
    }

    // The heatmap's capture over the server equals the one of the same model loaded here: the
    // same bins, tokens and attention mass, float for float.
    void heatmapOverTheServerEqualsTheLocalCapture()
    {
        test::ServeProcess server({QStringLiteral("--model"), demoModel()});
        QVERIFY2(server.ok(), server.error().c_str());
        MainWindow window(tmp_.filePath(QStringLiteral("ws-heatmap.sqlite")));
        window.resize(1400, 900);
        window.show();
        QVERIFY(test::openAndSegment(window, demoDocument()));
        QSignalSpy segmented(&window, &MainWindow::segmentationShown);
        QVERIFY(connectTo(window, server));
        QTRY_VERIFY_WITH_TIMEOUT(!segmented.isEmpty(), 30000); // in the server's tokens now
        // The capture is sized (bins kept within the heatmap's budget) by the model's heads, which the server says.
        const engine::ModelBundle demo = engine::loadModelBundle(engine::readModelFiles(demoModel().toStdString()));
        QCOMPARE(window.inferenceWorker()->model()->config.numHeads, demo.config().numHeads);
        const AttentionAnalysis there = analyse(window);

        segmented.clear();
        QSignalSpy loaded(window.inferenceWorker(), &InferenceWorker::modelLoaded);
        window.loadModel(demoModel());
        QVERIFY(loaded.wait(60000));
        QVERIFY(window.inferenceWorker()->model()->server.isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(!segmented.isEmpty(), 30000);
        const AttentionAnalysis here = analyse(window);

        QVERIFY(!here.capture.empty());
        QCOMPARE(there.capture.tokens(), here.capture.tokens());
        QCOMPARE(there.capture.binStarts(), here.capture.binStarts());
        QVERIFY(there.spans == here.spans);
        const engine::AttentionMass &a = there.capture.mass(), &b = here.capture.mass();
        QCOMPARE(a.layers, b.layers);
        QCOMPARE(a.heads, b.heads);
        QCOMPARE(a.rows, b.rows);
        QCOMPARE(a.byBlock, b.byBlock);
        QVERIFY(!b.values.empty());
        QVERIFY(a.values == b.values);
        QCOMPARE(there.current.starts, here.current.starts);
    }

    // The repair chart over the server: core's sweep of the document on screen (KL, top-1 and
    // FLOPs as engine::runRepairSweep gives them here), progress setting by setting.
    void repairChartOverTheServerEqualsCoresSweep()
    {
        test::ServeProcess server({QStringLiteral("--model"), demoModel()});
        QVERIFY2(server.ok(), server.error().c_str());
        MainWindow window(tmp_.filePath(QStringLiteral("ws-repairs.sqlite")));
        RepairPanel* panel = openForRepairs(window, server);
        QVERIFY(panel);
        QSignalSpy shown(panel, &RepairPanel::sweepShown);
        QSignalSpy failed(panel, &RepairPanel::sweepFailed);
        QSignalSpy progress(window.inferenceWorker(), &InferenceWorker::runProgress);
        window.action(QStringLiteral("repairChart"))->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() || !failed.isEmpty(), 300000);
        QVERIFY2(failed.isEmpty(), qPrintable(panel->statusText()));

        // Progress counted the reference and then each setting as the server finished it.
        const auto family = engine::repairSweepFamily();
        std::vector<qint64> done;
        for (const auto& args : progress) {
            QCOMPARE(args.at(2).toLongLong(), static_cast<qint64>(family.size()) + 1);
            done.push_back(args.at(1).toLongLong());
        }
        QVERIFY(std::is_sorted(done.begin(), done.end()));
        QCOMPARE(done.size(), family.size() + 2);
        QCOMPARE(done.back(), static_cast<qint64>(family.size()) + 1);

        const SweepReport report = *panel->lastReport();
        const auto rows = test::runDirectSweep(demoModel().toStdString(), *window.annotation()->document(), test::cutsOnScreen(window), kQuery);
        QCOMPARE(report.points.size(), rows.size());
        int plotted = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const SweepPoint& p = report.points[i];
            QCOMPARE(p.name, QString::fromStdString(engine::variantName(rows[i].variant)));
            QCOMPARE(p.skipped, rows[i].skipped ? QString::fromStdString(*rows[i].skipped) : QString());
            if (rows[i].skipped)
                continue;
            ++plotted;
            QCOMPARE(p.meanKl, rows[i].comparison.meanKl);
            QCOMPARE(p.maxKl, rows[i].comparison.maxKl);
            QCOMPARE(p.top1Agreement, rows[i].comparison.top1Agreement);
            QCOMPARE(p.extraWarm, rows[i].extraWarm);
            QCOMPARE(p.extraCold, rows[i].extraCold);
        }
        QVERIFY(plotted >= 10);
        QCOMPARE(panel->chart()->chart()->series().size(), 3);
    }

    // Cancel while the server sweeps: the server stops (less work than a whole sweep, its queue
    // idle and the request counted cancelled) and the previous chart stays on screen.
    void cancelStopsTheServersWorkAndKeepsTheChart()
    {
        test::ServeProcess server({QStringLiteral("--model"), demoModel()});
        QVERIFY2(server.ok(), server.error().c_str());
        const net::RemoteClient client({server.url(), ""});
        MainWindow window(tmp_.filePath(QStringLiteral("ws-cancel.sqlite")));
        RepairPanel* panel = openForRepairs(window, server);
        QVERIFY(panel);
        QSignalSpy shown(panel, &RepairPanel::sweepShown);
        QSignalSpy failed(panel, &RepairPanel::sweepFailed);

        // A whole sweep first: the chart to keep, and the work a sweep does on the server.
        const std::int64_t beforeWhole = serverCacheMisses(client);
        panel->run();
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() || !failed.isEmpty(), 300000);
        QVERIFY2(failed.isEmpty(), qPrintable(panel->statusText()));
        const std::int64_t whole = serverCacheMisses(client) - beforeWhole;
        QVERIFY(whole > 0);
        const SweepReport kept = *panel->lastReport();
        const int cancelledBefore = client.health()["queue"]["cancelled"].get<int>();

        // Cancelled once the server has finished its first setting (progress: the reference, then settings).
        const std::int64_t beforeCancelled = serverCacheMisses(client);
        QVERIFY(test::sweepAndCancel(window, panel, 2, 300));
        QVERIFY2(panel->statusText().startsWith(QStringLiteral("Cancelled")), qPrintable(panel->statusText()));

        // The server stopped part way.
        QTRY_VERIFY_WITH_TIMEOUT(!client.health()["queue"]["running"].get<bool>(), 30000);
        const std::int64_t partial = serverCacheMisses(client) - beforeCancelled;
        QVERIFY2(partial < whole, qPrintable(QStringLiteral("%1 blocks encoded after the cancel, %2 by a whole sweep").arg(partial).arg(whole)));
        QCOMPARE(client.health()["queue"]["cancelled"].get<int>(), cancelledBefore + 1);

        // The previous chart stays.
        QCOMPARE(panel->chart()->chart()->series().size(), 3);
        QCOMPARE(panel->lastReport()->points.size(), kept.points.size());
        for (std::size_t i = 0; i < kept.points.size(); ++i)
            QCOMPARE(panel->lastReport()->points[i].meanKl, kept.points[i].meanKl);
    }

    void plainOpenAiServerRunsFullAttentionOnly()
    {
        test::ServeProcess server({QStringLiteral("--model"), demoModel(), QStringLiteral("--no-extensions")});
        QVERIFY2(server.ok(), server.error().c_str());
        MainWindow window(tmp_.filePath(QStringLiteral("ws2.sqlite")));
        window.show();
        QVERIFY(connectTo(window, server));
        QVERIFY(!window.inferenceWorker()->model()->blockAttention);
        QVERIFY(window.inferenceWorker()->model()->tokenizerFile.isEmpty()); // nothing to fetch from it

        QVERIFY(test::openAndSegment(window, demoDocument()));
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

        // The repair chart says the same, in one line.
        auto* panel = window.findChild<RepairPanel*>(QStringLiteral("repairPanel"));
        QSignalSpy failed(panel, &RepairPanel::sweepFailed);
        panel->run();
        QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 30000);
        QVERIFY2(panel->statusText().contains(QStringLiteral("needs a BlockLens server")), qPrintable(panel->statusText()));
        QVERIFY(!panel->lastReport());
    }

private:
    static QString demoDocument() { return QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/demo/block-attention.md"); }

    // Connects the Model panel to `server`; false when no model came.
    static bool connectTo(MainWindow& window, const test::ServeProcess& server)
    {
        QSignalSpy loaded(window.inferenceWorker(), &InferenceWorker::modelLoaded);
        window.modelPanel()->connectToServer(QString::fromStdString(server.url()));
        return loaded.wait(30000) && window.inferenceWorker()->model();
    }

    // Connected to `server`, the demo document open with the side by side's query: the repair
    // chart's panel, or null when something did not come.
    RepairPanel* openForRepairs(MainWindow& window, const test::ServeProcess& server)
    {
        window.show();
        if (!connectTo(window, server) || !test::openAndSegment(window, demoDocument()))
            return nullptr;
        test::prepareSideBySide(window.compareView(), kQuery, 4);
        return window.findChild<RepairPanel*>(QStringLiteral("repairPanel"));
    }

    // Analyse (the heatmap) on the document on screen, waiting for its capture.
    AttentionAnalysis analyse(MainWindow& window)
    {
        QSignalSpy shown(&window, &MainWindow::attentionShown);
        QSignalSpy failed(&window, &MainWindow::attentionFailed);
        window.action(QStringLiteral("analyseAttention"))->trigger();
        for (int i = 0; i < 1200 && shown.isEmpty() && failed.isEmpty(); ++i)
            shown.wait(100);
        if (!failed.isEmpty())
            qWarning("the heatmap failed: %s", qPrintable(failed.first().first().toString()));
        return shown.isEmpty() ? AttentionAnalysis{} : window.attentionPanel()->analysis();
    }

    QTemporaryDir tmp_;
};

QTEST_MAIN(TestRemoteCompare)
#include "test_remote_compare.moc"
