#include "inference/demo_model.hpp"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace blocklens::ui {

QString sourceResourcesDir()
{
    return QStringLiteral(BLOCKLENS_UI_RESOURCES_DIR);
}

QStringList resourceSearchPath(const QString& relative)
{
    QStringList out;
    const QString exe = QCoreApplication::applicationDirPath();
    if (!exe.isEmpty())
        for (const char* root : {"../share/blocklens", "resources", "../resources", "../../resources"})
            out << QDir::cleanPath(exe + QLatin1Char('/') + QLatin1String(root) + QLatin1Char('/') + relative);
    out << QDir::cleanPath(sourceResourcesDir() + QLatin1Char('/') + relative);
    return out;
}

QStringList demoModelSearchPath()
{
    QStringList out;
    const QString env = qEnvironmentVariable("BLOCKLENS_DEMO_MODEL");
    if (!env.isEmpty())
        out << env;
    return out + resourceSearchPath(QStringLiteral("models/demo"));
}

QString findDemoModel()
{
    for (const QString& dir : demoModelSearchPath())
        if (QFileInfo::exists(dir + QStringLiteral("/config.json")))
            return dir;
    return {};
}

} // namespace blocklens::ui
