#include "analysis/analysis_feature.hpp"

#include "analysis/attention_panel.hpp"
#include "analysis/leakage_marks.hpp"
#include "document_pane.hpp"
#include "feature_host.hpp"
#include "segment/token_blocks.hpp"
#include "segmentation/segmentation_feature.hpp"
#include "util/error.hpp"
#include "workbench/workbench.hpp"
#if BLOCKLENS_WITH_TORCH
#include "engine/memory.hpp"
#include "engine/trained_context.hpp"
#include "inference/inference_worker.hpp"
#endif

#include <QAction>
#include <QDockWidget>
#include <QMainWindow>
#include <QMenu>

#include <algorithm>

namespace blocklens::ui {
namespace {

std::vector<std::size_t> offsetsOf(const std::vector<Boundary>& boundaries)
{
    std::vector<std::size_t> out;
    for (const auto& b : boundaries)
        out.push_back(b.offset);
    return out;
}

// Capture layers: every layer of a small model, else 8 spread from the first to the last.
[[maybe_unused]] std::vector<std::int64_t> captureLayers(std::int64_t layers)
{
    std::vector<std::int64_t> out;
    if (layers <= 8) {
        for (std::int64_t l = 0; l < layers; ++l)
            out.push_back(l);
        return out;
    }
    for (int i = 0; i < 8; ++i)
        out.push_back(i * (layers - 1) / 7);
    return out;
}

// Token starts of a segmentation given in code points, mapped as the worker maps cuts
// (segment::tokenBlockStarts over the capture's token spans).
std::vector<std::int64_t> tokenStartsFor(const AttentionAnalysis& a, const std::vector<std::size_t>& cuts)
{
    if (a.empty() || !a.document)
        return {};
    Encoding enc;
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(a.documentTokens, static_cast<std::int64_t>(a.spans.size())));
    enc.spans.assign(a.spans.begin(), a.spans.begin() + static_cast<std::ptrdiff_t>(n));
    enc.ids.assign(n, 0);
    const auto grid = segment::TokenGrid::fromEncoding(enc, a.document->length(), "tokens");
    return segment::tokenBlockStarts(grid, cuts);
}

} // namespace

AnalysisFeature::AnalysisFeature(FeatureHost& host, Workbench& workbench, SegmentationFeature& segmentation, InferenceWorker* worker)
    : QObject(host.window()), host_(host), workbench_(workbench), segmentation_(segmentation), worker_(worker),
      panel_(new AttentionPanel)
{
    // A tab beside the score chart along the bottom (full width), taking room when shown: a
    // heatmap needs it.
    QDockWidget* dock = host_.addToolView(QStringLiteral("heatmapDock"), tr("Heatmap: where attention goes"), panel_,
                                          Qt::BottomDockWidgetArea,
                                          {.hidden = true, .tabWith = QStringLiteral("chartDock"), .roomWhenShown = true});
    QMenu* view = host_.menu(FeatureHost::Menu::View);
    view->addSeparator();
    QAction* show = dock->toggleViewAction();
    show->setObjectName(QStringLiteral("showHeatmap"));
    show->setShortcut(QKeySequence(tr("Ctrl+Shift+H")));
    view->addAction(show);
    QAction* analyse = addMenuAction(host_, FeatureHost::Menu::View, "analyseAttention", tr("&Analyse Attention and Leakage"),
                                     {QKeySequence(tr("Ctrl+Shift+L"))});
    connect(analyse, &QAction::triggered, this, [this, dock] {
        dock->show();
        dock->raise();
        requestAttention(); // supersedes one the dock's showing may have started (latest wins)
    });
    QAction* proposal = addMenuAction(host_, FeatureHost::Menu::View, "heatmapProposal", tr("Heatmap over the Segmenter's &Proposal"),
                                      {QKeySequence(tr("Ctrl+Shift+P"))});
    connect(proposal, &QAction::triggered, this, [this] { panel_->showProposal(!panel_->showsProposal()); });

    // Showing the heatmap (menu, presentation mode) with a model loaded and nothing captured yet
    // starts a capture.
    connect(dock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible && panel_->analysis().empty() && workbench_.session()->document())
            requestAttention();
    });
    connect(panel_, &AttentionPanel::analyseRequested, this, &AnalysisFeature::requestAttention);
    connect(panel_, &AttentionPanel::jumpRequested, workbench_.pane(), &DocumentPane::scrollToCodePoint);
    connect(panel_, &AttentionPanel::leakageChanged, this, &AnalysisFeature::updateLeakageMarks);
    connect(workbench_.session(), &AnnotationSession::boundariesChanged, this, &AnalysisFeature::boundariesChanged);
    connect(&segmentation_, &SegmentationFeature::segmentationShown, this, [this] {
        warnIfPastContext();
        // The segmenter's cuts are the proposal compared with the current boundaries.
        const AttentionAnalysis& a = panel_->analysis();
        const SegmentResult& result = segmentation_.lastResult();
        if (!a.empty() && a.document == workbench_.document() && result.document == a.document &&
            !panel_->setProposal({proposalName(), tokenStartsFor(a, offsetsOf(result.boundaries))}))
            measureAgain(tr("The segmenter's new cuts are not all on captured line starts: measuring again…"));
    });
    connectWorker();
}

