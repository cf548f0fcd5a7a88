#include "models/leakage_model.hpp"

#include <QBrush>
#include <QColor>

namespace blocklens::ui {

LeakageModel::LeakageModel(QObject* parent) : QAbstractTableModel(parent) {}

QString LeakageModel::percent(double fraction)
{
    return QString::number(100.0 * fraction, 'f', 1) + QLatin1Char('%');
}

void LeakageModel::setComparison(analysis::LeakageComparison comparison, bool hasProposal, QString currentName,
                                 QString proposalName, std::function<std::size_t(std::int64_t)> offsetOf,
                                 std::function<QString(std::int64_t)> previewOf)
{
    beginResetModel();
    cmp_ = std::move(comparison);
    hasProposal_ = hasProposal;
    currentName_ = std::move(currentName);
    proposalName_ = std::move(proposalName);
    offsets_.clear();
    previews_.clear();
    for (const auto& row : cmp_.rows) {
        offsets_.push_back(offsetOf ? offsetOf(row.token) : 0);
        previews_.push_back(previewOf ? previewOf(row.token) : QString());
    }
    endResetModel();
    Q_EMIT headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
}

void LeakageModel::clear()
{
    beginResetModel();
    cmp_ = {};
    hasProposal_ = false;
    offsets_.clear();
    previews_.clear();
    endResetModel();
}

int LeakageModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(cmp_.rows.size());
}

int LeakageModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LeakageModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const auto r = static_cast<std::size_t>(index.row());
    const auto& row = cmp_.rows[r];
    if (role == OffsetRole)
        return QVariant::fromValue<qulonglong>(offsets_[r]);
    if (role == TokenRole)
        return QVariant::fromValue<qlonglong>(row.token);
    const bool current = index.column() == CurrentDropped || index.column() == CurrentAdjacent;
    const std::optional<analysis::BoundaryLeakage>& b = current ? row.a : row.b;
    const bool dropped = index.column() == CurrentDropped || index.column() == ProposalDropped;
    switch (index.column()) {
    case Position:
        if (role == Qt::DisplayRole)
            return tr("token %1").arg(row.token);
        if (role == Qt::UserRole || role == Qt::EditRole)
            return QVariant::fromValue<qlonglong>(row.token);
        return {};
    case Text:
        return role == Qt::DisplayRole || role == Qt::ToolTipRole ? previews_[r] : QVariant();
    default:
        break;
    }
    if (!current && !hasProposal_)
        return role == Qt::DisplayRole ? QStringLiteral("–") : QVariant();
    if (!b)
        return role == Qt::DisplayRole ? tr("no cut") : role == Qt::ForegroundRole ? QVariant(QBrush(QColor(0x88, 0x88, 0x88))) : QVariant();
    const double v = dropped ? b->dropped : b->adjacent;
    switch (role) {
    case Qt::DisplayRole:
        if (dropped && b->globalQuery)
            return tr("0% (query; %1 before)").arg(percent(b->crossMass));
        return percent(v);
    case Qt::UserRole:
    case Qt::EditRole:
        return v;
    case Qt::TextAlignmentRole:
        return int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ToolTipRole:
        return dropped ? tr("Share of the full-attention mass of the block after this cut that lies before it (dropped by block attention)")
                       : tr("Mass on the block just before this cut: what removing only this cut gives back");
    default:
        return {};
    }
}

QVariant LeakageModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Vertical)
        return role == Qt::DisplayRole ? QVariant(section + 1) : QVariant();
    // Two short lines ("current" over "dropped") keep the value columns as narrow as their
    // numbers; the full names are in the tooltip.
    const QString current = currentName_.isEmpty() ? tr("current") : currentName_;
    const QString proposal = proposalName_.isEmpty() ? tr("proposal") : proposalName_;
    const auto shortName = [](const QString& name) {
        return name == tr("current boundaries") ? tr("current") : name;
    };
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case CurrentDropped: return tr("%1: attention mass dropped by the cut").arg(current);
        case CurrentAdjacent: return tr("%1: mass on the block just before the cut").arg(current);
        case ProposalDropped: return tr("%1: attention mass dropped by the cut").arg(proposal);
        case ProposalAdjacent: return tr("%1: mass on the block just before the cut").arg(proposal);
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Position: return tr("Cut");
    case Text: return tr("Text after\nthe cut"); // two short lines, as the value columns: the column may be narrow
    case CurrentDropped: return tr("%1\ndropped").arg(shortName(current));
    case CurrentAdjacent: return tr("%1\nadjacent").arg(shortName(current));
    case ProposalDropped: return tr("%1\ndropped").arg(shortName(proposal));
    case ProposalAdjacent: return tr("%1\nadjacent").arg(shortName(proposal));
    default: return {};
    }
}

} // namespace blocklens::ui
