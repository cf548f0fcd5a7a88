#include "segmentation_feature.hpp"

#include "dataset_browser.hpp"
#include "feature_host.hpp"
#include "metrics_panel.hpp"
#include "score_chart.hpp"
#include "segmenter_panel.hpp"
#include "workbench/workbench.hpp"

#include <QAction>
#include <QDockWidget>
#include <QMainWindow>
#include <QMenu>
#include <QTableView>
#include <QtConcurrent>

#include <algorithm>
#include <cmath>

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

SegmentationFeature::SegmentationFeature(FeatureHost& host, Workbench& workbench)
    : QObject(host.window()), host_(host), workbench_(workbench), panel_(new SegmenterPanel), chart_(new ScoreChart),
      metrics_(new MetricsPanel)
{
    QDockWidget* segDock = host_.addToolView(QStringLiteral("segmenterDock"), tr("Segmenter"), panel_, Qt::RightDockWidgetArea);
    QDockWidget* metricsDock = host_.addToolView(QStringLiteral("metricsDock"), tr("Metrics"), metrics_, Qt::RightDockWidgetArea);
    QDockWidget* chartDock = host_.addToolView(QStringLiteral("chartDock"), tr("Boundary scores"), chart_, Qt::BottomDockWidgetArea,
                                               {.scrolled = false});
    QMenu* view = host_.menu(FeatureHost::Menu::View);
    view->addAction(segDock->toggleViewAction());
    view->addAction(metricsDock->toggleViewAction());
    view->addAction(chartDock->toggleViewAction());
    view->addSeparator();
    buildActions();

    DocumentPane* pane = workbench_.pane();
    connect(&workbench_, &Workbench::documentShown, this, &SegmentationFeature::documentChanged);
    connect(&workbench_, &Workbench::viewsRefreshed, this, [this] {
        metrics_->update(workbench_.session()->boundaries());
        updateSuggestions();
    });
    connect(panel_, &SegmenterPanel::requestChanged, this, [this] { requestSegmentation(); });
    connect(&runner_, &SegmentationRunner::finished, this, &SegmentationFeature::showSegmentation);
    connect(chart_, &ScoreChart::thresholdDragged, panel_, &SegmenterPanel::setThreshold);
    connect(chart_, &ScoreChart::jumpRequested, pane, &DocumentPane::scrollToCodePoint);
    connect(&queueWatcher_, &QFutureWatcher<std::vector<double>>::finished, this, [this] {
        DatasetBrowser* browser = workbench_.datasetBrowser();
        browser->showReviewQueue(queueWatcher_.result());
        reviewQueue_ = true;
        host_.showStatus(tr("Review queue ready: documents where the segmenter and the corrections disagree most come first"), 6000);
        if (browser->proxy()->rowCount() > 0)
            browser->table()->setCurrentIndex(browser->proxy()->index(0, 0));
        Q_EMIT reviewQueueReady();
    });
    connect(&compareWatcher_, &QFutureWatcher<std::vector<Track>>::finished, this, [this] {
        if (compareDoc_ != workbench_.document())
            return; // computed for a document no longer on screen
        compareTracks_ = compareWatcher_.result();
        updateTracks();
    });
    connect(&annotatorsWatcher_, &QFutureWatcher<std::vector<AnnotatorVersion>>::finished, this, [this] {
        if (annotatorsDoc_ != workbench_.document())
            return; // read for a document no longer on screen
        annotators_ = annotatorsWatcher_.result();
        updateComparisons();
    });
    host_.setCompletion(QStringLiteral("reviewQueue"), [this](QObject* context, std::function<void()> done) {
        connect(this, &SegmentationFeature::reviewQueueReady, context, done);
    });
}

