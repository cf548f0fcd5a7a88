#include "main_window.hpp"

#include "analysis/analysis_feature.hpp"
#include "annotation/store_writer.hpp"
#include "banner.hpp"
#include "dock_scroll.hpp"
#include "experiments/experiments_feature.hpp"
#include "adjudication/adjudication_feature.hpp"
#include "segmentation/segmentation_feature.hpp"
#include "shortcut_overlay.hpp"
#include "theme.hpp"
#include "workbench/editing_actions.hpp"
#include "workbench/workbench.hpp"
#include "workspace/workspace_gateway.hpp"
#if BLOCKLENS_WITH_TORCH
#include "inference/inference_feature.hpp"
#include "retrain/retrain_feature.hpp"
#endif

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <QTimer>
#include <QVBoxLayout>

namespace blocklens::ui {

MainWindow::MainWindow(const QString& workspace, QWidget* parent)
    : QMainWindow(parent), workspace_(new WorkspaceGateway(workspace, this)), banner_(new Banner), pane_(new DocumentPane)
{
    setWindowTitle(tr("BlockLens"));
    setAcceptDrops(true);
    setObjectName(QStringLiteral("MainWindow"));
    // Central area: the banner for errors and notices (hidden until needed) above the document.
    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(banner_);
    layout->addWidget(pane_, 1);
    setCentralWidget(central);
    overlay_ = new ShortcutOverlay(this);
    menus_[Menu::File] = menuBar()->addMenu(tr("&File"));
    menus_[Menu::Edit] = menuBar()->addMenu(tr("&Edit"));
    menus_[Menu::View] = menuBar()->addMenu(tr("&View"));
    menus_[Menu::Help] = menuBar()->addMenu(tr("&Help"));

    addFeatures();
    addWindowActions();
    arrangeDocks();
    statusBar()->showMessage(tr("Open a document or a dataset (Ctrl+O), or drop a file here. F1 lists the shortcuts."));
    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray()))
        resize(1280, 820);
    restoreState(settings.value(QStringLiteral("windowState")).toByteArray());
}

MainWindow::~MainWindow()
{
    // Features first, newest first, while the window and their tool views still exist.
    for (auto it = features_.rbegin(); it != features_.rend(); ++it)
        delete *it;
    workspace_->flush();
}

void MainWindow::addFeatures()
{
    // The order is the order of the menus' entries and of the docks (later features use earlier ones).
    workbench_ = new Workbench(*this);
    auto* editing = new EditingActions(*this, *workbench_);
    segmentation_ = new SegmentationFeature(*this, *workbench_);
    features_ = {workbench_, editing, segmentation_};
#if BLOCKLENS_WITH_TORCH
    inference_ = new InferenceFeature(*this, *workbench_, *segmentation_);
    retrain_ = new RetrainFeature(*this, *workbench_, *segmentation_);
    features_.insert(features_.end(), {inference_, retrain_});
#endif
    analysis_ = new AnalysisFeature(*this, *workbench_, *segmentation_, inferenceWorker());
    experiments_ = new ExperimentsFeature(*this);
    features_.insert(features_.end(), {analysis_, experiments_, new AdjudicationFeature(*this, *workbench_)});

    // The window's signals, after the features' own handlers (scripts react last).
    connect(workbench_, &Workbench::inputShown, this, &MainWindow::inputShown);
    connect(workbench_, &Workbench::inputFailed, this, &MainWindow::inputFailed);
    connect(segmentation_, &SegmentationFeature::segmentationShown, this, &MainWindow::segmentationShown);
    connect(segmentation_, &SegmentationFeature::reviewQueueReady, this, &MainWindow::reviewQueueReady);
    connect(analysis_, &AnalysisFeature::attentionShown, this, &MainWindow::attentionShown);
    connect(analysis_, &AnalysisFeature::attentionFailed, this, &MainWindow::attentionFailed);
}

