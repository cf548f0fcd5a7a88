#include "view_export.hpp"

#include <QFileInfo>
#include <QPainter>
#include <QPixmap>
#include <QSvgGenerator>
#include <QWidget>

namespace blocklens::ui {

QString exportWidget(QWidget* widget, const QString& path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(widget->size());
        svg.setViewBox(QRect(QPoint(0, 0), widget->size()));
        svg.setTitle(widget->windowTitle().isEmpty() ? QStringLiteral("BlockLens") : widget->windowTitle());
        svg.setDescription(QStringLiteral("Exported from BlockLens"));
        QPainter painter;
        if (!painter.begin(&svg))
            return QObject::tr("%1: cannot write the SVG file").arg(path);
        widget->render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
        painter.end();
        return QFileInfo(path).size() > 0 ? QString() : QObject::tr("%1: the SVG file is empty").arg(path);
    }
    if (suffix == QLatin1String("png")) {
        // Render at twice the screen density so figures stay sharp on slides.
        const qreal scale = 2.0;
        QPixmap pixmap(widget->size() * scale);
        pixmap.setDevicePixelRatio(scale);
        pixmap.fill(widget->palette().color(QPalette::Window));
        widget->render(&pixmap, QPoint(), QRegion(), QWidget::DrawChildren);
        if (!pixmap.save(path, "PNG"))
            return QObject::tr("%1: cannot write the PNG file (check the folder exists and is writable)").arg(path);
        return {};
    }
    return QObject::tr("%1: choose a .png or .svg file name").arg(path);
}

} // namespace blocklens::ui
