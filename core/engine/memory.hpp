#pragma once
// How much memory a model needs before it is loaded, and whether that fits.
#include "engine/dtype.hpp"
#include "engine/model_config.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace blocklens::engine {

struct MemoryEstimate {
    std::uint64_t weightBytes = 0;      // parameters in the compute dtype
    std::uint64_t kvBytesPerToken = 0;  // K and V of every layer for one token
    std::uint64_t kvBytes = 0;          // for `tokens` tokens
    std::uint64_t activationBytes = 0;  // the largest transient buffers of one forward pass
    std::uint64_t totalBytes() const { return weightBytes + kvBytes + activationBytes; }
    std::int64_t tokens = 0;
};

// `tokens`: the longest sequence a run will hold (prompt + generated tokens).
MemoryEstimate estimateMemory(const ModelConfig& config, DType compute, std::int64_t tokens);

// MemAvailable from /proc/meminfo (bytes); nullopt where unknown.
std::optional<std::uint64_t> availableHostMemory();

// Throws Error: "<what> needs about X GiB (weights A GiB + KV cache B GiB for N tokens + ...) but
// only Y GiB is available on <where>" when estimate.totalBytes() > available.
void checkFits(const MemoryEstimate& estimate, std::uint64_t available, const std::string& where,
               const std::string& what);

std::string formatBytes(std::uint64_t bytes); // "1.50 GiB", "12.0 MiB", "512 B"

} // namespace blocklens::engine
