#include "experiments/experiments_browser.hpp"

#include "experiments/run_details.hpp"
#include "models/runs_model.hpp"
#include "view_export.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace blocklens::ui {
namespace {

const QString kAny = QObject::tr("any");

QTableView* makeTable(QAbstractItemModel* model)
{
    auto* t = new QTableView;
    t->setModel(model);
    t->setSortingEnabled(true);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setAlternatingRowColors(true);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    return t;
}

} // namespace

ExperimentsBrowser::ExperimentsBrowser(QWidget* parent)
    : QWidget(parent), source_(new QLabel), tabs_(new QTabWidget), runs_(new RunsModel(this)),
      runsProxy_(new ExperimentFilterModel(this)), evals_(new StoreTableModel(this)), evalsProxy_(new ExperimentFilterModel(this)),
      details_(new RunDetails), chart_(new ExperimentChart), chartKind_(new QComboBox), chartMetric_(new QComboBox),
      runsCount_(new QLabel)
{
    setObjectName(QStringLiteral("experimentsBrowser"));
    runsProxy_->setSourceModel(runs_);
    evalsProxy_->setSourceModel(evals_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    auto* top = new QHBoxLayout;
    source_->setWordWrap(true);
    top->addWidget(source_, 1);
    auto* open = new QPushButton(tr("Open Store…"));
    open->setToolTip(tr("Browse another workspace or a store recorded elsewhere (e.g. runs from a GPU machine)"));
    connect(open, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open experiment store"), {}, tr("SQLite stores (*.db *.sqlite);;All files (*)"));
        if (!path.isEmpty())
            openStore(path);
    });
    auto* refresh = new QPushButton(tr("Reload"));
    connect(refresh, &QPushButton::clicked, this, &ExperimentsBrowser::reload);
    top->addWidget(open);
    top->addWidget(refresh);
    layout->addLayout(top);
    layout->addWidget(tabs_, 1);

    // Runs: filters, table, details of the selected run.
    auto* runsPage = new QWidget;
    auto* runsLayout = new QVBoxLayout(runsPage);
    runsLayout->setContentsMargins(0, 4, 0, 0);
    auto* filters = new QHBoxLayout;
    const std::pair<int, QString> runColumns[] = {
        {RunsModel::Model, tr("Model")},   {RunsModel::Document, tr("Document")}, {RunsModel::Segmenter, tr("Segmenter")},
        {RunsModel::Mode, tr("Mode")},     {RunsModel::Repair, tr("Repair")}};
    for (const auto& [column, label] : runColumns) {
        auto* box = new QComboBox;
        box->setObjectName(QStringLiteral("runFilter%1").arg(column));
        // Narrow at least: the five filters and the count fit the dock of a 1366-pixel screen
        // (912 px wide there); each box widens when there is room.
        box->setMinimumContentsLength(5);
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        filters->addWidget(new QLabel(label));
        filters->addWidget(box, 1);
        runFilters_[column] = box;
        connect(box, &QComboBox::currentIndexChanged, this, [this, column = column, box] {
            runsProxy_->setColumnFilter(column, box->currentIndex() <= 0 ? QString() : box->currentText());
            runsCount_->setText(tr("%1 of %2 runs").arg(runsProxy_->rowCount()).arg(runs_->rowCount()));
            refreshChart();
        });
    }
    filters->addWidget(runsCount_);
    runsLayout->addLayout(filters);
    auto* split = new QSplitter(Qt::Horizontal);
    runsTable_ = makeTable(runsProxy_);
    runsTable_->setObjectName(QStringLiteral("runsTable"));
    // What one compares first (document, segmenter, mode, tokens, TTFT, divergence) on the left,
    // where a narrow dock shows it; the rest of the record after it.
    {
        QHeaderView* header = runsTable_->horizontalHeader();
        int to = 1;
        for (int column : {RunsModel::Document, RunsModel::Segmenter, RunsModel::Mode, RunsModel::Tokens, RunsModel::TtftMs,
                           RunsModel::MeanKl, RunsModel::Top1})
            header->moveSection(header->visualIndex(column), to++);
        header->setMaximumSectionSize(fontMetrics().horizontalAdvance(QLatin1Char('x')) * 24);
        runsTable_->setTextElideMode(Qt::ElideMiddle);
    }
    split->addWidget(runsTable_);
    split->addWidget(details_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    runsLayout->addWidget(split, 1);
    connect(runsTable_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
        if (!current.isValid()) {
            details_->clear();
            return;
        }
        details_->showRun(runs_->run(runsProxy_->mapToSource(current).row()), snapshot_.documents);
    });
    tabs_->addTab(runsPage, tr("Runs"));

    // Evaluations: filters by segmenter, document and category.
    auto* evalPage = new QWidget;
    auto* evalLayout = new QVBoxLayout(evalPage);
    evalLayout->setContentsMargins(0, 4, 0, 0);
    auto* evalFilters = new QHBoxLayout;
    for (const char* name : {"segmenter", "document", "category", "protocol"}) {
        auto* box = new QComboBox;
        box->setObjectName(QStringLiteral("evalFilter_%1").arg(QLatin1String(name)));
        box->setProperty("column", QString::fromLatin1(name));
        evalFilters->addWidget(new QLabel(QString::fromLatin1(name)));
        evalFilters->addWidget(box, 1);
        connect(box, &QComboBox::currentIndexChanged, this, [this, box] {
            const int column = evals_->column(box->property("column").toString().toStdString());
            if (column >= 0)
                evalsProxy_->setColumnFilter(column, box->currentIndex() <= 0 ? QString() : box->currentText());
        });
        evalFilters_[-1 - static_cast<int>(evalFilters_.size())] = box;
    }
    evalLayout->addLayout(evalFilters);
    evalsTable_ = makeTable(evalsProxy_);
    evalsTable_->setObjectName(QStringLiteral("evaluationsTable"));
    evalLayout->addWidget(evalsTable_, 1);
    tabs_->addTab(evalPage, tr("Evaluations"));

    // Charts.
    auto* chartPage = new QWidget;
    auto* chartLayout = new QVBoxLayout(chartPage);
    chartLayout->setContentsMargins(0, 4, 0, 0);
    auto* chartBar = new QHBoxLayout;
    chartKind_->setObjectName(QStringLiteral("chartKind"));
    for (auto kind : {ExperimentChart::Kind::TtftVsLength, ExperimentChart::Kind::FlopsVsLength, ExperimentChart::Kind::CacheHitRate,
                      ExperimentChart::Kind::SegmentationMetrics, ExperimentChart::Kind::RepairSettings})
        chartKind_->addItem(ExperimentChart::title(kind), static_cast<int>(kind));
    chartMetric_->setObjectName(QStringLiteral("chartMetric"));
    auto* exportButton = new QPushButton(tr("Export PNG/SVG…"));
    exportButton->setToolTip(tr("Save this chart as a PNG (2x) or SVG file"));
    connect(exportButton, &QPushButton::clicked, this, &ExperimentsBrowser::exportChart);
    chartBar->addWidget(chartKind_, 1);
    chartBar->addWidget(chartMetric_);
    chartBar->addWidget(exportButton);
    chartLayout->addLayout(chartBar);
    chartLayout->addWidget(chart_, 1);
    chartNote_ = new QLabel;
    chartNote_->setObjectName(QStringLiteral("chartNote"));
    chartNote_->setWordWrap(true);
    chartNote_->setForegroundRole(QPalette::PlaceholderText);
    chartLayout->addWidget(chartNote_);
    connect(chartKind_, &QComboBox::currentIndexChanged, this, &ExperimentsBrowser::refreshChart);
    connect(chartMetric_, &QComboBox::currentIndexChanged, this, &ExperimentsBrowser::refreshChart);
    tabs_->addTab(chartPage, tr("Charts"));

    connect(&watcher_, &QFutureWatcher<ExperimentsSnapshot>::finished, this, [this] { showSnapshot(watcher_.result()); });
    source_->setText(tr("No store open."));
    refreshChart();
}

