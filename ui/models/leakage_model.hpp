#pragma once
// The leakage of every boundary as a table: one row per boundary position of the current
// segmentation or of the proposal compared with it, with the share of full-attention mass each
// cut drops (and the part on the block just before it), side by side. Values are fractions in
// Qt::UserRole (EditRole too), percentages in DisplayRole; OffsetRole gives the boundary's code
// point for jumping to it.
#include "analysis/leakage.hpp"

#include <QAbstractTableModel>
#include <QString>

#include <functional>

namespace blocklens::ui {

class LeakageModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Position, Text, CurrentDropped, CurrentAdjacent, ProposalDropped, ProposalAdjacent, ColumnCount };
    enum Role { OffsetRole = Qt::UserRole + 1, TokenRole };

    explicit LeakageModel(QObject* parent = nullptr);

    // `hasProposal` false: only the current segmentation's columns carry values (the proposal's
    // show "–"). `offsetOf` maps a token index to its code point; `previewOf` gives the text after a cut.
    void setComparison(analysis::LeakageComparison comparison, bool hasProposal, QString currentName, QString proposalName,
                       std::function<std::size_t(std::int64_t)> offsetOf, std::function<QString(std::int64_t)> previewOf);
    void clear();
    const analysis::LeakageComparison& comparison() const { return cmp_; }
    bool hasProposal() const { return hasProposal_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString percent(double fraction); // "12.3%"

private:
    analysis::LeakageComparison cmp_;
    bool hasProposal_ = false;
    QString currentName_, proposalName_;
    std::vector<std::size_t> offsets_;
    std::vector<QString> previews_;
};

} // namespace blocklens::ui
