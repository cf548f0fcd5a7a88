#include "models/dataset_model.hpp"

#include <QLocale>

namespace blocklens::ui {

DatasetModel::DatasetModel(QObject* parent) : QAbstractTableModel(parent) {}

void DatasetModel::setDataset(std::shared_ptr<const Dataset> dataset)
{
    beginResetModel();
    dataset_ = std::move(dataset);
    const std::size_t n = dataset_ ? dataset_->documents.size() : 0;
    reviewed_.assign(n, false);
    disagreement_.clear();
    blocks_.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        blocks_[i] = static_cast<int>(dataset_->documents[i].reference().size() + 1);
    endResetModel();
}

const Document* DatasetModel::documentAt(int row) const
{
    if (!dataset_ || row < 0 || row >= rowCount())
        return nullptr;
    return &dataset_->documents[static_cast<std::size_t>(row)];
}

void DatasetModel::setReviewed(int row, bool reviewed)
{
    if (row < 0 || row >= rowCount() || reviewed_[static_cast<std::size_t>(row)] == reviewed)
        return;
    reviewed_[static_cast<std::size_t>(row)] = reviewed;
    const QModelIndex i = index(row, Status);
    Q_EMIT dataChanged(i, i);
}

bool DatasetModel::isReviewed(int row) const
{
    return row >= 0 && row < rowCount() && reviewed_[static_cast<std::size_t>(row)];
}

void DatasetModel::setBlockCount(int row, int blocks)
{
    if (row < 0 || row >= rowCount())
        return;
    blocks_[static_cast<std::size_t>(row)] = blocks;
    const QModelIndex i = index(row, Blocks);
    Q_EMIT dataChanged(i, i);
}

void DatasetModel::setDisagreement(std::vector<double> scores)
{
    disagreement_ = std::move(scores);
    disagreement_.resize(static_cast<std::size_t>(rowCount()), -1.0);
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, Disagreement), index(rowCount() - 1, Disagreement));
}

double DatasetModel::disagreement(int row) const
{
    return row >= 0 && static_cast<std::size_t>(row) < disagreement_.size() ? disagreement_[static_cast<std::size_t>(row)] : -1.0;
}

int DatasetModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !dataset_ ? 0 : static_cast<int>(dataset_->documents.size());
}

int DatasetModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DatasetModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto row = static_cast<std::size_t>(index.row());
    const Document& doc = dataset_->documents[row];
    const auto& m = doc.meta();
    if (role == Qt::DisplayRole || role == SortRole) {
        switch (index.column()) {
        case Id: return QString::fromStdString(m.id);
        case Category: return QString::fromStdString(m.category);
        case Variant: return QString::fromStdString(m.variant);
        case Lang: return QString::fromStdString(m.lang);
        case Characters:
            if (role == SortRole)
                return static_cast<qulonglong>(doc.length());
            return QLocale().toString(static_cast<qulonglong>(doc.length()));
        case Blocks: return blocks_[row];
        case Status:
            if (role == SortRole)
                return reviewed_[row] ? 1 : 0;
            return reviewed_[row] ? tr("reviewed") : tr("unreviewed");
        case Disagreement: {
            const double d = disagreement(index.row());
            if (role == SortRole)
                return d;
            return d < 0 ? QString() : QString::number(d, 'f', 2);
        }
        }
    }
    if (role == Qt::TextAlignmentRole && (index.column() == Characters || index.column() == Blocks || index.column() == Disagreement))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole)
        return QString::fromStdString(m.source);
    return {};
}

QVariant DatasetModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= ColumnCount)
        return {};
    static const char* names[] = {"ID", "Category", "Variant", "Lang", "Length", "Blocks", "Status", "Disagreement"};
    return tr(names[section]);
}

DatasetFilterModel::DatasetFilterModel(QObject* parent) : QSortFilterProxyModel(parent)
{
    setSortRole(DatasetModel::SortRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void DatasetFilterModel::setText(const QString& text)
{
    text_ = text.trimmed();
    invalidateFilter();
}

void DatasetFilterModel::setStatusFilter(StatusFilter filter)
{
    status_ = filter;
    invalidateFilter();
}

bool DatasetFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const
{
    const auto* model = qobject_cast<const DatasetModel*>(sourceModel());
    if (!model)
        return true;
    if (status_ != StatusFilter::All && model->isReviewed(sourceRow) != (status_ == StatusFilter::Reviewed))
        return false;
    if (text_.isEmpty())
        return true;
    for (int column : {DatasetModel::Id, DatasetModel::Category, DatasetModel::Variant, DatasetModel::Lang})
        if (model->index(sourceRow, column, sourceParent).data().toString().contains(text_, Qt::CaseInsensitive))
            return true;
    return false;
}

} // namespace blocklens::ui
