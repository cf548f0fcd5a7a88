#pragma once
// Steps the app's side-by-side tests share (test_compare_view, test_repair_view,
// test_distilled_view): open a document and wait for its blocks, set up a short cold-cache
// comparison, run it and wait for its outcome.
#include "annotation/annotation_session.hpp"
#include "inference/compare_view.hpp"
#include "main_window.hpp"

#include <QAction>
#include <QCheckBox>
#include <QSignalSpy>

namespace blocklens::test {

// Opens `path` and waits for its segmentation; false when it did not come or gave fewer than 2 boundaries.
inline bool openAndSegment(ui::MainWindow& window, const QString& path)
{
    QSignalSpy segmented(&window, &ui::MainWindow::segmentationShown);
    window.openPath(path);
    return segmented.wait(30000) && window.annotation()->boundaries().size() >= 2;
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

} // namespace blocklens::test
