// The window's analysis parts (issue 7): the Heatmap dock (where full attention goes between the
// blocks on screen, and what each cut drops, drawn on the document as leakage marks) and the
// Experiments dock (recorded runs and evaluations, charts). The capture runs on the inference
// worker; everything after it is cheap sums done here.
#include "main_window.hpp"

#include "analysis/attention_panel.hpp"
#include "analysis/leakage_marks.hpp"
#include "annotation/annotation_session.hpp"
#include "dock_scroll.hpp"
#include "experiments/experiments_browser.hpp"
#include "util/error.hpp"
#include "segment/token_blocks.hpp"
#if BLOCKLENS_WITH_TORCH
#include "engine/memory.hpp"
#include "inference/inference_worker.hpp"
#endif

#include <QAction>
#include <QDockWidget>
#include <QFileDialog>
#include <QMenu>
#include <QStatusBar>
#include <QTimer>

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
std::vector<std::int64_t> captureLayers(std::int64_t layers)
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

void MainWindow::buildAnalysis()
{
    attention_ = new AttentionPanel;
    auto* heatmapDock = new QDockWidget(tr("Heatmap: where attention goes"), this);
    heatmapDock->setObjectName(QStringLiteral("heatmapDock"));
    heatmapDock->setWidget(scrolledForDock(attention_));
    addDockWidget(Qt::BottomDockWidgetArea, heatmapDock);
    heatmapDock->hide();

    experiments_ = new ExperimentsBrowser;
    auto* experimentsDock = new QDockWidget(tr("Experiments"), this);
    experimentsDock->setObjectName(QStringLiteral("experimentsDock"));
    experimentsDock->setWidget(scrolledForDock(experiments_));
    addDockWidget(Qt::BottomDockWidgetArea, experimentsDock);
    experimentsDock->hide();

    // Tabs beside the score chart along the bottom (full width), taking room when shown: a
    // heatmap and a runs table need it.
    if (auto* chart = findChild<QDockWidget*>(QStringLiteral("chartDock"))) {
        tabifyDockWidget(chart, heatmapDock);
        tabifyDockWidget(chart, experimentsDock);
    }
    heatmapDock->hide();
    experimentsDock->hide();
    makeRoomWhenShown(heatmapDock);
    makeRoomWhenShown(experimentsDock);

    viewMenu_->addSeparator();
    QAction* showHeatmap = heatmapDock->toggleViewAction();
    showHeatmap->setObjectName(QStringLiteral("showHeatmap"));
    showHeatmap->setShortcut(QKeySequence(tr("Ctrl+Shift+H")));
    viewMenu_->addAction(showHeatmap);
    auto add = [this](const char* name, const QString& text, const QKeySequence& key, auto&& slot) {
        QAction* a = viewMenu_->addAction(text);
        a->setObjectName(QLatin1String(name));
        if (!key.isEmpty())
            a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        addAction(a);
        return a;
    };
    add("analyseAttention", tr("&Analyse Attention and Leakage"), QKeySequence(tr("Ctrl+Shift+L")), [this, heatmapDock] {
        heatmapDock->show();
        heatmapDock->raise();
        requestAttention(); // supersedes one the dock's showing may have started (latest wins)
    });
    add("heatmapProposal", tr("Heatmap over the Segmenter's &Proposal"), QKeySequence(tr("Ctrl+Shift+P")),
        [this] { attention_->showProposal(!attention_->showsProposal()); });
    QAction* showExperiments = experimentsDock->toggleViewAction();
    showExperiments->setObjectName(QStringLiteral("showExperiments"));
    showExperiments->setShortcut(QKeySequence(tr("Ctrl+Shift+X")));
    viewMenu_->addAction(showExperiments);
    // Shows the dock and reads the workspace again (scripts wait for ExperimentsBrowser::loaded).
    add("openExperiments", tr("Experiments: Reload the Workspace's Runs"), {}, [this, experimentsDock] {
        experimentsDock->show();
        experimentsDock->raise();
        experiments_->openStore(workspace_);
    });
    add("openExperimentStore", tr("Open &Experiment Store…"), {}, [this, experimentsDock] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open experiment store"), {},
                                                          tr("SQLite stores (*.db *.sqlite);;All files (*)"));
        if (path.isEmpty())
            return;
        experimentsDock->show();
        experiments_->openStore(path);
    });
    // Actions for scripts and screenshots: the experiments charts.
    add("experimentsTtftChart", tr("Experiments: TTFT Chart"), {}, [this, experimentsDock] {
        experimentsDock->show();
        experimentsDock->raise();
        experiments_->showChart(ExperimentChart::Kind::TtftVsLength);
    });
    add("experimentsMetricsChart", tr("Experiments: Segmentation Metrics Chart"), {}, [this, experimentsDock] {
        experimentsDock->show();
        experimentsDock->raise();
        experiments_->showChart(ExperimentChart::Kind::SegmentationMetrics);
    });

    // The workspace's runs appear when the dock is first shown (read in the background).
    connect(experimentsDock, &QDockWidget::visibilityChanged, this, [this, experimentsDock](bool visible) {
        if (visible)
            experimentsDock->raise();
        if (visible && experiments_->snapshot().path.isEmpty() && !experiments_->isLoading() && !workspace_.isEmpty())
            experiments_->openStore(workspace_);
    });
    // Showing the heatmap (menu, presentation mode) with a model loaded and nothing captured yet
    // starts a capture.
    connect(heatmapDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible && attention_->analysis().empty() && session_->document())
            requestAttention();
    });
    connect(attention_, &AttentionPanel::analyseRequested, this, &MainWindow::requestAttention);
    connect(attention_, &AttentionPanel::jumpRequested, pane_, &DocumentPane::scrollToCodePoint);
    connect(attention_, &AttentionPanel::leakageChanged, this, &MainWindow::updateLeakageMarks);
    connect(session_, &AnnotationSession::boundariesChanged, this, &MainWindow::boundariesChangedForAnalysis);
    connect(this, &MainWindow::segmentationShown, this, [this] {
        // The segmenter's cuts are the proposal compared with the current boundaries.
        const AttentionAnalysis& a = attention_->analysis();
        if (!a.empty() && a.document == session_->sharedDocument() && lastResult_.document == a.document)
            attention_->setProposal({proposalName(), tokenStartsFor(a, offsetsOf(lastResult_.boundaries))});
    });
