#include "dataset_browser.hpp"

#include <QComboBox>
#include <QHeaderView>
#include <QLineEdit>
#include <QTableView>
#include <QVBoxLayout>

namespace blocklens::ui {

DatasetBrowser::DatasetBrowser(QWidget* parent)
    : QWidget(parent), filter_(new QLineEdit), status_(new QComboBox), table_(new QTableView)
{
    proxy_.setSourceModel(&model_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(6);
    auto* row = new QHBoxLayout;
    filter_->setPlaceholderText(tr("Filter: id, category, variant, language"));
    filter_->setClearButtonEnabled(true);
    status_->addItems({tr("All"), tr("Unreviewed"), tr("Reviewed")});
    row->addWidget(filter_, 1);
    row->addWidget(status_);
    layout->addLayout(row);
    layout->addWidget(table_, 1);

    table_->setModel(&proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(-1, Qt::AscendingOrder); // file order until the user sorts
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setAlternatingRowColors(true);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 8);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->setShowGrid(false);
    table_->setColumnHidden(DatasetModel::Disagreement, true);
    // In a narrow dock the columns one works by (length, blocks, status) come first, after the
    // id; the descriptive ones follow. Long ids are capped (the full id is in the Document dock).
    QHeaderView* header = table_->horizontalHeader();
    int to = 1;
    for (int column : {DatasetModel::Characters, DatasetModel::Blocks, DatasetModel::Status})
        header->moveSection(header->visualIndex(column), to++);
    header->setMaximumSectionSize(fontMetrics().horizontalAdvance(QLatin1Char('x')) * 28);
    table_->setTextElideMode(Qt::ElideMiddle);

    connect(filter_, &QLineEdit::textChanged, &proxy_, &DatasetFilterModel::setText);
    connect(status_, &QComboBox::currentIndexChanged, this, [this](int i) {
        proxy_.setStatusFilter(i == 1 ? DatasetFilterModel::StatusFilter::Unreviewed
                               : i == 2 ? DatasetFilterModel::StatusFilter::Reviewed
                                        : DatasetFilterModel::StatusFilter::All);
    });
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
        if (current.isValid())
            Q_EMIT rowActivated(proxy_.mapToSource(current).row());
    });
}

int DatasetBrowser::currentRow() const
{
    const QModelIndex i = table_->currentIndex();
    return i.isValid() ? proxy_.mapToSource(i).row() : -1;
}

void DatasetBrowser::selectRow(int sourceRow)
{
    const QModelIndex i = proxy_.mapFromSource(model_.index(sourceRow, 0));
    if (!i.isValid())
        return;
    table_->setCurrentIndex(i);
    table_->scrollTo(i);
}

int DatasetBrowser::nextUnreviewedRow() const
{
    const int n = proxy_.rowCount();
    const QModelIndex current = table_->currentIndex();
    const int start = current.isValid() ? current.row() : -1;
    for (int k = 1; k <= n; ++k) {
        const int r = (start + k) % n;
        const int source = proxy_.mapToSource(proxy_.index(r, 0)).row();
        if (!model_.isReviewed(source))
            return source;
    }
    return -1;
}

void DatasetBrowser::showReviewQueue(std::vector<double> disagreement)
{
    const bool clear = disagreement.empty();
    model_.setDisagreement(std::move(disagreement));
    table_->setColumnHidden(DatasetModel::Disagreement, clear);
    if (!clear) // next to the id, so the reason for the order is visible in a narrow panel
        table_->horizontalHeader()->moveSection(table_->horizontalHeader()->visualIndex(DatasetModel::Disagreement), 1);
    table_->sortByColumn(clear ? -1 : DatasetModel::Disagreement, clear ? Qt::AscendingOrder : Qt::DescendingOrder);
}

} // namespace blocklens::ui