void AnalysisFeature::connectWorker()
{
#if BLOCKLENS_WITH_TORCH
    connect(worker_, &InferenceWorker::attentionReady, this, [this](quint64 id, const AttentionReport& report) {
        if (id != request_)
            return;
        panel_->setRunning(false);
        showAttention(report);
    });
    connect(worker_, &InferenceWorker::failed, this, [this](quint64 id, const QString& message) {
        if (id != request_)
            return;
        panel_->setRunning(false);
        panel_->setStatus(tr("The capture failed: %1").arg(message));
        Q_EMIT attentionFailed(message);
    });
    // Progress (layers of the one forward pass) and Stop for a capture that takes long.
    connect(worker_, &InferenceWorker::runProgress, this, [this](quint64 id, qint64 done, qint64 total, const QString& what) {
        if (id == request_ && total > 0)
            panel_->setStatus(tr("Capturing attention: %1 %2 of %3…").arg(what).arg(done).arg(total));
    });
    connect(worker_, &InferenceWorker::cancelled, this, [this](quint64 id) {
        if (id != request_)
            return;
        panel_->setRunning(false);
        panel_->setStatus(tr("Capture stopped."));
    });
    connect(panel_, &AttentionPanel::cancelRequested, this, [this] {
        if (disconnect(waitForSegmentation_)) { // stopped before the capture started
            panel_->setRunning(false);
            panel_->setStatus(tr("Capture stopped."));
            return;
        }
        if (request_)
            worker_->cancel(request_);
    });
    // Scripts wait for the capture on the inference worker.
    host_.setCompletion(QStringLiteral("analyseAttention"), [this](QObject* context, std::function<void()> done) {
        connect(this, &AnalysisFeature::attentionShown, context, done);
        connect(this, &AnalysisFeature::attentionFailed, context, done);
    });
#endif
}

QString AnalysisFeature::proposalName() const
{
    const QString& name = segmentation_.lastResult().what.segmenter;
    return name.isEmpty() ? tr("segmenter") : name;
}

