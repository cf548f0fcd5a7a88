#include "shortcut_overlay.hpp"

#include <QAction>
#include <QKeyEvent>
#include <QPainter>

namespace blocklens::ui {

ShortcutOverlay::ShortcutOverlay(QWidget* parent) : QWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    hide();
}

void ShortcutOverlay::showOver(const QList<QAction*>& actions)
{
    entries_.clear();
    lines_.clear();
    for (QAction* a : actions) {
        if (a->shortcut().isEmpty())
            continue;
        QString name = a->text();
        name.remove(QLatin1Char('&'));
        const QString keys = a->shortcut().toString(QKeySequence::NativeText);
        entries_.append({keys, name});
        lines_.append(keys + QStringLiteral("  ") + name);
    }
    setGeometry(parentWidget()->rect());
    raise();
    show();
    setFocus();
}

void ShortcutOverlay::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), QColor(0, 0, 0, 140));
    QFont title = font();
    title.setPointSizeF(title.pointSizeF() * 1.5);
    title.setBold(true);
    QFont body = font();
    body.setPointSizeF(body.pointSizeF() * 1.1);
    const QFontMetrics fm(body);
    const int rowHeight = fm.height() + 8;
    const int columns = entries_.size() > 14 ? 2 : 1;
    const int rows = (static_cast<int>(entries_.size()) + columns - 1) / columns;
    const int columnWidth = 430;
    const QSize panel(columnWidth * columns + 48, rows * rowHeight + 110);
    const QRect box(QPoint((width() - panel.width()) / 2, (height() - panel.height()) / 2), panel);
    p.setPen(Qt::NoPen);
    p.setBrush(palette().color(QPalette::Window));
    p.drawRoundedRect(box, 12, 12);
    p.setPen(palette().color(QPalette::WindowText));
    p.setFont(title);
    p.drawText(box.adjusted(24, 18, -24, 0), Qt::AlignLeft | Qt::AlignTop, tr("Keyboard shortcuts"));
    p.setFont(body);
    for (int i = 0; i < entries_.size(); ++i) {
        const int column = i / rows, row = i % rows;
        const QRect r(box.left() + 24 + column * columnWidth, box.top() + 64 + row * rowHeight, columnWidth - 16, rowHeight);
        const QRect keyRect(r.left(), r.top() + 2, 130, rowHeight - 6);
        p.setPen(Qt::NoPen);
        p.setBrush(palette().color(QPalette::AlternateBase));
        p.drawRoundedRect(keyRect, 5, 5);
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(keyRect, Qt::AlignCenter, entries_[i].first);
        p.drawText(r.adjusted(144, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter, entries_[i].second);
    }
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(box.adjusted(24, 0, -24, -12), Qt::AlignLeft | Qt::AlignBottom, tr("Press any key or click to close"));
}

void ShortcutOverlay::mousePressEvent(QMouseEvent*)
{
    hide();
}

void ShortcutOverlay::keyPressEvent(QKeyEvent*)
{
    hide();
}

} // namespace blocklens::ui
