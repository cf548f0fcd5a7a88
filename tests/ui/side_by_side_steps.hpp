#pragma once
// Steps the app's side-by-side tests share (test_compare_view, test_repair_view,
// test_distilled_view, test_remote_compare): open a document and wait for its blocks, set up a
// short cold-cache comparison, run it and wait for its outcome; cancel a repair sweep part way.
#include "annotation/annotation_session.hpp"
#include "inference/compare_view.hpp"
#include "inference/inference_worker.hpp"
#include "inference/repair_panel.hpp"
#include "main_window.hpp"

#include <QAction>
#include <QCheckBox>
#include <QSignalSpy>

#include <vector>

namespace blocklens::test {

// Opens `path` and waits for its segmentation; false when it did not come or gave fewer than 2 boundaries.
inline bool openAndSegment(ui::MainWindow& window, const QString& path)
{
    QSignalSpy segmented(&window, &ui::MainWindow::segmentationShown);
    window.openPath(path);
    return segmented.wait(30000) && window.annotation()->boundaries().size() >= 2;
}

// The workbench's boundaries as code-point cuts: what the app runs the document on screen with.
inline std::vector<std::size_t> cutsOnScreen(ui::MainWindow& window)
{
    std::vector<std::size_t> cuts;
    for (const auto& b : window.annotation()->boundaries())
        cuts.push_back(b.offset);
    return cuts;
}

// The query, the continuation's length, and "Empty cache first" (each run a cold start).
inline void prepareSideBySide(ui::CompareView* view, const char* query, int newTokens)
{
    view->setQuery(QString::fromLatin1(query));
    view->setMaxNewTokens(newTokens);
    view->findChild<QCheckBox*>(QStringLiteral("compareColdCache"))->setChecked(true);
}

// Run Side by Side, waiting up to `seconds` for the result; false (and the status logged) when it failed.
inline bool runSideBySide(ui::MainWindow& window, int seconds = 60)
{
    QSignalSpy shown(window.compareView(), &ui::CompareView::comparisonShown);
    QSignalSpy failed(window.compareView(), &ui::CompareView::comparisonFailed);
    window.action(QStringLiteral("runComparison"))->trigger();
    for (int i = 0; i < seconds * 10 && shown.isEmpty() && failed.isEmpty(); ++i)
        shown.wait(100);
    if (!failed.isEmpty())
        qWarning("comparison failed: %s", qPrintable(window.compareView()->statusText()));
    return !shown.isEmpty();
}

// Starts the repair chart's sweep and presses Cancel at the first progress that counts at least
// `done` steps, while it runs; waits up to `seconds` for its outcome. True when the cancel came
// while the sweep ran and it ended without a chart.
inline bool sweepAndCancel(ui::MainWindow& window, ui::RepairPanel* panel, qint64 done, int seconds = 60)
{
    QSignalSpy shown(panel, &ui::RepairPanel::sweepShown);
    QSignalSpy failed(panel, &ui::RepairPanel::sweepFailed);
    bool cancelledRunning = false;
    const auto once = QObject::connect(window.inferenceWorker(), &ui::InferenceWorker::runProgress, panel,
                                       [&](quint64, qint64 reached, qint64, const QString&) {
                                           if (!cancelledRunning && panel->isRunning() && reached >= done) {
                                               cancelledRunning = true;
                                               panel->cancel();
                                           }
                                       });
    panel->run();
    for (int i = 0; i < seconds * 10 && shown.isEmpty() && failed.isEmpty(); ++i)
        shown.wait(100);
    QObject::disconnect(once);
    return cancelledRunning && shown.isEmpty() && !failed.isEmpty();
}

} // namespace blocklens::test
