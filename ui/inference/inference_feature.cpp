#include "inference/inference_feature.hpp"

#include "document_pane.hpp"
#include "inference/bundled_models.hpp"
#include "feature_host.hpp"
#include "inference/compare_view.hpp"
#include "inference/inference_worker.hpp"
#include "inference/model_panel.hpp"
#include "inference/other_model_picker.hpp"
#include "inference/presentation_mode.hpp"
#include "inference/repair_panel.hpp"
#include "inference/variant_picker.hpp"
#include "inference/ttft_race.hpp"
#include "segmentation/segmentation_feature.hpp"
#include "workbench/workbench.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QAction>
#include <QDockWidget>
#include <QFileInfo>
#include <QMainWindow>
#include <QMenu>
#include <QScrollArea>
#include <QTimer>

#include <memory>
#include <utility>

namespace blocklens::ui {

InferenceFeature::InferenceFeature(FeatureHost& host, Workbench& workbench, SegmentationFeature& segmentation)
    : QObject(host.window()), host_(host), workbench_(workbench), segmentation_(segmentation),
      worker_(new InferenceWorker(host.window()))
{
    worker_->setWorkspace(host_.workspace());
    modelPanel_ = new ModelPanel(worker_);
    QDockWidget* modelDock = host_.addToolView(QStringLiteral("modelDock"), tr("Model"), modelPanel_, Qt::RightDockWidgetArea);
    compareView_ = new CompareView(worker_);
    compareView_->setJobSource([this](QString* why) { return currentCompareJob(why); });
    // A tab beside the boundary scores: the whole width of the window for its two columns, about
    // half the window's height when shown.
    compareDock_ = host_.addToolView(QStringLiteral("compareDock"), tr("Side by side: full vs block attention"), compareView_,
                                     Qt::BottomDockWidgetArea,
                                     {.hidden = true, .tabWith = QStringLiteral("chartDock"), .roomWhenShown = true});
    // The repair chart: a tab beside the side by side, whose column a click on a point sets.
    repairPanel_ = new RepairPanel(worker_);
    repairPanel_->setJobSource([this](QString* why) -> std::optional<SweepJob> {
        const std::optional<CompareJob> job = currentCompareJob(why);
        if (!job)
            return std::nullopt;
        return SweepJob{job->document, job->cuts, compareView_->query()};
    });
    repairDock_ = host_.addToolView(QStringLiteral("repairDock"), tr("Repair chart"), repairPanel_, Qt::BottomDockWidgetArea,
                                    {.hidden = true, .tabWith = QStringLiteral("compareDock"), .roomWhenShown = true});
    connect(repairPanel_, &RepairPanel::settingChosen, this, [this](const QString& setting) {
        compareView_->variantPicker()->setText(setting);
        runWhenReady();
    });
    QMenu* view = host_.menu(FeatureHost::Menu::View);
    view->addSeparator();
    view->addAction(modelDock->toggleViewAction());
    QAction* showCompare = compareDock_->toggleViewAction();
    showCompare->setObjectName(QStringLiteral("showCompare"));
    showCompare->setShortcut(QKeySequence(tr("Ctrl+Shift+C")));
    view->addAction(showCompare);
    buildActions();

    // A boundary edit re-runs a comparison on screen: the cache hits show which blocks it touched.
    auto* rerun = new QTimer(this);
    rerun->setSingleShot(true);
    rerun->setInterval(400);
    connect(rerun, &QTimer::timeout, compareView_, &CompareView::rerunIfShown);
    connect(workbench_.session(), &AnnotationSession::boundariesChanged, rerun, qOverload<>(&QTimer::start));
    connect(worker_, &InferenceWorker::modelLoaded, this, [this](quint64, const ModelInfo& info) {
        host_.showStatus(tr("Model %1 loaded on %2 in %3 ms").arg(info.name, info.device).arg(info.loadMs, 0, 'f', 0), 6000);
        // Block sizes in the model's own tokens from now on (issue 15), not approx-tokens; a
        // server's model in the tokenizer fetched from it (issue 22). Without one, approx-tokens.
        segmentation_.runner()->setTokenizerFile(info.tokenizerFile);
        segmentation_.requestSegmentation();
    });
    connect(worker_, &InferenceWorker::modelUnloaded, this, [this] {
        segmentation_.runner()->setTokenizerFile({});
        segmentation_.requestSegmentation();
    });
    // The Model panel's estimate for the document on screen, in the tokens blocks are measured in.
    connect(&segmentation_, &SegmentationFeature::segmentationShown, this, [this] {
        const auto grid = segmentation_.runner()->grid();
        const auto& result = segmentation_.lastResult();
        if (grid && result.document && grid->textLength() == result.document->length())
            modelPanel_->setDocumentTokens(static_cast<qint64>(grid->size()));
    });
}

void InferenceFeature::buildActions()
{
    QAction* run = addMenuAction(host_, FeatureHost::Menu::View, "runComparison", tr("Run Side by Side"),
                                 {QKeySequence(tr("Ctrl+R"))}, false);
    connect(run, &QAction::triggered, this, [this] { runWhenReady(); });
    // The race of the two TTFTs: replays the last result, or runs first.
    QAction* race = addMenuAction(host_, FeatureHost::Menu::View, "raceTtft", tr("TTFT Race"), {QKeySequence(tr("Ctrl+Shift+R"))}, false);
    connect(race, &QAction::triggered, this, [this] {
        // The race scrolled into view (the dock may be shorter than the whole comparison), only
        // vertically: ensureWidgetVisible also scrolled sideways, cutting off the left edge of the
        // race and the columns (issue 15). x = 0: the left edge stays in view.
        auto showRace = [dock = compareDock_, view = compareView_] {
            auto* area = qobject_cast<QScrollArea*>(dock->widget());
            if (!area || !area->widget())
                return;
            const QWidget* race = view->race();
            const int top = race->mapTo(area->widget(), QPoint(0, 0)).y();
            area->ensureVisible(0, top + race->height() / 2, 0, race->height() / 2 + 8);
        };
        if (const auto& r = compareView_->lastReport()) {
            compareDock_->show();
            compareDock_->raise();
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

    // The repair chart: shows its tab and sweeps the document on screen.
    QAction* repairs = addMenuAction(host_, FeatureHost::Menu::View, "repairChart", tr("Repair Chart"),
                                     {QKeySequence(tr("Ctrl+Shift+K"))}, false);
    connect(repairs, &QAction::triggered, this, [this] {
        repairDock_->show();
        repairDock_->raise();
        whenModelReady([this] { repairPanel_->run(); });
    });
    host_.setCompletion(QStringLiteral("repairChart"), [this](QObject* context, std::function<void()> done) {
        connect(repairPanel_, &RepairPanel::sweepShown, context, done);
        connect(repairPanel_, &RepairPanel::sweepFailed, context, done);
    });

    presentation_ = new PresentationMode(host_.window(), workbench_.session(), workbench_.pane()->view());
    QAction* present = addMenuAction(host_, FeatureHost::Menu::View, "presentationMode", tr("Presentation Mode"),
                                     {QKeySequence(Qt::Key_F11)}, false);
    connect(present, &QAction::triggered, this, [this] { presentation_->toggle(); });
    // Not in a menu (Space and the arrows do this while presenting): lets scripts step through.
    auto* presentNext = new QAction(tr("Next Presentation Step"), host_.window());
    presentNext->setObjectName(QStringLiteral("presentationNext"));
    connect(presentNext, &QAction::triggered, this, [this] { presentation_->next(); });
    host_.window()->addAction(presentNext);

    // The recovery by block distillation (issue 19): the side by side with the block-distilled
    // counterpart of the loaded model beside; presentation mode ends with it.
    QAction* distilled = addMenuAction(host_, FeatureHost::Menu::View, "compareDistilled", tr("Compare with Block-Distilled Model"), {}, false);
    connect(distilled, &QAction::triggered, this, [this] {
        whenModelReady([this] {
            QString why;
            const QString dir = distilledModel(&why);
            if (dir.isEmpty()) {
                compareView_->showError(why);
                return;
            }
            if (presentation_->isActive() && !otherModelBeforePresentation_)
                otherModelBeforePresentation_ = compareView_->otherModelPicker()->directory();
            compareView_->otherModelPicker()->setDirectory(dir);
            runWhenReady();
        });
    });
    host_.setCompletion(QStringLiteral("compareDistilled"), [this](QObject* context, std::function<void()> done) {
        connect(compareView_, &CompareView::comparisonShown, context, done);
        connect(compareView_, &CompareView::comparisonFailed, context, done);
    });
    presentation_->setDistilledModelFinder([this](QString* why) { return distilledModel(why); });
    connect(presentation_, &PresentationMode::exited, this, [this] {
        if (otherModelBeforePresentation_)
            compareView_->otherModelPicker()->setDirectory(*std::exchange(otherModelBeforePresentation_, std::nullopt));
    });

    // Scripts wait for the comparison's result (and for the race to reach the finish).
    host_.setCompletion(QStringLiteral("runComparison"), [this](QObject* context, std::function<void()> done) {
        connect(compareView_, &CompareView::comparisonShown, context, done);
        connect(compareView_, &CompareView::comparisonFailed, context, done);
    });
    host_.setCompletion(QStringLiteral("raceTtft"), [this](QObject* context, std::function<void()> done) {
        connect(compareView_->race(), &TtftRace::finished, context, done);
        connect(compareView_, &CompareView::comparisonFailed, context, done);
    });
}

void InferenceFeature::runWhenReady()
{
    compareDock_->show(); // room is made when it shows (roomWhenShown), never by a minimum size
    compareDock_->raise();
    whenModelReady([this] { compareView_->run(); });
}

void InferenceFeature::whenModelReady(std::function<void()> run)
{
    if (!worker_->model() && worker_->isLoading()) {
        host_.showStatus(tr("The comparison starts once the model is loaded…"), 5000);
        // Loaded or not (then run() says there is no model), once.
        auto connections = std::make_shared<std::pair<QMetaObject::Connection, QMetaObject::Connection>>();
        auto go = [connections, run] {
            disconnect(connections->first);
            disconnect(connections->second);
            run();
        };
        connections->first = connect(worker_, &InferenceWorker::modelLoaded, this, go);
        connections->second = connect(worker_, &InferenceWorker::failed, this, [this, go] {
            if (!worker_->isLoading())
                go();
        });
        return;
    }
    run();
}

void InferenceFeature::loadModel(const QString& directory, const QString& device)
{
    modelPanel_->setDirectory(directory);
    modelPanel_->setDevice(device);
    LoadJob job;
    job.directory = directory;
    job.device = device; // even one the panel does not offer: the engine then says why it cannot
    modelPanel_->load(job);
}

QString InferenceFeature::distilledModel(QString* why) const
{
    const QString base = worker_->model() ? worker_->model()->directory : modelPanel_->directory();
    if (base.isEmpty()) {
        if (why)
            *why = tr("no model is loaded, so there is no block-distilled model to put beside it.");
        return {};
    }
    const QString dir = findDistilledModel(base);
    if (dir.isEmpty() && why) {
        const QString name = QFileInfo(base).fileName();
        *why = tr("no block-distilled model for %1 (a model directory named %1%2 beside it or among the bundled models); "
                  "blocklens-cli train-block makes one.")
                   .arg(name, distilledSuffixes().join(QStringLiteral(", %1").arg(name)));
    }
    return dir;
}

std::optional<CompareJob> InferenceFeature::currentCompareJob(QString* why) const
{
    const auto doc = workbench_.document();
    if (!doc) {
        if (why)
            *why = tr("Open a document first: its blocks are what the comparison runs on.");
        return std::nullopt;
    }
    CompareJob job;
    job.document = doc;
    for (const Boundary& b : workbench_.session()->boundaries())
        job.cuts.push_back(b.offset);
    return job;
}

} // namespace blocklens::ui
