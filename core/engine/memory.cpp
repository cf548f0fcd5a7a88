#include "engine/memory.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>

namespace blocklens::engine {
namespace {

constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

std::uint64_t u64(std::int64_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; }

std::uint64_t mul(std::initializer_list<std::uint64_t> factors)
{
    std::uint64_t out = 1;
    for (const auto f : factors) {
        if (f == 0)
            return 0;
        out = out > kSaturated / f ? kSaturated : out * f;
    }
    return out;
}

std::uint64_t add(std::initializer_list<std::uint64_t> terms)
{
    std::uint64_t out = 0;
    for (const auto t : terms)
        out = t > kSaturated - out ? kSaturated : out + t;
    return out;
}

} // namespace

std::uint64_t MemoryEstimate::totalBytes() const { return add({weightBytes, kvBytes, activationBytes}); }

MemoryEstimate estimateMemory(const ModelConfig& c, DType compute, std::int64_t tokens, std::int64_t logitRows)
{
    MemoryEstimate e;
    const std::uint64_t bytes = byteSize(compute);
    e.tokens = tokens;
    e.weightBytes = mul({u64(c.parameterCount()), bytes});
    e.kvBytesPerToken = mul({2, u64(c.numLayers), u64(c.numKvHeads), u64(c.headDim), bytes});
    e.kvBytes = mul({e.kvBytesPerToken, u64(tokens)});
    // One forward pass over `tokens` tokens holds a few hidden-sized buffers, the MLP's gate and up
    // outputs, one chunk of attention scores (fp32, queries processed 1024 at a time) and the
    // logits of the last token (fp32); logits of more positions are the caller's choice.
    const std::uint64_t t = u64(tokens);
    const std::uint64_t hidden = mul({4, t, u64(std::max(c.hiddenSize, c.numHeads * c.headDim)), bytes});
    const std::uint64_t mlp = mul({3, t, u64(c.intermediateSize), bytes});
    const std::uint64_t scores = mul({u64(c.numHeads), std::min<std::uint64_t>(t, 1024), t, 4});
    const std::uint64_t logits = logitRows > 1 ? mul({2, u64(logitRows), u64(c.vocabSize), 4}) : mul({u64(c.vocabSize), 4});
    e.activationBytes = add({hidden, mlp, scores, logits});
    return e;
}

std::optional<std::uint64_t> availableHostMemory()
{
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("MemAvailable:", 0) == 0) {
            std::istringstream s(line.substr(13));
            std::uint64_t kb = 0;
            s >> kb;
            return kb * 1024;
        }
    }
    return std::nullopt;
}

std::string formatBytes(std::uint64_t bytes)
{
    char buf[64];
    const double b = static_cast<double>(bytes);
    if (bytes >= (1ull << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1ull << 30));
    else if (bytes >= (1ull << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1ull << 20));
    else if (bytes >= (1ull << 10))
        std::snprintf(buf, sizeof buf, "%.1f KiB", b / (1ull << 10));
    else
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    return buf;
}

void checkFits(const MemoryEstimate& e, std::uint64_t available, const std::string& where, const std::string& what)
{
    if (e.totalBytes() <= available)
        return;
    throw Error(what + " needs about " + formatBytes(e.totalBytes()) + " (weights " + formatBytes(e.weightBytes) +
                    " + KV cache " + formatBytes(e.kvBytes) + " for " + std::to_string(e.tokens) + " tokens + activations " +
                    formatBytes(e.activationBytes) + ") but only " + formatBytes(available) + " is available on " + where +
                    "; use a smaller model, fewer tokens, or --dtype bf16");
}

std::uint64_t AttentionCaptureEstimate::peakBytes() const { return add({mul({3, keptBytes}), transientBytes}); }

AttentionCaptureEstimate estimateAttentionCapture(const ModelConfig& c, std::int64_t tokens, std::int64_t blocks,
                                                  std::int64_t layers, bool byBlock)
{
    AttentionCaptureEstimate e;
    e.tokens = tokens;
    e.blocks = blocks;
    e.layers = layers;
    e.heads = c.numHeads;
    e.byBlock = byBlock;
    const std::uint64_t rows = u64(byBlock ? blocks : tokens);
    e.keptBytes = mul({4, u64(layers), u64(c.numHeads), rows, u64(blocks)});
    // attention.cpp's chunk: at least 16 query rows, else about 2^20 scores (CPU; 2^27 on a GPU,
    // whose memory is not the host's); scores, probabilities and their fp32 copy, each
    // [heads, chunk, tokens]; the chunk's rows per key block [heads, chunk, blocks]; the causal
    // masks of every chunk (bool, [chunk, chunk] each: tokens x chunk in all).
    const std::uint64_t t = u64(tokens);
    const std::uint64_t chunk = std::min<std::uint64_t>(512, std::max<std::uint64_t>(16, (1ull << 20) / std::max<std::uint64_t>(1, mul({u64(c.numHeads), t}))));
    const std::uint64_t scores = std::max<std::uint64_t>(1ull << 20, mul({u64(c.numHeads), chunk, t}));
    e.transientBytes = add({mul({3, 4, scores}), mul({4, u64(c.numHeads), chunk, u64(blocks)}), mul({t, chunk})});
    return e;
}

std::int64_t maxAttentionCaptureBlocks(const ModelConfig& c, std::int64_t layers, std::uint64_t keptBudget)
{
    const std::uint64_t perPair = std::max<std::uint64_t>(1, mul({4, u64(layers), u64(c.numHeads)}));
    auto b = static_cast<std::uint64_t>(std::sqrt(static_cast<double>(keptBudget / perPair)));
    while (b > 1 && mul({perPair, b, b}) > keptBudget) // sqrt in double may round up
        --b;
    return static_cast<std::int64_t>(std::max<std::uint64_t>(1, b));
}

std::uint64_t attentionCaptureLimit()
{
    const auto available = availableHostMemory();
    return available ? std::min(kMaxAttentionCaptureBytes, *available / 2) : kMaxAttentionCaptureBytes;
}

void checkAttentionCaptureFits(const AttentionCaptureEstimate& e, std::uint64_t limit)
{
    if (e.peakBytes() <= limit)
        return;
    const std::string rows = e.byBlock ? std::to_string(e.blocks) + " block rows" : std::to_string(e.tokens) + " token rows";
    throw Error("the attention capture of " + std::to_string(e.tokens) + " tokens in " + std::to_string(e.blocks) +
                    " blocks needs about " + formatBytes(e.peakBytes()) + " (" + std::to_string(e.layers) + " layers x " +
                    std::to_string(e.heads) + " heads x " + rows + " x " + std::to_string(e.blocks) + " blocks of floats = " +
                    formatBytes(e.keptBytes) + ", held about 3 times, + " + formatBytes(e.transientBytes) +
                    " while running) but the limit is " + formatBytes(limit) +
                    " (at most " + formatBytes(kMaxAttentionCaptureBytes) +
                    " or half the available memory): capture fewer layers or fewer blocks" +
                    (e.byBlock ? std::string() : std::string(", or one row per block")),
                {.item = "attention capture"});
}

} // namespace blocklens::engine