void ExperimentsBrowser::openWorkspace(const WorkspaceGateway* workspace)
{
    workspace_ = nullptr;
    if (!workspace || !workspace->isOpen()) {
        openStore({});
        return;
    }
    workspace_ = workspace;
    const QString path = workspace->path();
    source_->setText(tr("Reading %1…").arg(path));
    watcher_.setFuture(workspace->read<ExperimentsSnapshot>([path](store::Store& db) { return readExperiments(db, path); },
                                                            [path](const QString& error) { return failedSnapshot(path, error); },
                                                            browseOptions()));
}

void ExperimentsBrowser::openStore(const QString& path)
{
    workspace_ = nullptr;
    if (path.isEmpty()) {
        source_->setText(tr("No workspace: open a store file (Open Store…)."));
        Q_EMIT loadFailed(source_->text());
        return;
    }
    source_->setText(tr("Reading %1…").arg(path));
    watcher_.setFuture(readExperimentsAsync(path));
}

void ExperimentsBrowser::reload()
{
    if (workspace_)
        openWorkspace(workspace_);
    else if (!snapshot_.path.isEmpty())
        openStore(snapshot_.path);
}

void ExperimentsBrowser::showSnapshot(const ExperimentsSnapshot& snapshot)
{
    if (!snapshot.error.isEmpty()) {
        source_->setText(tr("Could not read the store: %1").arg(snapshot.error));
        Q_EMIT loadFailed(snapshot.error);
        return;
    }
    snapshot_ = snapshot;
    runs_->setSnapshot(snapshot_);
    evals_->setTable(snapshot_.evaluations);
    details_->clear();
    refillFilterBoxes();
    source_->setText(tr("%1 — %2 runs, %3 evaluations, %4 documents")
                         .arg(snapshot_.path)
                         .arg(snapshot_.runs.size())
                         .arg(snapshot_.evaluations.rows.size())
                         .arg(snapshot_.documents.size()));
    runsTable_->sortByColumn(RunsModel::Id, Qt::AscendingOrder);
    // The newest run is the one most likely wanted: selected, its numbers shown.
    if (!snapshot_.runs.empty()) {
        const QModelIndex newest = runsProxy_->mapFromSource(runs_->index(runs_->rowOfRun(snapshot_.runs.back().id), 0));
        if (newest.isValid())
            runsTable_->setCurrentIndex(newest);
    }
    refreshChart();
    Q_EMIT loaded();
}

