#include "adjudication/adjudication_feature.hpp"

#include "adjudication/adjudication_view.hpp"
#include "feature_host.hpp"
#include "workbench/workbench.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QAction>
#include <QDockWidget>
#include <QMainWindow>
#include <QMenu>

namespace blocklens::ui {

AdjudicationFeature::AdjudicationFeature(FeatureHost& host, Workbench& workbench)
    : QObject(host.window()), host_(host), workbench_(workbench)
{
    if (host.workspace()->isOpen()) {
        view_ = new AdjudicationView(host.workspace()->path(), settingsAnnotator());
        auto* dock = host.addToolView(QStringLiteral("adjudicationDock"), tr("Adjudication"), view_, Qt::BottomDockWidgetArea,
                                      {.scrolled = false, .hidden = true, .roomWhenShown = true});
        host.menu(FeatureHost::Menu::View)->addAction(dock->toggleViewAction());
        connect(view_, &AdjudicationView::failed, this, [this](const QString& message) { host_.showBanner(message, true); });
    }
    auto* adjudicate = addMenuAction(host, FeatureHost::Menu::Segment, "adjudicate", tr("&Adjudicate Dataset"),
                                     {QKeySequence(tr("Ctrl+Shift+J"))});
    connect(adjudicate, &QAction::triggered, this, &AdjudicationFeature::adjudicateDatasetOnScreen);
}

void AdjudicationFeature::adjudicateDatasetOnScreen()
{
    if (!view_) {
        host_.showStatus(tr("Adjudication needs a workspace: the annotators' versions live there."), 5000);
        return;
    }
    if (!workbench_.hasDataset()) {
        host_.showStatus(tr("Open a dataset that several annotators segmented to adjudicate it."), 5000);
        return;
    }
    if (auto* dock = host_.window()->findChild<QDockWidget*>(QStringLiteral("adjudicationDock"))) {
        dock->show();
        dock->raise();
    }
    view_->setFocus();
    view_->openDataset({}, workbench_.inputPath());
}

} // namespace blocklens::ui
