#include "inference/demo_model.hpp"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace blocklens::ui {

QString sourceResourcesDir()
{
    return QStringLiteral(BLOCKLENS_UI_RESOURCES_DIR);
}

QStringList demoModelSearchPath()
{
    QStringList out;
    const QString env = qEnvironmentVariable("BLOCKLENS_DEMO_MODEL");
    if (!env.isEmpty())
        out << env;
    const QString exe = QCoreApplication::applicationDirPath();
    if (!exe.isEmpty())
        for (const char* rel : {"../share/blocklens/models/demo", "resources/models/demo", "../resources/models/demo",
                                "../../resources/models/demo"})
            out << QDir::cleanPath(exe + QLatin1Char('/') + QLatin1String(rel));
    out << QDir::cleanPath(sourceResourcesDir() + QStringLiteral("/models/demo"));
    return out;
}

QString findDemoModel()
{
    for (const QString& dir : demoModelSearchPath())
        if (QFileInfo::exists(dir + QStringLiteral("/config.json")))
            return dir;
    return {};
}

} // namespace blocklens::ui
