#pragma once
// The experiments browser: the workspace's recorded runs and evaluations, sortable and filtered
// by model, document, segmenter, mode and repair family; a selected run shows every stored number
// again; charts of TTFT and FLOPs against input length, cache hit rate over the session,
// segmentation metrics by segmenter and category, and repairs of block attention (KL, top-1 or
// TTFT against each repair's setting, across documents), each exportable as PNG or SVG. The store
// is read on a worker thread (readExperimentsAsync); the browser shows the last snapshot until the
// new one arrives.
#include "experiments/experiment_chart.hpp"
#include "experiments/experiments_snapshot.hpp"

#include <QFutureWatcher>
#include <QWidget>

class QComboBox;
class QLabel;
class QTabWidget;
class QTableView;

namespace blocklens::ui {

class ExperimentFilterModel;
class RunDetails;
class RunsModel;
class StoreTableModel;
class WorkspaceGateway;

class ExperimentsBrowser : public QWidget {
    Q_OBJECT
public:
    explicit ExperimentsBrowser(QWidget* parent = nullptr);

    // The workspace's runs, read through its gateway (which must outlive the browser), or
    // another store file (a GPU machine's); both in the background: loaded() or loadFailed() follow.
    void openWorkspace(const WorkspaceGateway* workspace);
    void openStore(const QString& path);
    void reload();
    bool isLoading() const { return watcher_.isRunning(); }
    const ExperimentsSnapshot& snapshot() const { return snapshot_; }

    // Filters by shown value ("" = any); the boxes follow.
    void setRunFilter(int runsColumn, const QString& value);
    void selectRun(store::Id id);         // selects it in the table and shows its details
    void showChart(ExperimentChart::Kind kind, ExperimentChart::Metric metric = ExperimentChart::Metric::F1);
    QString exportChartTo(const QString& path); // "" on success, else the problem
    std::vector<store::RunRecord> filteredRuns() const; // in recording order

    RunsModel* runsModel() const { return runs_; }
    ExperimentFilterModel* runsProxy() const { return runsProxy_; }
    StoreTableModel* evaluationsModel() const { return evals_; }
    ExperimentFilterModel* evaluationsProxy() const { return evalsProxy_; }
    QTableView* runsTable() const { return runsTable_; }
    RunDetails* details() const { return details_; }
    ExperimentChart* chart() const { return chart_; }
    QTabWidget* tabs() const { return tabs_; }

Q_SIGNALS:
    void loaded();
    void loadFailed(const QString& message);

private:
    void showSnapshot(const ExperimentsSnapshot& snapshot);
    void refillFilterBoxes();
    void refreshChart();
    void offerMetrics(ExperimentChart::Kind kind); // the metric box lists the kind's metrics
    void exportChart();

    ExperimentsSnapshot snapshot_;
    const WorkspaceGateway* workspace_ = nullptr; // set while the workspace is what is shown
    QFutureWatcher<ExperimentsSnapshot> watcher_;
    QLabel* source_;
    QTabWidget* tabs_;
    RunsModel* runs_;
    ExperimentFilterModel* runsProxy_;
    StoreTableModel* evals_;
    ExperimentFilterModel* evalsProxy_;
    QTableView* runsTable_;
    QTableView* evalsTable_;
    RunDetails* details_;
    ExperimentChart* chart_;
    QComboBox* chartKind_;
    QComboBox* chartMetric_;
    std::map<int, QComboBox*> runFilters_;  // RunsModel column -> box
    std::map<int, QComboBox*> evalFilters_; // evaluations column -> box
    QLabel* runsCount_;
    QLabel* chartNote_ = nullptr; // under the chart: its filters and what it leaves out
};

} // namespace blocklens::ui
