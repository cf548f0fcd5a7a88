#include "experiments/experiments_feature.hpp"

#include "experiments/experiments_browser.hpp"
#include "feature_host.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QAction>
#include <QDockWidget>
#include <QFileDialog>
#include <QMainWindow>
#include <QMenu>

namespace blocklens::ui {

ExperimentsFeature::ExperimentsFeature(FeatureHost& host) : QObject(host.window()), host_(host), browser_(new ExperimentsBrowser)
{
    // A tab beside the score chart along the bottom (full width), taking room when shown: a runs
    // table needs it.
    dock_ = host_.addToolView(QStringLiteral("experimentsDock"), tr("Experiments"), browser_, Qt::BottomDockWidgetArea,
                              {.hidden = true, .tabWith = QStringLiteral("chartDock"), .roomWhenShown = true});
    QAction* show = dock_->toggleViewAction();
    show->setObjectName(QStringLiteral("showExperiments"));
    show->setShortcut(QKeySequence(tr("Ctrl+Shift+X")));
    host_.menu(FeatureHost::Menu::View)->addAction(show);
    auto add = [this](const char* name, const QString& text, auto&& slot) {
        QAction* a = addMenuAction(host_, FeatureHost::Menu::View, name, text);
        connect(a, &QAction::triggered, this, slot);
    };
    const WorkspaceGateway* workspace = host_.workspace();
    // Shows the dock and reads the workspace again (scripts wait for ExperimentsBrowser::loaded).
    add("openExperiments", tr("Experiments: Reload the Workspace's Runs"), [this, workspace] {
        showDock();
        browser_->openWorkspace(workspace);
    });
    add("openExperimentStore", tr("Open &Experiment Store…"), [this] {
        const QString path = QFileDialog::getOpenFileName(host_.window(), tr("Open experiment store"), {},
                                                          tr("SQLite stores (*.db *.sqlite);;All files (*)"));
        if (path.isEmpty())
            return;
        dock_->show();
        browser_->openStore(path);
    });
    // Actions for scripts and screenshots: the experiments charts.
    add("experimentsTtftChart", tr("Experiments: TTFT Chart"), [this] {
        showDock();
        browser_->showChart(ExperimentChart::Kind::TtftVsLength);
    });
    add("experimentsMetricsChart", tr("Experiments: Segmentation Metrics Chart"), [this] {
        showDock();
        browser_->showChart(ExperimentChart::Kind::SegmentationMetrics);
    });
    add("experimentsRepairChart", tr("Experiments: Repairs by Setting Chart"), [this] {
        showDock();
        browser_->showChart(ExperimentChart::Kind::RepairSettings, ExperimentChart::Metric::MeanKl);
    });

    // The workspace's runs appear when the dock is first shown (read in the background).
    connect(dock_, &QDockWidget::visibilityChanged, this, [this, workspace](bool visible) {
        if (visible)
            dock_->raise();
        if (visible && browser_->snapshot().path.isEmpty() && !browser_->isLoading() && workspace->isOpen())
            browser_->openWorkspace(workspace);
    });
    host_.setCompletion(QStringLiteral("openExperiments"), [this](QObject* context, std::function<void()> done) {
        connect(browser_, &ExperimentsBrowser::loaded, context, done);
        connect(browser_, &ExperimentsBrowser::loadFailed, context, done);
    });
}

void ExperimentsFeature::showDock()
{
    dock_->show();
    dock_->raise();
}

} // namespace blocklens::ui
