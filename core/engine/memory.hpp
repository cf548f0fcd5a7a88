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

// The attention capture of one run (heatmaps, leakage: RunRequest::attention), before it starts.
// What is kept is [layers, heads, rows, blocks] fp32 with rows = tokens (token rows) or blocks
// (byBlock); the attention itself is computed in query chunks, so what grows with the document
// while running is linear in it (one chunk of scores, [chunk, tokens]). Hence:
//   byBlock:    kept = 4 L H B^2           (no token term at all)
//   token rows: kept = 4 L H n B           (linear in n for a fixed number of blocks)
//   transient:  O(H n) per chunk, plus the engine's own KV and activations (estimateMemory).
struct AttentionCaptureEstimate {
    std::int64_t tokens = 0, blocks = 0, layers = 0, heads = 0;
    bool byBlock = false;
    std::uint64_t keptBytes = 0;      // the result: [layers, heads, rows, blocks] floats
    std::uint64_t transientBytes = 0; // one query chunk's scores and masks while running
    // Peak: the result is held about three times at the end (per-layer tensors, stacked, the
    // host vector) plus the transient buffers.
    std::uint64_t peakBytes() const;
};
AttentionCaptureEstimate estimateAttentionCapture(const ModelConfig& config, std::int64_t tokens, std::int64_t blocks,
                                                  std::int64_t layers, bool byBlock);

// The most blocks (bins) a byBlock capture of `layers` layers may have for its result to take at
// most keptBudget bytes (4 L H B^2 <= budget); at least 1.
std::int64_t maxAttentionCaptureBlocks(const ModelConfig& config, std::int64_t layers, std::uint64_t keptBudget);

// The most a capture may take: kMaxAttentionCaptureBytes, or half of the available host memory
// when that is less.
inline constexpr std::uint64_t kMaxAttentionCaptureBytes = 4ull << 30;
std::uint64_t attentionCaptureLimit();

// Throws Error (item "attention capture"): "the attention capture of N tokens in B blocks needs
// about X (...) but the limit is Y ..." when estimate.peakBytes() > limit.
void checkAttentionCaptureFits(const AttentionCaptureEstimate& estimate, std::uint64_t limit);

std::string formatBytes(std::uint64_t bytes); // "1.50 GiB", "12.0 MiB", "512 B"

} // namespace blocklens::engine
