#pragma once
// Table model over a loaded dataset: one row per document with its metadata, length, number of
// reference blocks and review status. Sort and filter through DatasetFilterModel.
#include "document/dataset.hpp"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <memory>
#include <vector>

namespace blocklens::ui {

class DatasetModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Category, Variant, Lang, Characters, Blocks, Status, Disagreement, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1; // numbers sort as numbers

    explicit DatasetModel(QObject* parent = nullptr);

    void setDataset(std::shared_ptr<const Dataset> dataset);
    const Dataset* dataset() const { return dataset_.get(); }
    const Document* documentAt(int row) const;

    void setReviewed(int row, bool reviewed);
    bool isReviewed(int row) const;
    void setBlockCount(int row, int blocks); // after the user edits a segmentation
    // How much segmenters and the reference disagree on each row (the review queue's order);
    // empty to clear.
    void setDisagreement(std::vector<double> scores);
    double disagreement(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::shared_ptr<const Dataset> dataset_;
    std::vector<bool> reviewed_;
    std::vector<int> blocks_;
    std::vector<double> disagreement_;
};

// Filters rows by free text (id, category, variant, language) and by review status.
class DatasetFilterModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    enum class StatusFilter { All, Reviewed, Unreviewed };
    explicit DatasetFilterModel(QObject* parent = nullptr);
    void setText(const QString& text);
    void setStatusFilter(StatusFilter filter);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QString text_;
    StatusFilter status_ = StatusFilter::All;
};

} // namespace blocklens::ui
