#include "analysis/heatmap_view.hpp"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace blocklens::ui {
namespace {

constexpr int kLeft = 56, kTop = 22, kBottom = 40, kBar = 14, kBarGap = 12, kBarLabels = 44;

// A perceptually ordered ramp (close to viridis): dark blue for little mass, yellow for most.
const QColor kStops[] = {QColor(0x44, 0x01, 0x54), QColor(0x3b, 0x52, 0x8b), QColor(0x21, 0x90, 0x8d),
                         QColor(0x5d, 0xc8, 0x63), QColor(0xfd, 0xe7, 0x25)};

} // namespace

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent)
{
    setMouseTracking(true);
    setObjectName(QStringLiteral("heatmap"));
}

QColor HeatmapView::colourFor(double t)
{
    t = std::clamp(t, 0.0, 1.0) * 4.0;
    const int i = std::min(3, static_cast<int>(t));
    const double f = t - i;
    const QColor a = kStops[i], b = kStops[i + 1];
    return QColor::fromRgbF(static_cast<float>(a.redF() + (b.redF() - a.redF()) * f),
                            static_cast<float>(a.greenF() + (b.greenF() - a.greenF()) * f),
                            static_cast<float>(a.blueF() + (b.blueF() - a.blueF()) * f));
}

void HeatmapView::setMatrix(Matrix matrix)
{
    // Painting reads rows x cols values (and masks): a matrix without them is shown as none
    // rather than read out of bounds.
    const auto cells = static_cast<std::size_t>(std::max(matrix.rows, 0)) * static_cast<std::size_t>(std::max(matrix.cols, 0));
    if (matrix.values.size() != cells || (!matrix.masked.empty() && matrix.masked.size() != cells))
        matrix = {};
    m_ = std::move(matrix);
    hoverRow_ = hoverCol_ = selRow_ = selCol_ = -1;
    update();
}

void HeatmapView::setPlaceholder(const QString& text)
{
    placeholder_ = text;
    update();
}

QString HeatmapView::placeholder() const
{
    return placeholder_.isEmpty() ? tr("No attention yet.\nLoad a model and choose Analyse Attention (Ctrl+Shift+L).") : placeholder_;
}

void HeatmapView::setSelectedCell(int row, int col)
{
    selRow_ = row;
    selCol_ = col;
    update();
}

QRectF HeatmapView::plotRect() const
{
    const double w = width() - kLeft - kBarGap - kBar - kBarLabels;
    const double h = height() - kTop - kBottom;
    return QRectF(kLeft, kTop, std::max(10.0, w), std::max(10.0, h));
}

QRectF HeatmapView::cellRect(int row, int col) const
{
    const QRectF p = plotRect();
    if (m_.rows <= 0 || m_.cols <= 0)
        return {};
    const double cw = p.width() / m_.cols, ch = p.height() / m_.rows;
    return QRectF(p.left() + col * cw, p.top() + row * ch, cw, ch);
}

std::optional<std::pair<int, int>> HeatmapView::cellAt(QPointF pos) const
{
    const QRectF p = plotRect();
    if (m_.rows <= 0 || m_.cols <= 0 || !p.contains(pos))
        return std::nullopt;
    const int col = std::min(m_.cols - 1, static_cast<int>((pos.x() - p.left()) / (p.width() / m_.cols)));
    const int row = std::min(m_.rows - 1, static_cast<int>((pos.y() - p.top()) / (p.height() / m_.rows)));
    return std::pair{row, col};
}

