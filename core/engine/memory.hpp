#pragma once
// How much memory a model needs before it is loaded, and whether that fits.
#include "engine/dtype.hpp"
#include "engine/model_config.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace blocklens::engine {

// The most tokens one run may hold (token ids and positions are 32-bit); anything above is refused
// before any arithmetic on it can overflow.
inline constexpr std::int64_t kMaxRunTokens = 2147483647;

// Every figure saturates at UINT64_MAX instead of wrapping, so absurd sizes (a billion layers, a
// vocabulary of 2^40) read as "does not fit" rather than as a small number.
struct MemoryEstimate {
    std::uint64_t weightBytes = 0;      // parameters in the compute dtype
    std::uint64_t kvBytesPerToken = 0;  // K and V of every layer for one token
    std::uint64_t kvBytes = 0;          // for `tokens` tokens
    std::uint64_t activationBytes = 0;  // the largest transient buffers of one forward pass + logits kept
    std::uint64_t totalBytes() const;
    std::int64_t tokens = 0;
};

// `tokens`: the longest sequence a run will hold (prompt + generated tokens). `logitRows`: how
// many positions' logits the caller keeps (fp32, counted twice: the tensor and its host copy).
MemoryEstimate estimateMemory(const ModelConfig& config, DType compute, std::int64_t tokens, std::int64_t logitRows = 1);

// MemAvailable from /proc/meminfo (bytes); nullopt where unknown.
std::optional<std::uint64_t> availableHostMemory();

// Throws Error: "<what> needs about X GiB (weights A GiB + KV cache B GiB for N tokens + ...) but
// only Y GiB is available on <where>" when estimate.totalBytes() > available.
void checkFits(const MemoryEstimate& estimate, std::uint64_t available, const std::string& where,
               const std::string& what);

std::string formatBytes(std::uint64_t bytes); // "1.50 GiB", "12.0 MiB", "512 B"

} // namespace blocklens::engine
