#include "minimap.hpp"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>

namespace blocklens::ui {

Minimap::Minimap(QWidget* parent) : QWidget(parent), theme_(Theme::fromPalette(palette()))
{
    setMinimumWidth(20);
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("Whole document: click to jump"));
}

void Minimap::setCaption(const QString& caption)
{
    caption_ = caption;
    setToolTip(caption.isEmpty() ? tr("Whole document: click to jump") : tr("%1: click to jump").arg(caption));
    update();
}

void Minimap::setDocumentLength(std::size_t codePoints)
{
    length_ = codePoints;
    update();
}

void Minimap::setBoundaries(std::vector<Boundary> boundaries)
{
    boundaries_ = std::move(boundaries);
    update();
}

void Minimap::setVisibleRange(std::size_t firstCp, std::size_t lastCp)
{
    if (firstCp == visibleFirst_ && lastCp == visibleLast_)
        return;
    visibleFirst_ = firstCp;
    visibleLast_ = lastCp;
    update();
}

// The top `captionHeight` pixels hold the caption, written bottom to top so that a name longer
// than the strip is wide ("texttiling") is shown whole; the document maps onto the rest.
namespace {
QFont captionFont(const QWidget* w)
{
    QFont f = w->font();
    f.setPointSizeF(f.pointSizeF() * 0.8);
    return f;
}
int captionHeight(const QWidget* w, const QString& caption)
{
    // Metrics for this widget's device (its DPI), as the painter will draw.
    return caption.isEmpty() ? 0 : QFontMetrics(captionFont(w), w).horizontalAdvance(caption) + 10;
}
} // namespace

double Minimap::yOf(std::size_t cp) const
{
    const int top = captionHeight(this, caption_);
    return top + (length_ ? static_cast<double>(cp) / static_cast<double>(length_) * (height() - top) : 0.0);
}

std::size_t Minimap::cpAt(double y) const
{
    const int top = captionHeight(this, caption_);
    const double f = std::clamp((y - top) / std::max(1, height() - top), 0.0, 1.0);
    return static_cast<std::size_t>(f * static_cast<double>(length_));
}

void Minimap::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.fillRect(rect(), theme_.gutterBackground);
    if (!caption_.isEmpty()) {
        const QFont f = captionFont(this);
        const QFontMetrics fm(f, this);
        p.save();
        p.setFont(f);
        p.setPen(theme_.gutterText);
        p.translate((width() + fm.ascent() - fm.descent()) / 2.0, captionHeight(this, caption_) - 5);
        p.rotate(-90);
        p.drawText(0, 0, caption_);
        p.restore();
    }
    if (!length_)
        return;
    // Bands: many blocks can share one pixel row; drawing them in order keeps the last visible.
    std::size_t begin = 0;
    for (std::size_t i = 0; i <= boundaries_.size(); ++i) {
        const std::size_t end = i < boundaries_.size() ? boundaries_[i].offset : length_;
        const QRectF r(2, yOf(begin), width() - 4, std::max(1.0, yOf(end) - yOf(begin)));
        p.fillRect(r, i % 2 ? theme_.bandB.darker(112) : theme_.bandA.darker(112));
        begin = end;
    }
    for (const auto& b : boundaries_) {
        const double thickness = b.level <= 1 ? 2.0 : 1.0;
        const double inset = b.level <= 1 ? 0 : b.level == 2 ? 4 : 7;
        p.setPen(QPen(theme_.boundary, thickness));
        p.drawLine(QPointF(inset, yOf(b.offset)), QPointF(width() - inset, yOf(b.offset)));
    }
    // The part of the document on screen.
    QColor frame = theme_.accent;
    frame.setAlpha(60);
    const QRectF visible(0.5, yOf(visibleFirst_), width() - 1.0, std::max(4.0, yOf(visibleLast_) - yOf(visibleFirst_)));
    p.fillRect(visible, frame);
    p.setPen(QPen(theme_.accent, 1));
    p.drawRect(visible);
}

void Minimap::mousePressEvent(QMouseEvent* event)
{
    Q_EMIT jumpRequested(cpAt(event->position().y()));
}

void Minimap::mouseMoveEvent(QMouseEvent* event)
{
    if (event->buttons() & Qt::LeftButton)
        Q_EMIT jumpRequested(cpAt(event->position().y()));
}

void Minimap::changeEvent(QEvent* event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        theme_ = Theme::fromPalette(palette());
}

} // namespace blocklens::ui