void MainWindow::addWindowActions()
{
    // The theme, saved for later launches (a --dark or --light flag is for its run only); in the
    // View menu before the segmentation feature's Show Token Boundaries, where it always was.
    auto* dark = new QAction(tr("&Dark Theme"), menu(Menu::View));
    dark->setObjectName(QStringLiteral("darkTheme"));
    dark->setShortcut(QKeySequence(tr("Ctrl+Shift+D")));
    dark->setCheckable(true);
    dark->setChecked(Theme::fromPalette(QApplication::palette()).dark); // the theme of this run
    connect(dark, &QAction::triggered, this, [](bool on) {
        QApplication::setPalette(on ? darkPalette() : lightPalette());
        QSettings().setValue(QStringLiteral("darkTheme"), on);
    });
    menu(Menu::View)->insertAction(action(QStringLiteral("showTokens")), dark); // appended when there is none
    addAction(dark);

    menu(Menu::File)->addSeparator();
    menu(Menu::File)->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);
    QAction* shortcuts = menu(Menu::Help)->addAction(tr("Keyboard &Shortcuts"), this, [this] {
        QList<QAction*> all;
        for (Menu m : {Menu::File, Menu::Edit, Menu::View})
            all.append(menu(m)->actions());
        overlay_->showOver(all);
    });
    shortcuts->setObjectName(QStringLiteral("shortcuts"));
    shortcuts->setShortcuts({QKeySequence(Qt::Key_F1), QKeySequence(Qt::Key_Question)});
    menu(Menu::Help)->addAction(tr("&About BlockLens"), this, [this] {
        QMessageBox::about(this, tr("About BlockLens"),
                           tr("<b>BlockLens</b> explores block attention: where to cut a long input into "
                              "independently encoded blocks, and what each cut costs."));
    });
}

QMenu* MainWindow::menu(Menu which)
{
    QMenu*& menu = menus_[which];
    if (!menu) { // only Segment is made on demand, before Help
        menu = new QMenu(tr("&Segment"), menuBar());
        menu->setObjectName(QStringLiteral("segmentMenu"));
        menuBar()->insertMenu(menus_[Menu::Help]->menuAction(), menu);
    }
    return menu;
}

QDockWidget* MainWindow::addToolView(const QString& objectName, const QString& title, QWidget* content, Qt::DockWidgetArea area,
                                     const ToolViewOptions& options)
{
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(objectName);
    dock->setWidget(options.scrolled ? scrolledForDock(content) : content);
    addDockWidget(area, dock);
    if (!options.tabWith.isEmpty())
        if (auto* beside = findChild<QDockWidget*>(options.tabWith))
            tabifyDockWidget(beside, dock);
    if (options.hidden)
        dock->hide();
    if (options.roomWhenShown)
        makeRoomWhenShown(dock);
    return dock;
}

void MainWindow::arrangeDocks()
{
    // Right column: the segmenter alone on top (it is used all the time), then the document's
    // facts, the metrics and the model as tabs, so that the column fits a 768-pixel screen with
    // room in each (issue 15). The side columns run the full height; the bottom tabs (chart, side
    // by side, heatmap, experiments) sit under the document between them, so opening one never
    // squeezes the segmenter's column to nothing.
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    auto* stats = findChild<QDockWidget*>(QStringLiteral("statsDock"));
    if (auto* seg = findChild<QDockWidget*>(QStringLiteral("segmenterDock")); seg && stats)
        splitDockWidget(seg, stats, Qt::Vertical);
    setTabPosition(Qt::RightDockWidgetArea, QTabWidget::North);
    for (const char* name : {"metricsDock", "modelDock"})
        if (auto* d = findChild<QDockWidget*>(QLatin1String(name)); d && stats)
            tabifyDockWidget(stats, d);
    if (stats)
        stats->raise();
    // Shown from the View menu, a dock that shares tabs comes to the front, not behind a tab.
    // (Queued: the action's toggled comes before it shows the dock.)
    for (QDockWidget* dock : findChildren<QDockWidget*>())
        connect(dock->toggleViewAction(), &QAction::toggled, dock, [dock](bool on) {
            if (on)
                QTimer::singleShot(0, dock, [dock] { dock->raise(); });
        });
}

void MainWindow::makeRoomWhenShown(QDockWidget* dock)
{
    // After the layout has placed the dock (resizing in the same event does not stick). The
    // docks' contents scroll, so this only moves the split between the document and the dock:
    // the window keeps its size.
    connect(dock, &QDockWidget::visibilityChanged, this, [this, dock](bool visible) {
        if (!visible)
            return;
        QTimer::singleShot(0, this, [this, dock] {
            if (dock->isVisible() && dock->height() < height() / 2)
                resizeDocks({dock}, {height() * 11 / 20}, Qt::Vertical);
        });
    });
}