void SegmentationFeature::buildActions()
{
    using Menu = FeatureHost::Menu;
    auto add = [this](Menu menu, const char* name, const QString& text, QList<QKeySequence> keys, auto&& slot) {
        QAction* a = addMenuAction(host_, menu, name, text, keys);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    host_.menu(Menu::Edit)->addSeparator();
    add(Menu::Edit, "acceptSuggestion", tr("&Accept Nearest Suggestion"), {QKeySequence(Qt::Key_A)}, [this] { acceptSuggestion(); });
    add(Menu::Edit, "rejectSuggestion", tr("Re&ject Nearest Suggestion"), {QKeySequence(Qt::Key_R)}, [this] { rejectSuggestion(); });
    add(Menu::Edit, "nextDisagreement", tr("Next &Disagreement"), {QKeySequence(Qt::Key_D)}, [this] { jumpToDisagreement(+1); });
    add(Menu::Edit, "previousDisagreement", tr("Previous Disagreement"), {QKeySequence(tr("Shift+D"))}, [this] { jumpToDisagreement(-1); });
    QAction* compare = add(Menu::View, "compareSegmenters", tr("&Compare Segmenters as Tracks"), {QKeySequence(Qt::Key_C)}, [this] {
        comparing_ = !comparing_;
        compareTracks_.clear();
        if (comparing_)
            startComparison();
        updateTracks();
    });
    compare->setCheckable(true);
    QAction* tokens = add(Menu::View, "showTokens", tr("Show &Token Boundaries"), {QKeySequence(Qt::Key_T)},
                          [this](bool on) { workbench_.pane()->view()->setShowTokenBoundaries(on); });
    tokens->setCheckable(true);
    add(Menu::View, "reviewQueue", tr("Review &Queue: Most Disagreement First"), {QKeySequence(tr("Ctrl+Shift+Q"))},
        [this] { buildReviewQueue(); });
}

void SegmentationFeature::documentChanged()
{
    const auto doc = workbench_.document();
    if (!doc)
        return;
    lineStarts_ = doc->lineStarts();
    rejected_.clear();
    suggestions_.clear();
    compareTracks_.clear();
    lastResult_ = {};
    chart_->clearData();
    metrics_->setDocument(*doc, doc->reference());
    // Other annotators' versions come from the workspace in the background, then join the list.
    annotators_.clear();
    annotatorsDoc_ = doc;
    annotatorsWatcher_.setFuture(host_.workspace()->otherAnnotators(doc, workbench_.session()->author()));
    updateComparisons();
    metrics_->update(workbench_.session()->boundaries());
    workbench_.pane()->view()->setSuggestions({});
    updateTracks();
    requestSegmentation();
    if (comparing_)
        startComparison();
    // In the review queue, a row starts at the first place where the segmenter and the
    // boundaries disagree, as soon as the segmenter's result for it is in.
    pendingQueueJump_ = reviewQueue_ && workbench_.currentRow() >= 0;
}

void SegmentationFeature::updateComparisons()
{
    std::vector<MetricsPanel::Comparison> options;
    if (lastResult_.document == workbench_.document() && lastResult_.error.isEmpty() && !workbench_.adoptsSegmenterOutput())
        options.push_back({lastResult_.what.segmenter, lastResult_.boundaries});
    for (const auto& [name, boundaries] : annotators_)
        options.push_back({name, boundaries});
    metrics_->setComparisons(std::move(options));
}

void SegmentationFeature::startComparison()
{
    auto shared = workbench_.document();
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

void SegmentationFeature::requestSegmentation()
{
    if (auto doc = workbench_.document())
        runner_.request(doc, panel_->currentRequest());
}

void SegmentationFeature::showSegmentation(const SegmentResult& result)
{
    if (result.document != workbench_.document())
        return; // the user moved on to another document
    if (!result.error.isEmpty()) {
        panel_->setStatus(result.error);
        return;
    }
    lastResult_ = result;
    if (runner_.grid() && runner_.grid()->textLength() == result.document->length())
        workbench_.pane()->view()->setTokenGrid(runner_.grid());
    const auto& blocks = result.segmentation.blocks;
    const QString ms = QString::number(result.milliseconds, 'f', 1);
    const QString unit = QString::fromStdString(result.segmentation.provenance.tokenUnit);
    const QString measured = blocks.size() == 1 ? tr("1 block in %1 ms (%2)").arg(ms, unit)
                                                : tr("%1 blocks in %2 ms (%3)").arg(blocks.size()).arg(ms, unit);
    // A dataset row or an edited document keeps its own blocks and shows the segmenter's as a
    // track and dashed suggestions: say so, or "3 blocks" reads as a count of the ten on screen.
    panel_->setStatus(workbench_.adoptsSegmenterOutput()
                          ? measured
                          : tr("%1 proposes %2. A suggestion: the document keeps its own blocks; the proposal is the "
                               "\"%1\" track and the dashed + marks in the gutter (A accepts one, R rejects it).")
                                .arg(result.what.segmenter, measured));
    // A single document without corrections takes the segmenter's blocks as its own; once the
    // user has edited, or for a dataset (which has its reference), the result is a suggestion.
    if (workbench_.adoptsSegmenterOutput()) {
        AnnotationSession::Origin origin;
        origin.segmenter = result.what.segmenter;
        origin.paramsJson = QString::fromStdString(result.segmentation.parametersJson());
        workbench_.adopt(result.boundaries, origin);
    }
    // The segmenter by value: spec() refers into it (a reference into the temporary dangled:
    // AddressSanitizer, stack-use-after-scope, scripts/sanitize --all in test_main_window).
    const segment::Segmenter segmenter = segmenterFor(result.what);
    const auto& g = result.what.options.granularity;
    chart_->setThreshold(g.mode == segment::GranularityMode::Threshold ? g.threshold : segmenter.spec().threshold);
    chart_->setData(result.scored.candidates, result.scored.scores, lineStarts_, result.boundaries, result.document->reference());
    updateComparisons();
    updateSuggestions();
    updateTracks();
    workbench_.refresh();
    if (pendingQueueJump_) {
        pendingQueueJump_ = false;
        QTextCursor c = workbench_.pane()->view()->textCursor();
        c.setPosition(0);
        workbench_.pane()->view()->setTextCursor(c);
        jumpToDisagreement(+1);
    }
    Q_EMIT segmentationShown();
}

void SegmentationFeature::updateTracks()
{
    std::vector<Track> tracks;
    const auto doc = workbench_.document();
    if (doc && !doc->reference().empty())
        tracks.push_back({tr("ref"), doc->reference()});
    if (!lastResult_.boundaries.empty() && !workbench_.adoptsSegmenterOutput())
        tracks.push_back({lastResult_.what.segmenter, lastResult_.boundaries});
    if (comparing_)
        tracks.insert(tracks.end(), compareTracks_.begin(), compareTracks_.end());
    workbench_.pane()->setTracks(tracks);
}

void SegmentationFeature::updateSuggestions()
{
    suggestions_.clear();
    DocumentView* view = workbench_.pane()->view();
    if (!lastResult_.error.isEmpty() || lastResult_.document != workbench_.document() || workbench_.adoptsSegmenterOutput()) {
        view->setSuggestions({});
        return;
    }
    const auto current = offsetsOf(workbench_.session()->boundaries());
    for (const auto& b : lastResult_.boundaries)
        if (!std::binary_search(current.begin(), current.end(), b.offset) &&
            std::find(rejected_.begin(), rejected_.end(), b.offset) == rejected_.end())
            suggestions_.push_back(b.offset);
    view->setSuggestions(suggestions_);
}

std::optional<std::size_t> SegmentationFeature::nearestSuggestion() const
{
    if (suggestions_.empty())
        return std::nullopt;
    const std::size_t caret = workbench_.caretCodePoint();
    return *std::min_element(suggestions_.begin(), suggestions_.end(), [caret](std::size_t a, std::size_t b) {
        return (a > caret ? a - caret : caret - a) < (b > caret ? b - caret : caret - b);
    });
}

void SegmentationFeature::acceptSuggestion()
{
    const auto nearest = nearestSuggestion();
    if (!nearest) {
        host_.showStatus(tr("No suggestions: the segmenter agrees with every boundary"), 3000);
        return;
    }
    if (workbench_.session()->split(*nearest, 1))
        workbench_.pane()->scrollToCodePoint(*nearest);
}

void SegmentationFeature::rejectSuggestion()
{
    if (const auto nearest = nearestSuggestion()) {
        rejected_.push_back(*nearest);
        updateSuggestions();
    }
}

void SegmentationFeature::jumpToDisagreement(int direction)
{
    const auto doc = workbench_.document();
    if (!doc)
        return;
    // Where the segmenter's output and the boundaries on screen differ; before the segmenter
    // has answered for this document, against the reference.
    const bool haveSegmenter = lastResult_.document == doc && lastResult_.error.isEmpty();
    const auto diff = disagreements(workbench_.session()->boundaries(), haveSegmenter ? lastResult_.boundaries : doc->reference());
    const std::size_t caret = workbench_.caretCodePoint();
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
        workbench_.pane()->scrollToCodePoint(*target);
    else
        host_.showStatus(tr("No more disagreements in this direction"), 2500);
}

void SegmentationFeature::buildReviewQueue()
{
    if (!workbench_.hasDataset()) {
        host_.showStatus(tr("The review queue works on datasets: open a .jsonl file"), 4000);
        return;
    }
    auto current = workbench_.datasetBoundaries();
    host_.showStatus(tr("Building the review queue: segmenting every document…"));
    auto dataset = workbench_.dataset();
    const SegmentRequest base = panel_->currentRequest();
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
