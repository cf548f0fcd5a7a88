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