void MainWindow::showStatus(const QString& message, int timeoutMs) { statusBar()->showMessage(message, timeoutMs); }
void MainWindow::showBanner(const QString& message, bool isError, const QString& actionText, std::function<void()> action)
{
    banner_->showMessage(message, isError, actionText, std::move(action));
}
void MainWindow::hideBanner() { banner_->hide(); }
QString MainWindow::errorText() const { return banner_->text(); }
QPushButton* MainWindow::bannerAction() const { return banner_->actionButton(); }
void MainWindow::setCompletion(const QString& actionName, Completion completion) { completions_[actionName] = std::move(completion); }
FeatureHost::Completion MainWindow::completion(const QString& actionName) const
{
    const auto it = completions_.find(actionName);
    return it == completions_.end() ? Completion() : it->second;
}
QAction* MainWindow::action(const QString& objectName) const { return findChild<QAction*>(objectName); }

// Delegations to the features.
void MainWindow::openPath(const QString& path, bool replaceInvalidUtf8) { workbench_->openPath(path, replaceInvalidUtf8); }
bool MainWindow::isLoading() const { return workbench_->isLoading(); }
QString MainWindow::exportViewTo(const QString& path) { return workbench_->exportViewTo(path); }
QString MainWindow::exportDatasetTo(const QString& path) { return workbench_->exportDatasetTo(path); }
DocumentView* MainWindow::documentView() const { return pane_->view(); }
AnnotationSession* MainWindow::annotation() const { return workbench_->session(); }
StoreWriter* MainWindow::storeWriter() const { return workspace_->writer(); }
StatsPanel* MainWindow::statsPanel() const { return workbench_->statsPanel(); }
DatasetBrowser* MainWindow::datasetBrowser() const { return workbench_->datasetBrowser(); }
SegmenterPanel* MainWindow::segmenterPanel() const { return segmentation_->panel(); }
ScoreChart* MainWindow::scoreChart() const { return segmentation_->chart(); }
MetricsPanel* MainWindow::metricsPanel() const { return segmentation_->metrics(); }
SegmentationRunner* MainWindow::segmentationRunner() { return segmentation_->runner(); }
const SegmentResult& MainWindow::lastSegmentation() const { return segmentation_->lastResult(); }
const std::vector<std::size_t>& MainWindow::suggestions() const { return segmentation_->suggestions(); }
AttentionPanel* MainWindow::attentionPanel() const { return analysis_->panel(); }
ExperimentsBrowser* MainWindow::experimentsBrowser() const { return experiments_->browser(); }
#if BLOCKLENS_WITH_TORCH
InferenceWorker* MainWindow::inferenceWorker() const { return inference_ ? inference_->worker() : nullptr; }
ModelPanel* MainWindow::modelPanel() const { return inference_->modelPanel(); }
CompareView* MainWindow::compareView() const { return inference_->compareView(); }
PresentationMode* MainWindow::presentationMode() const { return inference_->presentationMode(); }
RetrainController* MainWindow::retrainController() const { return retrain_->controller(); }
void MainWindow::loadModel(const QString& directory, const QString& device) { inference_->loadModel(directory, device); }
#else
InferenceWorker* MainWindow::inferenceWorker() const { return nullptr; }
ModelPanel* MainWindow::modelPanel() const { return nullptr; }
CompareView* MainWindow::compareView() const { return nullptr; }
PresentationMode* MainWindow::presentationMode() const { return nullptr; }
RetrainController* MainWindow::retrainController() const { return nullptr; }
void MainWindow::loadModel(const QString&, const QString&) {}
#endif

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("geometry"), saveGeometry());
    settings.setValue(QStringLiteral("windowState"), saveState());
    workspace_->flush();
    event->accept();
}

void MainWindow::resizeEvent(QResizeEvent* event)
{
    QMainWindow::resizeEvent(event);
    if (overlay_ && overlay_->isVisible())
        overlay_->setGeometry(rect());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const auto urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile())
        openPath(urls.first().toLocalFile());
}

} // namespace blocklens::ui
