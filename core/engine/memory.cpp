#include "engine/memory.hpp"

#include "util/error.hpp"

#include <algorithm>
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

} // namespace blocklens::engine
