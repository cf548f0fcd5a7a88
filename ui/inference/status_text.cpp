#include "inference/status_text.hpp"

#include <QColor>
#include <QLabel>
#include <QPalette>

namespace blocklens::ui {

void showStatusText(QLabel* label, const QString& text, bool error, const QPalette& window)
{
    label->setText(text);
    QPalette p = label->palette();
    const bool dark = window.color(QPalette::Window).lightness() < 128;
    p.setColor(QPalette::WindowText, error ? (dark ? QColor(0xff, 0x8a, 0x80) : QColor(0xb0, 0x20, 0x18)) : window.color(QPalette::WindowText));
    label->setPalette(p);
}

} // namespace blocklens::ui