void AnalysisFeature::requestAttention()
{
    const auto doc = workbench_.document();
    if (!doc) {
        panel_->setStatus(tr("Open a document first."));
        return;
    }
#if BLOCKLENS_WITH_TORCH
    if (!worker_->model()) {
        if (worker_->isLoading()) {
            panel_->setStatus(tr("The heatmap is computed once the model is loaded…"));
            auto once = std::make_shared<QMetaObject::Connection>();
            *once = connect(worker_, &InferenceWorker::modelLoaded, this, [this, once] {
                disconnect(*once);
                requestAttention();
            });
        } else {
            panel_->setStatus(tr("Load a model first (Model dock): the heatmap shows that model's attention."));
            Q_EMIT attentionFailed(panel_->status());
        }
        return;
    }
    if (segmentation_.runner()->isBusy()) {
        // A segmentation is under way (e.g. again in the model's tokens after the load): its cuts
        // decide the capture's bins, so wait for them rather than capture twice (on a long document
        // a capture takes minutes).
        panel_->setStatus(tr("Waiting for the segmentation to finish, then capturing…"));
        panel_->setRunning(true);
        disconnect(waitForSegmentation_);
        waitForSegmentation_ = connect(segmentation_.runner(), &SegmentationRunner::finished, this, [this] {
            disconnect(waitForSegmentation_);
            requestAttention();
        });
        return;
    }
    AttentionJob job;
    job.document = doc;
    job.layers = captureLayers(worker_->model()->config.numLayers);
    // Bins: the current and the proposed cuts (always), plus line starts so that a boundary later
    // moved to a line start is measured exactly without a new run. A capture holds
    // layers x heads x bins^2 floats however long the document, so the line starts are thinned
    // evenly to keep that under kSpareBinsBudget (see there); a cut moved elsewhere measures again.
    std::vector<std::size_t> required = offsetsOf(workbench_.session()->boundaries());
    const SegmentResult& last = segmentation_.lastResult();
    if (last.document == doc) {
        const auto proposal = offsetsOf(last.boundaries);
        required.insert(required.end(), proposal.begin(), proposal.end());
    }
    const auto maxBins = static_cast<std::size_t>(engine::maxAttentionCaptureBlocks(
        worker_->model()->config, static_cast<std::int64_t>(job.layers.size()), kSpareBinsBudget));
    const std::vector<std::size_t>& lines = doc->lineStarts();
    const std::size_t room = maxBins > required.size() + 1 ? maxBins - required.size() - 1 : 0;
    const std::size_t step = room == 0 ? lines.size() + 1 : (lines.size() + room - 1) / room;
    std::vector<std::size_t> cuts = required;
    for (std::size_t i = 0; i < lines.size(); i += std::max<std::size_t>(step, 1))
        cuts.push_back(lines[i]);
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    cuts.erase(std::remove(cuts.begin(), cuts.end(), std::size_t(0)), cuts.end());
    job.cuts = cuts;
    // Token rows (the token view) while they are small; the worker decides on the real token
    // count (AttentionJob::tokenRowsBudget), else one row per bin (still exact for every
    // block-level number).
    job.byBlock = false;
    panel_->setStatus(tr("Running %1 in full attention over the document to see where its attention goes…").arg(worker_->model()->name));
    panel_->setRunning(true);
    requestDocument_ = doc;
    request_ = worker_->requestAttention(job);
    panel_->showContextWarning({});
    warnIfPastContext();
#else
    panel_->setStatus(tr("This build has no inference engine (built without libtorch)."));
    Q_EMIT attentionFailed(panel_->status());
#endif
}

void AnalysisFeature::warnIfPastContext()
{
#if BLOCKLENS_WITH_TORCH
    // Past the model's trained context the user learns it when the capture starts, not with its
    // result minutes later (issue 15: the 108k-character document is 28k tokens on the demo
    // model's 2,048). The segmentation's grid is in the model's tokens once the model is loaded
    // (a segmentation still running after a load has none yet: segmentationShown calls again);
    // the result's banner says it again, exactly.
    const auto grid = segmentation_.runner()->grid();
    if (!panel_->isRunning() || !requestDocument_ || !worker_->model() || !grid || grid->textLength() != requestDocument_->length())
        return;
    if (const auto warning = engine::trainedContextWarning(worker_->model()->config, static_cast<std::int64_t>(grid->size())))
        panel_->showContextWarning(QString::fromStdString(*warning));
#endif
}

