#pragma once
// Per-token KL divergence between full and block attention over the query block, as a small
// bar sparkline: one bar per query token, height by KL (scaled to the largest), the largest
// marked; hovering a bar shows the token and its value.
#include <QString>
#include <QWidget>

#include <vector>

namespace blocklens::ui {

class KlSparkline : public QWidget {
    Q_OBJECT
public:
    explicit KlSparkline(QWidget* parent = nullptr);
    void setValues(std::vector<double> kl, std::vector<QString> tokens);
    void clear();
    const std::vector<double>& values() const { return kl_; }
    QSize sizeHint() const override { return {320, 56}; }
    QSize minimumSizeHint() const override { return {120, 40}; }

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    int barAt(int x) const;
    std::vector<double> kl_;
    std::vector<QString> tokens_;
};

} // namespace blocklens::ui
