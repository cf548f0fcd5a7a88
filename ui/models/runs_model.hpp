#pragma once
// Item models of the experiments browser:
//   RunsModel         the store's inference runs, one row each (Qt::UserRole: the stored value,
//                     for sorting and for checks; DisplayRole: the formatted value, see format*).
//   StoreTableModel   any store::Table (evaluations), same roles.
//   ExperimentFilterModel  sorts by UserRole and keeps rows whose columns equal chosen values
//                     (model, document, segmenter, mode...).
#include "experiments/experiments_snapshot.hpp"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <map>

namespace blocklens::ui {

// How numbers are shown in tables: milliseconds with 2 decimals, FLOPs and bytes with 4
// significant digits, ratios with 4 decimals, counts as integers.
QString formatMs(double ms);
QString formatScientific(double v);
QString formatRatio(double v);
// Exact: the shortest text that reads back as the same double (details view).
QString formatExact(double v);

class RunsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Id, Created, Model, Mode, Document, Segmenter, Device, DType, Tokens, Blocks, TtftMs, PrefillMs, Flops, KvBytes,
        CacheHits, CacheMisses, MeanKl, Top1,
        Repair,  // the repair family of the mode (runRepair): full, block-cached, sink, recompute-first, ...
        Setting, // its setting (k, r, N); UserRole: the number
        ColumnCount
    };
    explicit RunsModel(QObject* parent = nullptr);

    void setSnapshot(const ExperimentsSnapshot& snapshot);
    const store::RunRecord& run(int row) const { return runs_[static_cast<std::size_t>(row)]; }
    int rowOfRun(store::Id id) const; // -1 if absent
    QStringList distinctValues(int column) const; // for the filter boxes, sorted

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<store::RunRecord> runs_;
    std::vector<QString> documents_, segmenters_;
    std::vector<RunRepair> repairs_;
};

class StoreTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    explicit StoreTableModel(QObject* parent = nullptr);
    void setTable(store::Table table);
    const store::Table& table() const { return table_; }
    int column(const std::string& name) const; // -1 if absent
    QStringList distinctValues(int column) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    store::Table table_;
};

class ExperimentFilterModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit ExperimentFilterModel(QObject* parent = nullptr);
    // Keep rows whose column shows exactly `value`; an empty value removes the filter.
    void setColumnFilter(int column, const QString& value);
    void clearFilters();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    std::map<int, QString> filters_;
};

} // namespace blocklens::ui