void ExperimentsBrowser::refillFilterBoxes()
{
    auto refill = [](QComboBox* box, const QStringList& values) {
        const QString keep = box->currentIndex() > 0 ? box->currentText() : QString();
        const QSignalBlocker block(box);
        box->clear();
        box->addItem(kAny);
        box->addItems(values);
        box->setCurrentIndex(std::max(0, box->findText(keep)));
    };
    for (const auto& [column, box] : runFilters_) {
        refill(box, runs_->distinctValues(column));
        runsProxy_->setColumnFilter(column, box->currentIndex() <= 0 ? QString() : box->currentText());
    }
    for (const auto& [key, box] : evalFilters_) {
        const int column = evals_->column(box->property("column").toString().toStdString());
        refill(box, column >= 0 ? evals_->distinctValues(column) : QStringList());
        if (column >= 0)
            evalsProxy_->setColumnFilter(column, box->currentIndex() <= 0 ? QString() : box->currentText());
    }
    runsCount_->setText(tr("%1 of %2 runs").arg(runsProxy_->rowCount()).arg(runs_->rowCount()));
}

void ExperimentsBrowser::setRunFilter(int runsColumn, const QString& value)
{
    const auto it = runFilters_.find(runsColumn);
    if (it == runFilters_.end())
        return;
    it->second->setCurrentIndex(value.isEmpty() ? 0 : std::max(0, it->second->findText(value)));
}

void ExperimentsBrowser::selectRun(store::Id id)
{
    const int row = runs_->rowOfRun(id);
    if (row < 0)
        return;
    const QModelIndex proxyIndex = runsProxy_->mapFromSource(runs_->index(row, 0));
    if (proxyIndex.isValid()) {
        tabs_->setCurrentIndex(0);
        runsTable_->setCurrentIndex(proxyIndex);
    } else {
        details_->showRun(runs_->run(row), snapshot_.documents);
    }
}

std::vector<store::RunRecord> ExperimentsBrowser::filteredRuns() const
{
    std::vector<store::RunRecord> out;
    for (int r = 0; r < runs_->rowCount(); ++r)
        if (runsProxy_->mapFromSource(runs_->index(r, 0)).isValid())
            out.push_back(runs_->run(r));
    return out;
}

void ExperimentsBrowser::showChart(ExperimentChart::Kind kind, ExperimentChart::Metric metric)
{
    {
        const QSignalBlocker block(chartKind_);
        chartKind_->setCurrentIndex(chartKind_->findData(static_cast<int>(kind)));
    }
    offerMetrics(kind);
    {
        // A metric of another kind (the default F1 for a repair chart) leaves the kind's first.
        const QSignalBlocker block(chartMetric_);
        chartMetric_->setCurrentIndex(std::max(0, chartMetric_->findData(static_cast<int>(metric))));
    }
    tabs_->setCurrentIndex(2);
    refreshChart();
}

void ExperimentsBrowser::offerMetrics(ExperimentChart::Kind kind)
{
    const auto metrics = ExperimentChart::metrics(kind);
    chartMetric_->setVisible(!metrics.empty());
    if (static_cast<std::size_t>(chartMetric_->count()) == metrics.size() &&
        (metrics.empty() || chartMetric_->itemData(0).toInt() == static_cast<int>(metrics.front())))
        return; // offered already: keep the choice
    const QSignalBlocker block(chartMetric_);
    chartMetric_->clear();
    for (auto m : metrics)
        chartMetric_->addItem(ExperimentChart::metricName(m), static_cast<int>(m));
}

void ExperimentsBrowser::refreshChart()
{
    const auto kind = static_cast<ExperimentChart::Kind>(chartKind_->currentData().toInt());
    offerMetrics(kind);
    chart_->plot(kind, filteredRuns(), snapshot_.metrics, static_cast<ExperimentChart::Metric>(chartMetric_->currentData().toInt()));
    QString note = kind == ExperimentChart::Kind::SegmentationMetrics ? QString() : tr("Charts follow the run filters of the Runs tab.");
    if (!chart_->note().isEmpty())
        note = note.isEmpty() ? chart_->note() : chart_->note() + QLatin1Char(' ') + note;
    chartNote_->setText(note);
}

QString ExperimentsBrowser::exportChartTo(const QString& path)
{
    return exportWidget(chart_, path);
}

void ExperimentsBrowser::exportChart()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export chart"), QStringLiteral("blocklens-chart.png"),
                                                      tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (path.isEmpty())
        return;
    const QString error = exportChartTo(path);
    source_->setText(error.isEmpty() ? tr("Saved %1").arg(path) : error);
}

} // namespace blocklens::ui