#if BLOCKLENS_WITH_TORCH
    connect(inference_, &InferenceWorker::attentionReady, this, [this](quint64 id, const AttentionReport& report) {
        if (id != attentionRequest_)
            return;
        attention_->setRunning(false);
        showAttention(report);
    });
    connect(inference_, &InferenceWorker::failed, this, [this](quint64 id, const QString& message) {
        if (id != attentionRequest_)
            return;
        attention_->setRunning(false);
        attention_->setStatus(tr("The capture failed: %1").arg(message));
        Q_EMIT attentionFailed(message);
    });
    // Progress (layers of the one forward pass) and Stop for a capture that takes long.
    connect(inference_, &InferenceWorker::runProgress, this, [this](quint64 id, qint64 done, qint64 total, const QString& what) {
        if (id == attentionRequest_ && total > 0)
            attention_->setStatus(tr("Capturing attention: %1 %2 of %3…").arg(what).arg(done).arg(total));
    });
    connect(inference_, &InferenceWorker::cancelled, this, [this](quint64 id) {
        if (id != attentionRequest_)
            return;
        attention_->setRunning(false);
        attention_->setStatus(tr("Capture stopped."));
    });
    connect(attention_, &AttentionPanel::cancelRequested, this, [this] {
        if (attentionRequest_)
            inference_->cancel(attentionRequest_);
    });
#endif
}

QString MainWindow::proposalName() const
{
    return lastResult_.what.segmenter.isEmpty() ? tr("segmenter") : lastResult_.what.segmenter;
}

