#include "inference/bundled_models.hpp"

#include "inference/demo_model.hpp"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>

namespace blocklens::ui {
namespace {

bool isModelDirectory(const QString& dir) { return QFileInfo::exists(dir + QStringLiteral("/config.json")); }

QString canonical(const QString& dir)
{
    const QString c = QFileInfo(dir).canonicalFilePath();
    return c.isEmpty() ? QDir::cleanPath(QFileInfo(dir).absoluteFilePath()) : c;
}

BundledModel describe(const QString& dir)
{
    return {QFileInfo(dir).fileName(), canonical(dir), readmeFirstLine(dir)};
}

} // namespace

QStringList bundledModelRoots()
{
    QStringList out;
    const QString env = qEnvironmentVariable("BLOCKLENS_MODELS_DIR");
    if (!env.isEmpty())
        out << env;
    return out + resourceSearchPath(QStringLiteral("models"));
}

std::vector<BundledModel> findBundledModels()
{
    std::vector<BundledModel> models;
    for (const QString& root : bundledModelRoots()) {
        const QDir dir(root);
        for (const QString& name : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
            if (isModelDirectory(dir.filePath(name)))
                models.push_back(describe(dir.filePath(name)));
        if (!models.empty())
            break;
    }
    // The demo model first, also when $BLOCKLENS_DEMO_MODEL puts it outside the root.
    if (const QString demo = findDemoModel(); !demo.isEmpty()) {
        const QString path = canonical(demo);
        std::erase_if(models, [&](const BundledModel& m) { return m.directory == path; });
        models.insert(models.begin(), describe(demo));
    }
    return models;
}

QString readmeFirstLine(const QString& directory)
{
    QFile file(directory + QStringLiteral("/README.md"));
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    // A model card may open with YAML front matter (Hugging Face's metadata): skip it.
    bool frontMatter = false;
    for (int lines = 0; !file.atEnd() && lines < 200; ++lines) {
        QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (lines == 0 && line == QLatin1String("---")) {
            frontMatter = true;
            continue;
        }
        if (frontMatter) {
            frontMatter = line != QLatin1String("---");
            continue;
        }
        while (line.startsWith(QLatin1Char('#')))
            line.remove(0, 1);
        line = line.trimmed();
        if (!line.isEmpty())
            return line;
    }
    return {};
}

QStringList distilledSuffixes()
{
    return {QStringLiteral("-block-distilled"), QStringLiteral("-distill"), QStringLiteral("-distilled")};
}

QString findDistilledModel(const QString& baseDirectory)
{
    if (baseDirectory.trimmed().isEmpty())
        return {};
    const QString base = QDir::cleanPath(QFileInfo(baseDirectory).absoluteFilePath());
    for (const QString& suffix : distilledSuffixes())
        if (const QString beside = base + suffix; isModelDirectory(beside))
            return canonical(beside);
    const std::vector<BundledModel> bundled = findBundledModels();
    for (const QString& suffix : distilledSuffixes())
        for (const BundledModel& m : bundled)
            if (m.name == QFileInfo(base).fileName() + suffix)
                return m.directory;
    return {};
}

} // namespace blocklens::ui
