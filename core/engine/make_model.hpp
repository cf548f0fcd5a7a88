#pragma once
// A randomly initialised checkpoint in the Hugging Face layout (config.json + safetensors, sharded
// with an index past maxShardBytes), for tests and benchmarks. Deterministic for a seed: every
// tensor is filled from its own stream (seed, tensor name, chunk), in parallel.
#include "engine/model_config.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace blocklens::engine {

struct MakeModelOptions {
    ModelConfig config;                    // arch, sizes, dtype of the stored weights, tying...
    std::uint64_t seed = 0;
    double initStd = 0.02;                 // weights and biases: uniform with this standard deviation
    std::uint64_t maxShardBytes = 4ull << 30;
    std::optional<std::filesystem::path> tokenizer; // copied to DIR/tokenizer.json
    bool overwrite = false; // replace the files of a model already in DIR (never through a symbolic link)
};

// The tensors a checkpoint of this config holds: name and shape, in writing order.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> tensorLayout(const ModelConfig& config);

// A config with Hugging Face defaults for the architecture and the sizes given.
ModelConfig defaultConfig(Architecture arch, std::int64_t layers, std::int64_t hidden, std::int64_t heads,
                          std::int64_t kvHeads, std::int64_t vocab, std::int64_t intermediate, std::int64_t headDim);

// Writes DIR/config.json and the weights; creates DIR. A DIR that already holds a model
// (config.json, safetensors) is refused unless options.overwrite; each file is written whole
// through FILE.part and renamed, so a symbolic link or a device in DIR is refused, never
// written through. Returns the files written.
std::vector<std::filesystem::path> makeModel(const MakeModelOptions& options, const std::filesystem::path& directory,
                                             const Progress& progress = {});

} // namespace blocklens::engine
