#include "demo_document.hpp"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace blocklens::ui {

QStringList demoDocumentSearchPath()
{
    QStringList out;
    const QString exe = QCoreApplication::applicationDirPath();
    if (!exe.isEmpty())
        for (const char* rel : {"../share/blocklens/demo", "resources/demo", "../resources/demo", "../../resources/demo"})
            out << QDir::cleanPath(exe + QLatin1Char('/') + QLatin1String(rel) + QStringLiteral("/block-attention.md"));
    out << QDir::cleanPath(QStringLiteral(BLOCKLENS_UI_RESOURCES_DIR "/demo/block-attention.md"));
    return out;
}

QString findDemoDocument()
{
    for (const QString& path : demoDocumentSearchPath())
        if (QFileInfo(path).isFile())
            return path;
    return {};
}

} // namespace blocklens::ui
