#include "models/runs_model.hpp"

#include <QLocale>

#include <set>

namespace blocklens::ui {

QString formatMs(double ms) { return QString::number(ms, 'f', 2); }
QString formatScientific(double v) { return QString::number(v, 'g', 4); }
QString formatRatio(double v) { return QString::number(v, 'f', 4); }
QString formatExact(double v) { return QString::number(v, 'g', QLocale::FloatingPointShortest); }

namespace {

QVariant optionalNumber(const std::optional<double>& v) { return v ? QVariant(*v) : QVariant(); }
QVariant optionalNumber(const std::optional<std::int64_t>& v) { return v ? QVariant::fromValue<qlonglong>(*v) : QVariant(); }
QString text(const std::string& s) { return QString::fromStdString(s); }

// The different non-empty texts of one column, sorted (filter choices).
QStringList distinctColumnValues(const QAbstractItemModel& model, int column)
{
    std::set<QString> values;
    for (int r = 0; r < model.rowCount(); ++r) {
        const QString v = model.data(model.index(r, column)).toString();
        if (!v.isEmpty())
            values.insert(v);
    }
    return QStringList(values.begin(), values.end());
}

} // namespace

// ---- RunsModel ----------------------------------------------------------------------------------

RunsModel::RunsModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunsModel::setSnapshot(const ExperimentsSnapshot& snapshot)
{
    beginResetModel();
    runs_ = snapshot.runs;
    documents_.clear();
    segmenters_.clear();
    repairs_.clear();
    for (const auto& r : runs_) {
        documents_.push_back(runDocument(r, snapshot.documents, snapshot.datasetRows));
        segmenters_.push_back(runSegmenter(r));
        repairs_.push_back(runRepair(r));
    }
    endResetModel();
}

int RunsModel::rowOfRun(store::Id id) const
{
    for (std::size_t i = 0; i < runs_.size(); ++i)
        if (runs_[i].id == id)
            return static_cast<int>(i);
    return -1;
}

QStringList RunsModel::distinctValues(int column) const
{
    return distinctColumnValues(*this, column);
}

int RunsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(runs_.size());
}

int RunsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const auto i = static_cast<std::size_t>(index.row());
    const store::RunRecord& r = runs_[i];
    if (role == Qt::TextAlignmentRole)
        return index.column() >= Tokens && index.column() != Repair ? int(Qt::AlignRight | Qt::AlignVCenter) : int(Qt::AlignLeft | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != Qt::UserRole && role != Qt::EditRole && role != Qt::ToolTipRole)
        return {};
    const bool raw = role == Qt::UserRole || role == Qt::EditRole;
    auto number = [&](const auto& v, auto format) -> QVariant {
        if (raw)
            return optionalNumber(v);
        return v ? QVariant(format(static_cast<double>(*v))) : QVariant(QString());
    };
    auto count = [](double v) { return QString::number(static_cast<qlonglong>(v)); };
    switch (index.column()) {
    case Id: return raw ? QVariant::fromValue<qlonglong>(r.id) : QVariant(QString::number(r.id));
    case Created: return text(r.createdAt);
    case Model: return text(r.modelName);
    case Mode: return text(r.attentionMode);
    case Document: return documents_[i];
    case Segmenter: return segmenters_[i];
    case Device: return text(r.device);
    case DType: return text(r.dtype);
    case Tokens: return number(r.tokens, count);
    case Blocks: return number(r.blocks, count);
    case TtftMs: return number(r.ttftMs, formatMs);
    case PrefillMs: return number(r.prefillMs, formatMs);
    case Flops: return number(r.flops, formatScientific);
    case KvBytes: return number(r.kvBytes, count);
    case CacheHits: return number(r.cacheHits, count);
    case CacheMisses: return number(r.cacheMisses, count);
    case MeanKl: return number(r.logitKl, formatScientific);
    case Top1: return number(r.top1Agreement, formatRatio);
    case Repair: return repairs_[i].family;
    case Setting: return raw ? optionalNumber(repairs_[i].setting) : QVariant(repairs_[i].settingText);
    default: return {};
    }
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole || orientation != Qt::Horizontal)
        return {};
    static const char* names[] = {"Run", "Recorded (UTC)", "Model", "Mode", "Document", "Segmenter", "Device", "Dtype", "Tokens",
                                  "Blocks", "TTFT (ms)", "Prefill (ms)", "Prefill FLOPs", "KV bytes", "Cache hits",
                                  "Cache misses", "Mean KL", "Top-1 agreement", "Repair", "Setting"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

// ---- StoreTableModel ----------------------------------------------------------------------------

StoreTableModel::StoreTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void StoreTableModel::setTable(store::Table table)
{
    beginResetModel();
    table_ = std::move(table);
    endResetModel();
}

int StoreTableModel::column(const std::string& name) const
{
    for (std::size_t i = 0; i < table_.columns.size(); ++i)
        if (table_.columns[i] == name)
            return static_cast<int>(i);
    return -1;
}

QStringList StoreTableModel::distinctValues(int column) const
{
    return distinctColumnValues(*this, column);
}

int StoreTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(table_.rows.size());
}

int StoreTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(table_.columns.size());
}

QVariant StoreTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount())
        return {};
    const store::Value& v = table_.rows[static_cast<std::size_t>(index.row())][static_cast<std::size_t>(index.column())];
    const bool raw = role == Qt::UserRole || role == Qt::EditRole;
    if (role == Qt::TextAlignmentRole)
        return std::holds_alternative<std::string>(v) ? int(Qt::AlignLeft | Qt::AlignVCenter) : int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && !raw && role != Qt::ToolTipRole)
        return {};
    if (std::holds_alternative<std::int64_t>(v))
        return raw ? QVariant::fromValue<qlonglong>(std::get<std::int64_t>(v)) : QVariant(QString::number(std::get<std::int64_t>(v)));
    if (std::holds_alternative<double>(v))
        return raw ? QVariant(std::get<double>(v)) : QVariant(formatRatio(std::get<double>(v)));
    if (std::holds_alternative<std::string>(v))
        return QString::fromStdString(std::get<std::string>(v));
    return raw ? QVariant() : QVariant(QString());
}

QVariant StoreTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole || orientation != Qt::Horizontal || section < 0 || section >= columnCount())
        return {};
    return QString::fromStdString(table_.columns[static_cast<std::size_t>(section)]);
}

// ---- ExperimentFilterModel ----------------------------------------------------------------------

ExperimentFilterModel::ExperimentFilterModel(QObject* parent) : QSortFilterProxyModel(parent)
{
    setSortRole(Qt::UserRole);
}

void ExperimentFilterModel::setColumnFilter(int column, const QString& value)
{
    if (value.isEmpty())
        filters_.erase(column);
    else
        filters_[column] = value;
    invalidateFilter();
}

void ExperimentFilterModel::clearFilters()
{
    filters_.clear();
    invalidateFilter();
}

bool ExperimentFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const
{
    for (const auto& [column, value] : filters_)
        if (sourceModel()->index(sourceRow, column, sourceParent).data().toString() != value)
            return false;
    return true;
}

} // namespace blocklens::ui
