// Segment > Retrain in the real window, offscreen: the learned segmenter is retrained in the
// background on a tiny dataset plus the workspace's corrections, saved beside the workspace, used
// for the next segmentation, and a correction changes what the new model says; cancel works.
#include "annotation/annotation_session.hpp"
#include "dataset_browser.hpp"
#include "document_view.hpp"
#include "learn/boundary_model.hpp"
#include "learn/learned_scorer.hpp"
#include "learn/synthetic.hpp"
#include "main_window.hpp"
#include "retrain_controller.hpp"
#include "segmentation_runner.hpp"
#include "store/store.hpp"
#include "support/temp_files.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QAction>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTimer>
#include <QtTest>

#include <cmath>

using namespace blocklens;

namespace {

// The learned scores of a model on a document, per candidate offset.
std::vector<std::pair<std::size_t, double>> scores(const std::shared_ptr<const learn::BoundaryModel>& model, const Document& doc)
{
    const auto grid = segment::TokenGrid::approximate(doc);
    const auto scored = learn::learnedSegmenter(model).score(doc, grid);
    std::vector<std::pair<std::size_t, double>> out;
    for (std::size_t i = 0; i < scored.candidates.size(); ++i)
        out.emplace_back(scored.candidates[i].offset, scored.scores[i]);
    return out;
}

double scoreAt(const std::vector<std::pair<std::size_t, double>>& s, std::size_t offset)
{
    for (const auto& [o, v] : s)
        if (o == offset)
            return v;
    return std::nan("");
}

} // namespace

class TestRetrain : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("BlockLensTests"));
        QStandardPaths::setTestModeEnabled(true);
    }

    void retrainsWithACorrectionAndUsesTheNewModel()
    {
        QTemporaryDir dir;
        const auto dataset = test::writeFile(dir, "tiny.jsonl", test::syntheticDataset(40, 6));
        const QString workspace = dir.filePath(QStringLiteral("ws.blocklens"));
        ui::MainWindow window(workspace);
        window.show();
        QSignalSpy shown(&window, &ui::MainWindow::inputShown);
        window.openPath(QString::fromStdString(dataset.string()));
        QVERIFY(shown.wait(20000));
        ui::RetrainController* rc = window.retrainController();
        QVERIFY(rc);
        QAction* retrain = window.action(QStringLiteral("retrainSegmenter"));
        QVERIFY(retrain);

        // 1. Retrain without corrections.
        QSignalSpy finished(rc, &ui::RetrainController::finished);
        QSignalSpy progress(rc, &ui::RetrainController::progress);
        int ticks = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
        ticker.start(10);
        retrain->trigger();
        QVERIFY(rc->isRunning());
        QVERIFY(finished.wait(180000));
        ticker.stop();
        const ui::RetrainResult first = rc->lastResult();
        QVERIFY2(first.ok, qPrintable(first.error));
        QCOMPARE(first.corrected, std::size_t(0));
        QCOMPARE(first.documents, std::size_t(6));
        QVERIFY(std::isfinite(first.pkBefore) && std::isfinite(first.pkAfter));
        QVERIFY(progress.count() > 0);
        QVERIFY2(ticks > 5, "the event loop did not run while retraining"); // the UI thread was free
        QCOMPARE(first.modelPath, ui::retrainedModelPath(workspace));
        QVERIFY(QFileInfo(first.modelPath).absolutePath().startsWith(dir.path())); // beside the workspace
        QVERIFY(std::filesystem::exists(first.modelPath.toStdString()));
        // The banner shows the quality before and after.
        QVERIFY2(window.errorText().contains(QStringLiteral("Retrained the learned segmenter on 6 documents"))
                     && window.errorText().contains(QStringLiteral("before")) && window.errorText().contains(QStringLiteral("after")),
                 qPrintable(window.errorText()));
        // The learned segmenter in this window now uses the new model.
        const auto inUse = std::dynamic_pointer_cast<const learn::LearnedScorer>(
            window.segmentationRunner()->scorerOverride(QStringLiteral("learned")));
        QVERIFY(inUse);
        QCOMPARE(inUse->model(), first.model);

        // 2. A correction on the document on screen: a new boundary where the reference has none.
        const Document doc = test::syntheticDocument(40);
        const std::string& text = doc.text();
        std::size_t offset = 0;
        for (std::size_t at = text.find("\nand "); at != std::string::npos; at = text.find("\nand ", at + 1)) {
            const std::size_t candidate = at + 1;
            bool isBoundary = false;
            for (const auto& b : doc.reference())
                isBoundary = isBoundary || b.offset == candidate;
            if (!isBoundary && candidate > text.size() / 3) {
                offset = candidate; // ASCII: bytes are code points
                break;
            }
        }
        QVERIFY(offset > 0);
        const auto before = scores(first.model, doc);
        QVERIFY(window.annotation()->split(offset, 1));

        retrain->trigger();
        QVERIFY(finished.wait(180000));
        const ui::RetrainResult second = rc->lastResult();
        QVERIFY2(second.ok, qPrintable(second.error));
        QCOMPARE(second.corrected, std::size_t(1));
        QCOMPARE(second.documents, std::size_t(6)); // the corrected version replaced the dataset's
        const auto after = scores(second.model, doc);
        QCOMPARE(after.size(), before.size());
        double changed = 0;
        for (std::size_t i = 0; i < after.size(); ++i)
            changed += std::abs(after[i].second - before[i].second);
        QVERIFY2(changed > 1e-4, "the correction did not change the model's output");
        // The corrected place became a boundary in training: its score went up.
        QVERIFY2(scoreAt(after, offset) > scoreAt(before, offset),
                 qPrintable(QStringLiteral("%1 -> %2").arg(scoreAt(before, offset)).arg(scoreAt(after, offset))));
        // The file beside the workspace is the new model.
        const auto saved = learn::BoundaryModel::load(second.modelPath.toStdString());
        QCOMPARE(saved.training["documents"]["from_db"].get<int>(), 1);
    }

    void cancelStopsIt()
    {
        QTemporaryDir dir;
        const auto dataset = test::writeFile(dir, "tiny.jsonl", test::syntheticDataset(60, 6));
        const QString workspace = dir.filePath(QStringLiteral("ws.blocklens"));
        (void)store::Store::open(workspace.toStdString()); // an empty workspace
        ui::WorkspaceGateway gateway(workspace);              // outlives the retraining
        ui::RetrainController rc;
        QSignalSpy finished(&rc, &ui::RetrainController::finished);
        ui::RetrainRequest req;
        req.dataset = QString::fromStdString(dataset.string());
        req.workspace = &gateway;
        QVERIFY(rc.start(req));
        QVERIFY(!rc.start(req)); // one at a time
        rc.cancel();
        QVERIFY(finished.wait(60000));
        QVERIFY(!rc.lastResult().ok);
        QVERIFY(rc.lastResult().cancelled);
        QVERIFY(!QFileInfo::exists(ui::retrainedModelPath(workspace)));
    }
};

QTEST_MAIN(TestRetrain)
#include "test_retrain.moc"
