#pragma once
// A panel's status line in the ordinary text colour or, for an error, in red that reads on a
// light or a dark window alike (the side by side, the repair chart and the Model panel share it).
#include <QString>

class QLabel;
class QPalette;

namespace blocklens::ui {

// `window`: the hosting panel's palette (its Window colour says light or dark; its WindowText is
// the ordinary colour, since the label's own palette may still hold the last error's red).
void showStatusText(QLabel* label, const QString& text, bool error, const QPalette& window);

} // namespace blocklens::ui