void HeatmapView::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    const QColor text = palette().color(QPalette::Text);
    if (m_.rows <= 0 || m_.cols <= 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap, placeholder());
        return;
    }
    const QRectF plot = plotRect();
    const double scale = m_.scaleMax > 0 ? m_.scaleMax : 1.0;
    const QColor maskedColour = palette().color(QPalette::AlternateBase);
    for (int r = 0; r < m_.rows; ++r)
        for (int c = 0; c < m_.cols; ++c) {
            const QRectF cell = cellRect(r, c);
            // Cells overlap by a fraction of a pixel so no seams show at any size.
            p.fillRect(cell.adjusted(0, 0, 0.6, 0.6), m_.isMasked(r, c) ? maskedColour : colourFor(m_.at(r, c) / scale));
        }
    p.setPen(QPen(text, 1));
    p.setBrush(Qt::NoBrush);
    p.drawRect(plot);
    auto outline = [&](int r, int c, const QColor& colour, double width) {
        if (r < 0 || c < 0 || r >= m_.rows || c >= m_.cols)
            return;
        p.setPen(QPen(colour, width));
        p.drawRect(cellRect(r, c).adjusted(1, 1, -1, -1));
    };
    outline(selRow_, selCol_, QColor(0xff, 0x45, 0x00), 2.5);
    outline(hoverRow_, hoverCol_, text, 1.5);

    // Axis labels, thinned so they do not overlap.
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    p.setFont(small);
    p.setPen(text);
    const QFontMetricsF fm(small);
    const int rowStep = std::max(1, static_cast<int>(std::ceil(fm.height() * 1.1 / (plot.height() / m_.rows))));
    for (int r = 0; r < m_.rows && r < m_.rowLabels.size(); r += rowStep) {
        const QRectF cell = cellRect(r, 0);
        p.drawText(QRectF(0, cell.center().y() - fm.height() / 2, kLeft - 6, fm.height()), Qt::AlignRight | Qt::AlignVCenter,
                   m_.rowLabels[r]);
    }
    const double widest = fm.horizontalAdvance(QStringLiteral("#000")) + 6;
    const int colStep = std::max(1, static_cast<int>(std::ceil(widest / (plot.width() / m_.cols))));
    for (int c = 0; c < m_.cols && c < m_.colLabels.size(); c += colStep) {
        const QRectF cell = cellRect(0, c);
        p.drawText(QRectF(cell.center().x() - widest / 2, plot.bottom() + 2, widest, fm.height()), Qt::AlignCenter, m_.colLabels[c]);
    }
    p.drawText(QRectF(plot.left(), plot.bottom() + fm.height() + 4, plot.width(), fm.height()), Qt::AlignCenter, m_.colTitle);
    p.save();
    p.translate(10, plot.center().y());
    p.rotate(-90);
    p.drawText(QRectF(-plot.height() / 2, -fm.height() / 2, plot.height(), fm.height()), Qt::AlignCenter, m_.rowTitle);
    p.restore();

    // Colour bar with five ticks.
    const QRectF bar(plot.right() + kBarGap, plot.top(), kBar, plot.height());
    for (int y = 0; y < static_cast<int>(bar.height()); ++y)
        p.fillRect(QRectF(bar.left(), bar.bottom() - y - 1, bar.width(), 1.6), colourFor(y / bar.height()));
    p.setPen(text);
    p.drawRect(bar);
    for (int i = 0; i <= 4; ++i) {
        const double v = scale * i / 4.0;
        const double y = bar.bottom() - bar.height() * i / 4.0;
        p.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 3, y));
        p.drawText(QRectF(bar.right() + 5, y - fm.height() / 2, kBarLabels, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                   QString::number(v, 'f', v < 0.1 && v > 0 ? 3 : 2));
    }
    p.drawText(QRectF(bar.left() - 20, 2, kBar + 60, kTop - 4), Qt::AlignLeft | Qt::AlignVCenter, tr("mass"));
}

void HeatmapView::mouseMoveEvent(QMouseEvent* event)
{
    const auto cell = cellAt(event->position());
    const int r = cell ? cell->first : -1, c = cell ? cell->second : -1;
    if (r != hoverRow_ || c != hoverCol_) {
        hoverRow_ = r;
        hoverCol_ = c;
        update();
        Q_EMIT cellHovered(r, c);
    }
}

void HeatmapView::leaveEvent(QEvent*)
{
    hoverRow_ = hoverCol_ = -1;
    update();
    Q_EMIT cellHovered(-1, -1);
}

void HeatmapView::mousePressEvent(QMouseEvent* event)
{
    if (const auto cell = cellAt(event->position()); cell && event->button() == Qt::LeftButton) {
        setSelectedCell(cell->first, cell->second);
        Q_EMIT cellClicked(cell->first, cell->second);
    }
}

void HeatmapView::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (const auto cell = cellAt(event->position()); cell && event->button() == Qt::LeftButton)
        Q_EMIT cellDoubleClicked(cell->first, cell->second);
}

} // namespace blocklens::ui
