// The window's inference parts (issue 7): the Model dock, the Side by side dock (full vs block
// attention on the document on screen) and presentation mode, all driven by one InferenceWorker.
#include "main_window.hpp"

#include "annotation/annotation_session.hpp"
#include "dock_scroll.hpp"
#include "inference/compare_view.hpp"
#include "inference/demo_model.hpp"
#include "inference/inference_worker.hpp"
#include "inference/model_panel.hpp"
#include "inference/presentation_mode.hpp"
#include "inference/ttft_race.hpp"

#include <QAction>
#include <QDockWidget>
#include <QMenu>
#include <QScrollArea>
#include <QStatusBar>
#include <QTimer>

namespace blocklens::ui {

void MainWindow::buildInference()
{
    inference_ = new InferenceWorker(this);
    inference_->setWorkspace(workspace_);

    auto* modelDock = new QDockWidget(tr("Model"), this);
    modelDock->setObjectName(QStringLiteral("modelDock"));
    modelPanel_ = new ModelPanel(inference_);
    modelDock->setWidget(scrolledForDock(modelPanel_));
    addDockWidget(Qt::RightDockWidgetArea, modelDock);

    auto* compareDock = new QDockWidget(tr("Side by side: full vs block attention"), this);
    compareDock->setObjectName(QStringLiteral("compareDock"));
    compareView_ = new CompareView(inference_);
    compareView_->setJobSource([this](QString* why) { return currentCompareJob(why); });
    compareDock->setWidget(scrolledForDock(compareView_));
    addDockWidget(Qt::BottomDockWidgetArea, compareDock);
    // A tab beside the boundary scores: the whole width of the window for its two columns.
    if (auto* chart = findChild<QDockWidget*>(QStringLiteral("chartDock")))
        tabifyDockWidget(chart, compareDock);
    compareDock->hide();
    // Two columns of numbers and text: about half the window's height when shown.
    makeRoomWhenShown(compareDock);

    viewMenu_->addSeparator();
    viewMenu_->addAction(modelDock->toggleViewAction());
    QAction* showCompare = compareDock->toggleViewAction();
    showCompare->setObjectName(QStringLiteral("showCompare"));
    showCompare->setShortcut(QKeySequence(tr("Ctrl+Shift+C")));
    viewMenu_->addAction(showCompare);

    // Run the comparison on what is on screen; waits for a model that is still loading.
    auto runWhenReady = [this, compareDock] {
        compareDock->show(); // room is made when it shows (makeRoomWhenShown), never by a minimum size
        compareDock->raise();
        if (!inference_->model() && inference_->isLoading()) {
            statusBar()->showMessage(tr("The comparison starts once the model is loaded…"), 5000);
            // Loaded or not (then run() says there is no model), once.
            auto connections = std::make_shared<std::pair<QMetaObject::Connection, QMetaObject::Connection>>();
            auto go = [this, connections] {
                disconnect(connections->first);
                disconnect(connections->second);
                compareView_->run();
            };
            connections->first = connect(inference_, &InferenceWorker::modelLoaded, this, go);
            connections->second = connect(inference_, &InferenceWorker::failed, this, [this, go] {
                if (!inference_->isLoading())
                    go();
            });
            return;
        }
        compareView_->run();
    };
    QAction* run = viewMenu_->addAction(tr("Run Side by Side"), this, runWhenReady);
    run->setObjectName(QStringLiteral("runComparison"));
    run->setShortcut(QKeySequence(tr("Ctrl+R")));
    // The race of the two TTFTs: replays the last result, or runs first.
    QAction* race = viewMenu_->addAction(tr("TTFT Race"), this, [this, compareDock, runWhenReady] {
        // The race scrolled into view (the dock may be shorter than the whole comparison).
        auto showRace = [compareDock, view = compareView_] {
            if (auto* area = qobject_cast<QScrollArea*>(compareDock->widget()))
                area->ensureWidgetVisible(view->race());
        };
        if (const auto& r = compareView_->lastReport()) {
            compareDock->show();
            compareDock->raise();
            compareView_->race()->race(r->full.stats.ttftMs, r->blockWarm.ttftMs, tr("Block attention, blocks cached"));
            showRace();
            return;
        }
        auto once = std::make_shared<QMetaObject::Connection>();
        *once = connect(compareView_, &CompareView::comparisonShown, this, [once, showRace] {
            disconnect(*once);
            showRace();
        });
        runWhenReady();
    });
    race->setObjectName(QStringLiteral("raceTtft"));
    race->setShortcut(QKeySequence(tr("Ctrl+Shift+R")));

    presentation_ = new PresentationMode(this);
    QAction* present = viewMenu_->addAction(tr("Presentation Mode"), this, [this] { presentation_->toggle(); });
    present->setObjectName(QStringLiteral("presentationMode"));
    present->setShortcut(QKeySequence(Qt::Key_F11));
    // Not in a menu (Space and the arrows do this while presenting): lets scripts step through.
    auto* presentNext = new QAction(tr("Next Presentation Step"), this);
    presentNext->setObjectName(QStringLiteral("presentationNext"));
    connect(presentNext, &QAction::triggered, this, [this] { presentation_->next(); });
    addAction(presentNext);

    // A boundary edit re-runs a comparison on screen: the cache hits show which blocks it touched.
    auto* rerun = new QTimer(this);
    rerun->setSingleShot(true);
    rerun->setInterval(400);
    connect(rerun, &QTimer::timeout, compareView_, &CompareView::rerunIfShown);
    connect(session_, &AnnotationSession::boundariesChanged, rerun, qOverload<>(&QTimer::start));
    connect(inference_, &InferenceWorker::modelLoaded, this, [this](quint64, const ModelInfo& info) {
            statusBar()->showMessage(tr("Model %1 loaded on %2 in %3 ms").arg(info.name, info.device).arg(info.loadMs, 0, 'f', 0), 6000);
            // Block sizes in the model's own tokens from now on (issue 15), not approx-tokens.
            runner_.setTokenizerFile(info.tokenizerHash.isEmpty() ? QString() : info.directory + QStringLiteral("/tokenizer.json"));
            if (session_->sharedDocument())
                requestSegmentation();
        });
    connect(inference_, &InferenceWorker::modelUnloaded, this, [this] {
        runner_.setTokenizerFile({});
        if (session_->sharedDocument())
            requestSegmentation();
    });
}

void MainWindow::loadModel(const QString& directory, const QString& device)
{
    if (!inference_)
        return;
    modelPanel_->setDirectory(directory);
    modelPanel_->setDevice(device);
    LoadJob job;
    job.directory = directory;
    job.device = device; // even one the panel does not offer: the engine then says why it cannot
    modelPanel_->load(job);
}

std::optional<CompareJob> MainWindow::currentCompareJob(QString* why) const
{
    if (!session_->sharedDocument()) {
        if (why)
            *why = tr("Open a document first: its blocks are what the comparison runs on.");
        return std::nullopt;
    }
    CompareJob job;
    job.document = session_->sharedDocument();
    for (const Boundary& b : session_->boundaries())
        job.cuts.push_back(b.offset);
    return job;
}

} // namespace blocklens::ui
