#pragma once
// Colours and fonts shared by the views, derived from the current palette so the app reads well
// in light and dark themes.
#include <QColor>
#include <QFont>
#include <QPalette>

namespace blocklens::ui {

struct Theme {
    QColor bandA, bandB;     // alternating block tints behind the text
    QColor boundary;         // gutter marker of a boundary
    QColor gutterBackground;
    QColor gutterText;
    QColor accent;
    bool dark = false;

    static Theme fromPalette(const QPalette& palette);
};

QFont documentFont();   // the reading font of the document view
QPalette darkPalette();  // a dark palette for the Fusion style
QPalette lightPalette(); // the Fusion style's standard light palette
QFont monospaceFont();

} // namespace blocklens::ui
