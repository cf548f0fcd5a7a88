#pragma once
// One recorded run again, every field: what ran (model, mode, device, dtype, software, config),
// on what (document, tokens, blocks, segmenter) and every number the store holds for it, exactly
// (shortest text that reads back as the stored double), including the divergence JSON's entries.
#include "experiments/experiments_snapshot.hpp"

#include <QWidget>

class QLabel;
class QTableWidget;

namespace blocklens::ui {

struct RunField {
    QString name;
    QString value;
};
// The fields in display order.
std::vector<RunField> runFields(const store::RunRecord& run, const std::map<store::Id, store::DocumentInfo>& documents);

class RunDetails : public QWidget {
    Q_OBJECT
public:
    explicit RunDetails(QWidget* parent = nullptr);
    void showRun(const store::RunRecord& run, const std::map<store::Id, store::DocumentInfo>& documents);
    void clear();
    QTableWidget* table() const { return table_; }
    QString value(const QString& field) const; // "" if absent

private:
    QLabel* title_;
    QTableWidget* table_;
};

} // namespace blocklens::ui
