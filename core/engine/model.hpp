#pragma once
// A loaded checkpoint, ready to run: config, weights on a device in a compute dtype, and a
// fingerprint that names it in the block KV cache. Cheap to copy (shared, immutable).
//
//   auto model = Model::load("models/llama-3.2-1b", {.device = "cuda", .dtype = DType::BF16});
//
// Before anything is read the memory the model needs (weights + KV cache for maxTokens tokens +
// activations) is compared with what the device has (or the budget given); a model that does not
// fit is an Error saying how much it needs and how much there is.
#include "engine/dtype.hpp"
#include "engine/memory.hpp"
#include "engine/model_config.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace blocklens::engine {

struct LoadOptions {
    std::string device = "cpu";                // "cpu", "cuda", "cuda:N"
    std::optional<DType> dtype;                // compute dtype; default f32 on CPU, the checkpoint's on CUDA
    std::int64_t maxTokens = 4096;             // longest sequence planned, for the memory check
    std::int64_t logitRows = 1;                // positions whose logits the caller keeps (memory check)
    std::optional<std::uint64_t> memoryBudget; // bytes; default: what the device has free
};

class Model {
public:
    // Throws Error (missing files, bad config, bad tensors, does not fit, CUDA not available).
    static Model load(const std::filesystem::path& directory, const LoadOptions& options = {},
                      const Progress& progress = {});

    const ModelConfig& config() const;
    DType dtype() const;                        // compute dtype
    std::string device() const;                 // "cpu", "cuda:0"
    const std::string& fingerprint() const;     // hex SHA-256 of config.json and the checkpoint
    const std::filesystem::path& directory() const;
    const MemoryEstimate& memory() const;       // the estimate checked before loading

    struct Impl;
    const Impl& impl() const { return *impl_; }

private:
    explicit Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

bool cudaAvailable();
std::string torchVersion(); // e.g. "1.13.0"

} // namespace blocklens::engine
