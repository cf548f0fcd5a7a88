#include "inference/context_banner.hpp"

namespace blocklens::ui {

ContextBanner::ContextBanner(const QString& objectName, QWidget* parent) : QLabel(parent)
{
    setObjectName(objectName);
    setWordWrap(true);
    setAutoFillBackground(true);
    setContentsMargins(8, 4, 8, 4);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
    hide();
}

void ContextBanner::setWarning(const QString& warning)
{
    setVisible(!warning.isEmpty());
    if (warning.isEmpty())
        return;
    setText(tr("⚠ Beyond the model's trained context: %1.").arg(warning));
    // Amber on the window's theme (read when shown: the theme may have changed since).
    QPalette p = palette();
    const bool dark = window()->palette().color(QPalette::Window).lightness() < 128;
    p.setColor(QPalette::Window, dark ? QColor(0x5a, 0x46, 0x10) : QColor(0xff, 0xf1, 0xc2));
    p.setColor(QPalette::WindowText, dark ? QColor(0xff, 0xf1, 0xc2) : QColor(0x4a, 0x36, 0x00));
    setPalette(p);
}

} // namespace blocklens::ui
