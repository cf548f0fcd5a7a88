#pragma once
// A compact table of the current document's statistics (dock panel).
#include "document/document.hpp"

#include <QWidget>

class QFormLayout;
class QLabel;

namespace blocklens::ui {

class StatsPanel : public QWidget {
    Q_OBJECT
public:
    explicit StatsPanel(QWidget* parent = nullptr);
    void showDocument(const Document& doc, std::size_t blocks);
    void setBlockCount(std::size_t blocks); // after an edit: no need to recount the text
    void clear();
    QString valueText(const QString& key) const; // for tests

private:
    QLabel* addRow(const QString& key, const QString& label);
    QFormLayout* form_;
    std::vector<std::pair<QString, QLabel*>> rows_;
};

} // namespace blocklens::ui
