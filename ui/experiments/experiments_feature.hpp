#pragma once
// The experiments feature (issue 7): the Experiments dock (experimentsDock: the workspace's
// recorded runs and evaluations, charts), read in the background when first shown, and the
// actions that open another store or show a chart.
#include <QObject>

class QDockWidget;

namespace blocklens::ui {

class ExperimentsBrowser;
class FeatureHost;

class ExperimentsFeature : public QObject {
    Q_OBJECT
public:
    explicit ExperimentsFeature(FeatureHost& host);

    ExperimentsBrowser* browser() const { return browser_; }

private:
    void showDock();

    FeatureHost& host_;
    ExperimentsBrowser* browser_;
    QDockWidget* dock_;
};

} // namespace blocklens::ui