void MainWindow::requestAttention()
{
    const auto doc = session_->sharedDocument();
    if (!doc) {
        attention_->setStatus(tr("Open a document first."));
        return;
    }
#if BLOCKLENS_WITH_TORCH
    if (!inference_->model()) {
        if (inference_->isLoading()) {
            attention_->setStatus(tr("The heatmap is computed once the model is loaded…"));
            auto once = std::make_shared<QMetaObject::Connection>();
            *once = connect(inference_, &InferenceWorker::modelLoaded, this, [this, once] {
                disconnect(*once);
                requestAttention();
            });
        } else {
            attention_->setStatus(tr("Load a model first (Model dock): the heatmap shows that model's attention."));
            Q_EMIT attentionFailed(attention_->status());
        }
        return;
    }
    AttentionJob job;
    job.document = doc;
    job.layers = captureLayers(inference_->model()->config.numLayers);
    // Bins: the current and the proposed cuts (always), plus line starts so that a boundary later
    // moved to a line start is measured exactly without a new run. A capture holds
    // layers x heads x bins^2 floats however long the document, so the line starts are thinned
    // evenly to keep that under kHeatmapBinsBudget; a cut moved elsewhere measures again.
    constexpr std::uint64_t kHeatmapBinsBudget = 256ull << 20;
    std::vector<std::size_t> required = offsetsOf(session_->boundaries());
    if (lastResult_.document == doc) {
        const auto proposal = offsetsOf(lastResult_.boundaries);
        required.insert(required.end(), proposal.begin(), proposal.end());
    }
    const auto maxBins = static_cast<std::size_t>(engine::maxAttentionCaptureBlocks(
        inference_->model()->config, static_cast<std::int64_t>(job.layers.size()), kHeatmapBinsBudget));
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
    attention_->setStatus(tr("Running %1 in full attention over the document to see where its attention goes…").arg(inference_->model()->name));
    attention_->setRunning(true);
    attentionDocument_ = doc;
    attentionRequest_ = inference_->requestAttention(job);
#else
    attention_->setStatus(tr("This build has no inference engine (built without libtorch)."));
    Q_EMIT attentionFailed(attention_->status());
#endif
}

void MainWindow::showAttention(const AttentionReport& report)
{
#if BLOCKLENS_WITH_TORCH
    const auto doc = attentionDocument_;
    if (!doc || doc != session_->sharedDocument())
        return; // captured for a document no longer on screen
    AttentionAnalysis a;
    a.document = doc;
    a.spans = report.spans;
    a.documentTokens = static_cast<std::int64_t>(std::min(report.spans.size(), report.ids.size()));
    a.model = inference_->model() ? inference_->model()->name : QString();
    a.contextWarning = report.contextWarning;
    a.lastBlockGlobal = false; // the document alone: every block is encoded on its own
    try {
        a.capture = analysis::CapturedAttention(report.mass, report.blocks, static_cast<std::int64_t>(report.ids.size()));
    } catch (const Error& e) {
        attention_->setStatus(QString::fromStdString(e.what()));
        Q_EMIT attentionFailed(attention_->status());
        return;
    }
    a.current = {tr("current boundaries"), tokenStartsFor(a, offsetsOf(session_->boundaries()))};
    if (lastResult_.document == doc)
        a.proposal = {proposalName(), tokenStartsFor(a, offsetsOf(lastResult_.boundaries))};
    attention_->setAnalysis(a);
    // A fresh document has no boundaries yet: show the segmenter's proposal instead.
    if (a.current.starts.size() <= 1 && a.proposal.starts.size() > 1)
        attention_->showProposal(true);
    attention_->setStatus(tr("Captured in %1 ms.").arg(report.milliseconds, 0, 'f', 0));
    statusBar()->showMessage(tr("Heatmap ready: the marks on the document show what each cut drops"), 5000);
    Q_EMIT attentionShown();
#else
    (void)report;
#endif
}

void MainWindow::boundariesChangedForAnalysis()
{
    const AttentionAnalysis& a = attention_->analysis();
    if (a.empty())
        return;
    if (a.document != session_->sharedDocument()) {
        attention_->clear(tr("A new document is on screen: Analyse (Ctrl+Shift+L) to see its attention."));
        return;
    }
    const auto starts = tokenStartsFor(a, offsetsOf(session_->boundaries()));
    if (!attention_->setCurrentStarts(starts)) {
        // A cut inside a line: the capture has no bin there, so measure again (latest request wins).
        attention_->setStatus(tr("A cut is not on a captured line start: measuring again…"));
        requestAttention();
    }
}

void MainWindow::updateLeakageMarks()
{
    const AttentionAnalysis& a = attention_->analysis();
    if (a.empty() || a.document != session_->sharedDocument()) {
        pane_->view()->setBoundaryMarks({});
        return;
    }
    // The current boundaries' cuts; with none yet, the proposal's (drawn dashed as suggestions).
    const bool proposal = a.current.starts.size() <= 1 && a.proposal.starts.size() > 1;
    pane_->view()->setBoundaryMarks(leakageMarks(a, proposal ? attention_->leakage().b : attention_->leakage().a));
}

} // namespace blocklens::ui
