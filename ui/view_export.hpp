#pragma once
// Exports any widget (a view, a chart) as PNG or SVG for papers and slides.
#include <QString>

class QWidget;

namespace blocklens::ui {

// Format from the extension (.png or .svg). Returns an empty string on success, else a message
// that names the file and the problem.
QString exportWidget(QWidget* widget, const QString& path);

} // namespace blocklens::ui
