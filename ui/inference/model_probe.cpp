#include "inference/model_probe.hpp"

#include "util/error.hpp"

#include <QDir>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

namespace blocklens::ui {

ModelProbe probeModel(const QString& directory, const QString& device, const QString& dtype, qint64 maxTokens)
{
    ModelProbe p;
    p.directory = directory;
    const QDir dir(directory);
    if (directory.isEmpty()) {
        p.error = QObject::tr("Choose a model directory.");
        return p;
    }
    if (!dir.exists()) {
        p.error = QObject::tr("%1: no such directory").arg(directory);
        return p;
    }
    if (!QFileInfo::exists(dir.filePath(QStringLiteral("config.json")))) {
        p.error = QObject::tr("%1: no config.json — not a Hugging Face model directory").arg(directory);
        return p;
    }
    p.weightFiles = static_cast<int>(dir.entryList({QStringLiteral("*.safetensors")}, QDir::Files).size());
    p.hasTokenizer = QFileInfo::exists(dir.filePath(QStringLiteral("tokenizer.json")));
    try {
        p.config = engine::ModelConfig::fromFile(dir.filePath(QStringLiteral("config.json")).toStdString());
    } catch (const std::exception& e) {
        p.error = QString::fromStdString(e.what());
        return p;
    }
    p.parameters = p.config.parameterCount();
    const bool cuda = device.startsWith(QStringLiteral("cuda"));
    engine::DType compute = cuda ? p.config.dtype : engine::DType::F32; // the engine's defaults
    if (!dtype.isEmpty()) {
        const auto parsed = engine::parseDType(dtype.toStdString());
        if (!parsed) {
            p.error = QObject::tr("unknown dtype %1").arg(dtype);
            return p;
        }
        compute = *parsed;
    }
    p.dtype = QString::fromLatin1(engine::toString(compute).data());
    p.estimate = engine::estimateMemory(p.config, compute, maxTokens);
    if (!cuda)
        p.available = engine::availableHostMemory();
    if (p.weightFiles == 0)
        p.error = QObject::tr("%1: no .safetensors weights").arg(directory);
    else if (p.available && p.estimate.totalBytes() > *p.available)
        p.error = QObject::tr("Does not fit: needs about %1 but only %2 is available.")
                      .arg(QString::fromStdString(engine::formatBytes(p.estimate.totalBytes())),
                           QString::fromStdString(engine::formatBytes(*p.available)));
    return p;
}

QFuture<ModelProbe> probeModelAsync(const QString& directory, const QString& device, const QString& dtype, qint64 maxTokens)
{
    return QtConcurrent::run([=] { return probeModel(directory, device, dtype, maxTokens); });
}

} // namespace blocklens::ui
