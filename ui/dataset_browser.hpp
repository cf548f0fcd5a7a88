#pragma once
// The dataset panel: a sortable, filterable table of the dataset's documents with their review
// status. Selecting a row opens that document.
#include "models/dataset_model.hpp"

#include <QWidget>

class QComboBox;
class QLineEdit;
class QTableView;

namespace blocklens::ui {

class DatasetBrowser : public QWidget {
    Q_OBJECT
public:
    explicit DatasetBrowser(QWidget* parent = nullptr);

    DatasetModel* model() { return &model_; }
    DatasetFilterModel* proxy() { return &proxy_; }
    QTableView* table() { return table_; }

    int currentRow() const;            // source row, -1 if none
    void selectRow(int sourceRow);     // scrolls to it
    // The next source row after the current one (in the table's order) that is unreviewed.
    int nextUnreviewedRow() const;
    // The review queue: rows sorted by how much segmenters and the reference disagree, most
    // first; an empty list restores the file order.
    void showReviewQueue(std::vector<double> disagreement);

Q_SIGNALS:
    void rowActivated(int sourceRow);

private:
    DatasetModel model_;
    DatasetFilterModel proxy_;
    QLineEdit* filter_;
    QComboBox* status_;
    QTableView* table_;
};

} // namespace blocklens::ui
