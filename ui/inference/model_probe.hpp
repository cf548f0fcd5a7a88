#pragma once
// What the model panel shows before anything is loaded: the directory's config.json read and
// checked, the parameter count, and the memory the model will need against what there is.
// Reads only config.json and file names (fast), but still runs off the UI thread (probeModelAsync).
#include "engine/memory.hpp"
#include "engine/model_config.hpp"

#include <QFuture>
#include <QString>

#include <optional>

namespace blocklens::ui {

struct ModelProbe {
    QString directory;
    QString error;                  // set when the directory cannot be loaded as it is
    engine::ModelConfig config;
    qint64 parameters = 0;
    QString dtype;                  // the compute dtype a load with these options will use
    engine::MemoryEstimate estimate;
    std::optional<quint64> available; // bytes free where the model goes (host memory; unknown for CUDA)
    bool hasTokenizer = false;
    int weightFiles = 0;            // *.safetensors files
};

// `device`: "cpu" or "cuda[:N]"; `dtype`: empty for the engine's default.
ModelProbe probeModel(const QString& directory, const QString& device, const QString& dtype, qint64 maxTokens);
QFuture<ModelProbe> probeModelAsync(const QString& directory, const QString& device, const QString& dtype, qint64 maxTokens);

} // namespace blocklens::ui
