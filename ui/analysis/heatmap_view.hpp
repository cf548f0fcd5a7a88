#pragma once
// A matrix of attention mass as coloured cells: rows are queries (blocks or tokens), columns are
// key blocks, with a colour bar. Hovering reports the cell under the mouse, clicking selects it,
// double-clicking asks to zoom. Cells a query cannot see (causal mask) are drawn empty.
// Painted directly (no item views): a 200 x 200 matrix repaints in a few milliseconds.
#include <QColor>
#include <QStringList>
#include <QWidget>

#include <optional>
#include <vector>

namespace blocklens::ui {

class HeatmapView : public QWidget {
    Q_OBJECT
public:
    struct Matrix {
        int rows = 0, cols = 0;
        std::vector<double> values;    // [rows, cols] row-major
        std::vector<bool> masked;      // [rows, cols]: not attendable (empty: none)
        QStringList rowLabels, colLabels; // may be shorter: labels are thinned to fit
        QString rowTitle, colTitle;
        double scaleMax = 1.0;         // the colour bar's top
        double at(int r, int c) const { return values[static_cast<std::size_t>(r * cols + c)]; }
        bool isMasked(int r, int c) const { return !masked.empty() && masked[static_cast<std::size_t>(r * cols + c)]; }
    };

    explicit HeatmapView(QWidget* parent = nullptr);

    void setMatrix(Matrix matrix);
    const Matrix& matrix() const { return m_; }
    void setSelectedCell(int row, int col); // outlined; -1 for none
    // What the empty view says (e.g. that a capture is running); empty: how to get a heatmap.
    void setPlaceholder(const QString& text);
    QString placeholder() const;
    // Geometry, for the readout and for tests driving the mouse.
    QRectF cellRect(int row, int col) const;
    std::optional<std::pair<int, int>> cellAt(QPointF pos) const; // (row, col)

    static QColor colourFor(double t); // t in [0, 1] -> the colour map

    QSize sizeHint() const override { return {420, 380}; }
    QSize minimumSizeHint() const override { return {200, 160}; }

Q_SIGNALS:
    void cellHovered(int row, int col); // (-1, -1) when the mouse leaves the cells
    void cellClicked(int row, int col);
    void cellDoubleClicked(int row, int col);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    QRectF plotRect() const;
    Matrix m_;
    QString placeholder_;
    int hoverRow_ = -1, hoverCol_ = -1;
    int selRow_ = -1, selCol_ = -1;
};

} // namespace blocklens::ui