void AnalysisFeature::showAttention(const AttentionReport& report)
{
#if BLOCKLENS_WITH_TORCH
    const auto doc = requestDocument_;
    if (!doc || doc != workbench_.document())
        return; // captured for a document no longer on screen
    AttentionAnalysis a;
    a.document = doc;
    a.spans = report.spans;
    a.documentTokens = static_cast<std::int64_t>(std::min(report.spans.size(), report.ids.size()));
    a.model = worker_->model() ? worker_->model()->name : QString();
    a.contextWarning = report.contextWarning;
    a.lastBlockGlobal = false; // the document alone: every block is encoded on its own
    try {
        a.capture = analysis::CapturedAttention(report.mass, report.blocks, static_cast<std::int64_t>(report.ids.size()));
    } catch (const Error& e) {
        panel_->setStatus(QString::fromStdString(e.what()));
        Q_EMIT attentionFailed(panel_->status());
        return;
    }
    a.current = {tr("current boundaries"), tokenStartsFor(a, offsetsOf(workbench_.session()->boundaries()))};
    const SegmentResult& last = segmentation_.lastResult();
    if (last.document == doc)
        a.proposal = {proposalName(), tokenStartsFor(a, offsetsOf(last.boundaries))};
    // The boundaries or the segmenter's cuts may have moved while the capture ran (on a long
    // document the segmentation in the model's tokens often ends after the capture started):
    // cuts off the captured bins need a new capture, asked for once per result.
    if (!a.onCapturedBins(a.current.starts) || !a.onCapturedBins(a.proposal.starts)) {
        if (!measuredAgain_) {
            measureAgain(tr("The cuts moved while the capture ran: measuring again…"));
            return;
        }
        a.proposal = {}; // the current boundaries were asked for exactly: keep them, drop the comparison
    }
    measuredAgain_ = false;
    panel_->setAnalysis(a);
    // A fresh document has no boundaries yet: show the segmenter's proposal instead.
    if (a.current.starts.size() <= 1 && a.proposal.starts.size() > 1)
        panel_->showProposal(true);
    panel_->setStatus(tr("Captured in %1 ms.").arg(report.milliseconds, 0, 'f', 0));
    host_.showStatus(tr("Heatmap ready: the marks on the document show what each cut drops"), 5000);
    Q_EMIT attentionShown();
#else
    (void)report;
#endif
}

void AnalysisFeature::boundariesChanged()
{
    const AttentionAnalysis& a = panel_->analysis();
    if (a.empty())
        return;
    if (a.document != workbench_.document()) {
        panel_->clear(tr("A new document is on screen: Analyse (Ctrl+Shift+L) to see its attention."));
        return;
    }
    const auto starts = tokenStartsFor(a, offsetsOf(workbench_.session()->boundaries()));
    if (!panel_->setCurrentStarts(starts)) // a cut inside a line: the capture has no bin there
        measureAgain(tr("A cut is not on a captured line start: measuring again…"));
}

void AnalysisFeature::measureAgain(const QString& why)
{
    // The latest request wins: a result on its way for the old cuts is dropped when it arrives.
    measuredAgain_ = true;
    requestAttention();
    panel_->setStatus(why);
}

void AnalysisFeature::updateLeakageMarks()
{
    const AttentionAnalysis& a = panel_->analysis();
    DocumentView* view = workbench_.pane()->view();
    if (a.empty() || a.document != workbench_.document()) {
        view->setBoundaryMarks({});
        return;
    }
    // The current boundaries' cuts; with none yet, the proposal's (drawn dashed as suggestions).
    const bool proposal = a.current.starts.size() <= 1 && a.proposal.starts.size() > 1;
    view->setBoundaryMarks(leakageMarks(a, proposal ? panel_->leakage().b : panel_->leakage().a));
}

} // namespace blocklens::ui
