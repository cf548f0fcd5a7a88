// The main window's segmentation side: the segmenter panel, the boundary score chart, live
// metrics, suggested boundaries, parallel tracks of other segmenters, and the review queue.
#include "main_window.hpp"

#include "annotation/annotation_session.hpp"
#include "dataset_browser.hpp"
#include "dock_scroll.hpp"
#if BLOCKLENS_WITH_TORCH
#include "inference/model_panel.hpp"
#endif
#include "metrics_panel.hpp"
#include "score_chart.hpp"
#include "segmenter_panel.hpp"
#include "stats_panel.hpp"
#include "theme.hpp"
#include "util/error.hpp"

#include <QAction>
#include <QApplication>
#include <QSettings>
#include <QDockWidget>
#include <QFileInfo>
#include <QMenu>
#include <QMenuBar>
#include <QStatusBar>
#include <QTableView>
#include <QtConcurrent>

#include <algorithm>

namespace blocklens::ui {
namespace {

std::vector<std::size_t> offsetsOf(const std::vector<Boundary>& bs)
{
    std::vector<std::size_t> out;
    out.reserve(bs.size());
    for (const auto& b : bs)
        out.push_back(b.offset);
    return out;
}

// Positions where two boundary lists differ (in one and not the other), ascending.
std::vector<std::size_t> disagreements(const std::vector<Boundary>& a, const std::vector<Boundary>& b)
{
    const auto x = offsetsOf(a), y = offsetsOf(b);
    std::vector<std::size_t> out;
    std::set_symmetric_difference(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(out));
    return out;
}

} // namespace

void MainWindow::buildSegmentDocks()
{
    segPanel_ = new SegmenterPanel;
    auto* segDock = new QDockWidget(tr("Segmenter"), this);
    segDock->setObjectName(QStringLiteral("segmenterDock"));
    segDock->setWidget(scrolledForDock(segPanel_));
    addDockWidget(Qt::RightDockWidgetArea, segDock);

    metrics_ = new MetricsPanel;
    auto* metricsDock = new QDockWidget(tr("Metrics"), this);
    metricsDock->setObjectName(QStringLiteral("metricsDock"));
    metricsDock->setWidget(scrolledForDock(metrics_));
    addDockWidget(Qt::RightDockWidgetArea, metricsDock);

    chart_ = new ScoreChart;
    auto* chartDock = new QDockWidget(tr("Boundary scores"), this);
    chartDock->setObjectName(QStringLiteral("chartDock"));
    chartDock->setWidget(chart_);
    addDockWidget(Qt::BottomDockWidgetArea, chartDock);

    viewMenu_->addAction(segDock->toggleViewAction());
    viewMenu_->addAction(metricsDock->toggleViewAction());
    viewMenu_->addAction(chartDock->toggleViewAction());
    viewMenu_->addSeparator();

    auto add = [this](QMenu* menu, const char* name, const QString& text, QList<QKeySequence> keys, auto&& slot) {
        QAction* a = menu->addAction(text);
        a->setObjectName(QLatin1String(name));
        a->setShortcuts(keys);
        connect(a, &QAction::triggered, this, slot);
        addAction(a);
        return a;
    };
    editMenu_->addSeparator();
    add(editMenu_, "acceptSuggestion", tr("&Accept Nearest Suggestion"), {QKeySequence(Qt::Key_A)}, [this] { acceptSuggestion(); });
    add(editMenu_, "rejectSuggestion", tr("Re&ject Nearest Suggestion"), {QKeySequence(Qt::Key_R)}, [this] { rejectSuggestion(); });
    add(editMenu_, "nextDisagreement", tr("Next &Disagreement"), {QKeySequence(Qt::Key_D)}, [this] { jumpToDisagreement(+1); });
    add(editMenu_, "previousDisagreement", tr("Previous Disagreement"), {QKeySequence(tr("Shift+D"))}, [this] { jumpToDisagreement(-1); });
    QAction* compare = add(viewMenu_, "compareSegmenters", tr("&Compare Segmenters as Tracks"), {QKeySequence(Qt::Key_C)}, [this] {
        comparing_ = !comparing_;
        compareTracks_.clear();
        if (comparing_)
            startComparison();
        updateTracks();
    });
    compare->setCheckable(true);
    // The menu choice is saved for later launches (a --dark or --light flag is for its run only).
    QAction* dark = add(viewMenu_, "darkTheme", tr("&Dark Theme"), {QKeySequence(tr("Ctrl+Shift+D"))}, [](bool on) {
        QApplication::setPalette(on ? darkPalette() : lightPalette());
        QSettings().setValue(QStringLiteral("darkTheme"), on);
    });
    dark->setCheckable(true);
    dark->setChecked(Theme::fromPalette(QApplication::palette()).dark); // the theme of this run

    QAction* tokens = add(viewMenu_, "showTokens", tr("Show &Token Boundaries"), {QKeySequence(Qt::Key_T)},
                          [this](bool on) { pane_->view()->setShowTokenBoundaries(on); });
    tokens->setCheckable(true);
    add(viewMenu_, "reviewQueue", tr("Review &Queue: Most Disagreement First"), {QKeySequence(tr("Ctrl+Shift+Q"))}, [this] { buildReviewQueue(); });

    connect(segPanel_, &SegmenterPanel::requestChanged, this, [this] { requestSegmentation(); });
    connect(&runner_, &SegmentationRunner::finished, this, &MainWindow::showSegmentation);
    connect(chart_, &ScoreChart::thresholdDragged, segPanel_, &SegmenterPanel::setThreshold);
    connect(chart_, &ScoreChart::jumpRequested, pane_, &DocumentPane::scrollToCodePoint);
    connect(&queueWatcher_, &QFutureWatcher<std::vector<double>>::finished, this, [this] {
        browser_->showReviewQueue(queueWatcher_.result());
        reviewQueue_ = true;
        statusBar()->showMessage(tr("Review queue ready: documents where the segmenter and the corrections disagree most come first"), 6000);
        if (browser_->proxy()->rowCount() > 0)
            browser_->table()->setCurrentIndex(browser_->proxy()->index(0, 0));
        Q_EMIT reviewQueueReady();
    });
    connect(&compareWatcher_, &QFutureWatcher<std::vector<Track>>::finished, this, [this] {
        if (compareDoc_ != session_->sharedDocument())
            return; // computed for a document no longer on screen
        compareTracks_ = compareWatcher_.result();
        updateTracks();
    });
}

void MainWindow::documentChanged()
{
    const Document* doc = session_->document();
    if (!doc)
        return;
    lineStarts_ = doc->lineStarts();
    rejected_.clear();
    suggestions_.clear();
    compareTracks_.clear();
    lastResult_ = {};
    chart_->clearData();
    metrics_->setDocument(*doc, doc->reference());
    annotators_ = otherAnnotators();
    updateComparisons();
    metrics_->update(session_->boundaries());
    pane_->view()->setSuggestions({});
    updateTracks();
    requestSegmentation();
    if (comparing_)
        startComparison();
}

std::vector<std::pair<QString, std::vector<Boundary>>> MainWindow::otherAnnotators()
{
    std::vector<std::pair<QString, std::vector<Boundary>>> out;
    const Document* doc = session_->document();
    if (workspace_.isEmpty() || !doc || !QFileInfo::exists(workspace_))
        return out;
    try {
        // A short-lived read-only connection: a few small queries, no writes.
        auto db = store::Store::open(workspace_.toStdString(), {.mode = store::OpenMode::ReadOnly, .quickCheck = false});
        const auto id = db.findDocument(doc->contentHash());
        if (!id)
            return out;
        for (const auto& v : db.segmentationHistory(*id)) {
            if (v.segmenter != "manual" || v.author.empty() || QString::fromStdString(v.author) == session_->author())
                continue;
            out.emplace_back(tr("%1 (%2)").arg(QString::fromStdString(v.author), QString::fromStdString(v.createdAt).left(10)),
                             db.boundaries(v.id));
        }
    } catch (const Error&) {
        // The comparison is a convenience: without the workspace, it lists only the segmenter.
    }
    return out;
}

void MainWindow::updateComparisons()
{
    std::vector<MetricsPanel::Comparison> options;
    const bool adopted = !current_.dataset && session_->undoStack()->count() == 0;
    if (lastResult_.document == session_->sharedDocument() && lastResult_.error.isEmpty() && !adopted)
        options.push_back({lastResult_.what.segmenter, lastResult_.boundaries});
    for (const auto& [name, boundaries] : annotators_)
        options.push_back({name, boundaries});
    metrics_->setComparisons(std::move(options));
}

void MainWindow::startComparison()
{
    auto shared = session_->sharedDocument();
    if (!shared)
        return;
    compareDoc_ = shared;
    compareWatcher_.setFuture(QtConcurrent::run([shared] {
        std::vector<Track> tracks;
        const auto grid = std::make_shared<const segment::TokenGrid>(segment::TokenGrid::approximate(*shared));
        for (const char* name : {"fixed", "structural", "texttiling"}) {
            SegmentRequest r;
            r.segmenter = QString::fromLatin1(name);
            tracks.push_back({QString::fromLatin1(name), runSegmentation(shared, grid, r).boundaries});
        }
        return tracks;
    }));
}

void MainWindow::requestSegmentation()
{
    if (auto doc = session_->sharedDocument())
        runner_.request(doc, segPanel_->currentRequest());
}

void MainWindow::showSegmentation(const SegmentResult& result)
{
    if (result.document != session_->sharedDocument())
        return; // the user moved on to another document
    if (!result.error.isEmpty()) {
        segPanel_->setStatus(result.error);
        return;
    }
    lastResult_ = result;
    if (runner_.grid() && runner_.grid()->textLength() == result.document->length()) {
        pane_->view()->setTokenGrid(runner_.grid());
#if BLOCKLENS_WITH_TORCH
        if (modelPanel_)
            modelPanel_->setDocumentTokens(static_cast<qint64>(runner_.grid()->size()));
#endif
    }
    const auto& blocks = result.segmentation.blocks;
    segPanel_->setStatus(tr("%1 blocks in %2 ms (%3)")
                             .arg(blocks.size())
                             .arg(result.milliseconds, 0, 'f', 1)
                             .arg(QString::fromStdString(result.segmentation.provenance.tokenUnit)));
    // A single document without corrections takes the segmenter's blocks as its own; once the
    // user has edited, or for a dataset (which has its reference), the result is a suggestion.
    const bool adopt = !current_.dataset && session_->undoStack()->count() == 0;
    if (adopt) {
        AnnotationSession::Origin origin;
        origin.segmenter = result.what.segmenter;
        origin.paramsJson = QString::fromStdString(result.segmentation.parametersJson());
        session_->start(session_->sharedDocument(), result.boundaries, origin);
        pane_->setBoundaries(session_->boundaries());
        stats_->setBlockCount(session_->boundaries().size() + 1);
    }
    const auto& spec = segmenterFor(result.what).spec();
    const auto& g = result.what.options.granularity;
    chart_->setThreshold(g.mode == segment::GranularityMode::Threshold ? g.threshold : spec.threshold);
    chart_->setData(result.scored.candidates, result.scored.scores, lineStarts_, result.boundaries,
                    session_->document()->reference());
    updateComparisons();
    updateSuggestions();
    updateTracks();
    refreshAfterEdit();
    if (pendingQueueJump_) {
        pendingQueueJump_ = false;
        QTextCursor c = pane_->view()->textCursor();
        c.setPosition(0);
        pane_->view()->setTextCursor(c);
        jumpToDisagreement(+1);
    }
    Q_EMIT segmentationShown();
}

void MainWindow::updateTracks()
{
    std::vector<Track> tracks;
    const Document* doc = session_->document();
    if (doc && !doc->reference().empty())
        tracks.push_back({tr("ref"), doc->reference()});
    if (!lastResult_.boundaries.empty() && (current_.dataset || session_->undoStack()->count() > 0))
        tracks.push_back({lastResult_.what.segmenter, lastResult_.boundaries});
    if (comparing_)
        tracks.insert(tracks.end(), compareTracks_.begin(), compareTracks_.end());
    pane_->setTracks(tracks);
}

void MainWindow::updateSuggestions()
{
    suggestions_.clear();
    if (!lastResult_.error.isEmpty() || lastResult_.document != session_->sharedDocument() ||
        (!current_.dataset && session_->undoStack()->count() == 0)) {
        pane_->view()->setSuggestions({});
        return;
    }
    const auto current = offsetsOf(session_->boundaries());
    for (const auto& b : lastResult_.boundaries)
        if (!std::binary_search(current.begin(), current.end(), b.offset) &&
            std::find(rejected_.begin(), rejected_.end(), b.offset) == rejected_.end())
            suggestions_.push_back(b.offset);
    pane_->view()->setSuggestions(suggestions_);
}

void MainWindow::acceptSuggestion()
{
    if (suggestions_.empty()) {
        statusBar()->showMessage(tr("No suggestions: the segmenter agrees with every boundary"), 3000);
        return;
    }
    const std::size_t caret = caretCodePoint();
    const auto nearest = *std::min_element(suggestions_.begin(), suggestions_.end(), [caret](std::size_t a, std::size_t b) {
        return (a > caret ? a - caret : caret - a) < (b > caret ? b - caret : caret - b);
    });
    if (session_->split(nearest, 1))
        pane_->scrollToCodePoint(nearest);
}

void MainWindow::rejectSuggestion()
{
    if (suggestions_.empty())
        return;
    const std::size_t caret = caretCodePoint();
    const auto nearest = *std::min_element(suggestions_.begin(), suggestions_.end(), [caret](std::size_t a, std::size_t b) {
        return (a > caret ? a - caret : caret - a) < (b > caret ? b - caret : caret - b);
    });
    rejected_.push_back(nearest);
    updateSuggestions();
}

void MainWindow::jumpToDisagreement(int direction)
{
    const Document* doc = session_->document();
    if (!doc)
        return;
    // Where the segmenter's output and the boundaries on screen differ; before the segmenter
    // has answered for this document, against the reference.
    const bool haveSegmenter = lastResult_.document == session_->sharedDocument() && lastResult_.error.isEmpty();
    const auto diff = disagreements(session_->boundaries(), haveSegmenter ? lastResult_.boundaries : doc->reference());
    const std::size_t caret = caretCodePoint();
    std::optional<std::size_t> target;
    if (direction > 0) {
        const auto it = std::upper_bound(diff.begin(), diff.end(), caret);
        if (it != diff.end())
            target = *it;
    } else {
        const auto it = std::lower_bound(diff.begin(), diff.end(), caret);
        if (it != diff.begin())
            target = *std::prev(it);
    }
    if (target)
        pane_->scrollToCodePoint(*target);
    else
        statusBar()->showMessage(tr("No more disagreements in this direction"), 2500);
}

void MainWindow::buildReviewQueue()
{
    if (!current_.dataset) {
        statusBar()->showMessage(tr("The review queue works on datasets: open a .jsonl file"), 4000);
        return;
    }
    if (currentRow_ >= 0)
        current_.currentBoundaries[static_cast<std::size_t>(currentRow_)] = session_->boundaries();
    statusBar()->showMessage(tr("Building the review queue: segmenting every document…"));
    auto dataset = current_.dataset;
    auto current = current_.currentBoundaries;
    const SegmentRequest base = segPanel_->currentRequest();
    queueWatcher_.setFuture(QtConcurrent::run([dataset, current, base] {
        // Disagreement = WindowDiff between the document's current boundaries and the segmenter
        // asked for the same number of blocks (the oracle-count protocol).
        std::vector<double> scores;
        for (std::size_t i = 0; i < dataset->documents.size(); ++i) {
            const Document& doc = dataset->documents[i];
            const auto& mine = i < current.size() ? current[i] : doc.reference();
            SegmentRequest r = base;
            r.options.granularity = segment::Granularity::exactBlocks(mine.size() + 1);
            std::shared_ptr<const Document> shared(dataset, &doc);
            const auto grid = std::make_shared<const segment::TokenGrid>(segment::TokenGrid::approximate(doc));
            const SegmentResult result = runSegmentation(shared, grid, r);
            const PairMetrics m = compareSegmentations(doc.lineStarts(), mine, result.boundaries, 9);
            scores.push_back(std::isnan(m.windowDiff) ? 0.0 : m.windowDiff);
        }
        return scores;
    }));
}

} // namespace blocklens::ui
