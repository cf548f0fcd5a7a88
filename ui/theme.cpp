#include "theme.hpp"

#include <QFontDatabase>

namespace blocklens::ui {

Theme Theme::fromPalette(const QPalette& palette)
{
    Theme t;
    const QColor base = palette.color(QPalette::Base);
    t.dark = base.lightness() < 128;
    // Tints mixed towards two hues (teal and violet) by a small amount so the text keeps its
    // contrast in both palettes.
    auto mix = [&](QColor hue, double amount) {
        return QColor::fromRgbF(base.redF() * (1 - amount) + hue.redF() * amount,
                                base.greenF() * (1 - amount) + hue.greenF() * amount,
                                base.blueF() * (1 - amount) + hue.blueF() * amount);
    };
    t.bandA = mix(QColor(0x2a, 0x9d, 0x8f), t.dark ? 0.16 : 0.10);
    t.bandB = mix(QColor(0x7b, 0x61, 0xff), t.dark ? 0.16 : 0.09);
    t.boundary = t.dark ? QColor(0xf4, 0xa2, 0x61) : QColor(0xe7, 0x6f, 0x51);
    t.accent = t.dark ? QColor(0x8e, 0xca, 0xe6) : QColor(0x1d, 0x4e, 0x89);
    t.gutterBackground = mix(palette.color(QPalette::WindowText), 0.04);
    t.gutterText = palette.color(QPalette::PlaceholderText);
    return t;
}

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x25, 0x27, 0x2b), base(0x1d, 0x1f, 0x23), text(0xe6, 0xe6, 0xe6), dim(0x8b, 0x90, 0x98);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x2b, 0x2e, 0x33));
    p.setColor(QPalette::ToolTipBase, window);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::PlaceholderText, dim);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x6f, 0xb4));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x8e, 0xca, 0xe6));
    p.setColor(QPalette::Disabled, QPalette::Text, dim);
    p.setColor(QPalette::Disabled, QPalette::ButtonText, dim);
    p.setColor(QPalette::Disabled, QPalette::WindowText, dim);
    return p;
}

QPalette lightPalette()
{
    QPalette p(QColor(0xef, 0xf0, 0xf1));
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::AlternateBase, QColor(0xf5, 0xf6, 0xf7));
    p.setColor(QPalette::PlaceholderText, QColor(0x70, 0x75, 0x7d));
    return p;
}

QFont documentFont()
{
    QFont f = QFontDatabase::systemFont(QFontDatabase::GeneralFont);
    f.setPointSizeF(f.pointSizeF() * 1.1);
    return f;
}

QFont monospaceFont()
{
    return QFontDatabase::systemFont(QFontDatabase::FixedFont);
}

} // namespace blocklens::ui
