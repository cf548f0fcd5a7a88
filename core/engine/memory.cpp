#include "engine/memory.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace blocklens::engine {

MemoryEstimate estimateMemory(const ModelConfig& c, DType compute, std::int64_t tokens)
{
    MemoryEstimate e;
    const std::uint64_t bytes = byteSize(compute);
    e.tokens = tokens;
    e.weightBytes = static_cast<std::uint64_t>(c.parameterCount()) * bytes;
    e.kvBytesPerToken = 2ull * static_cast<std::uint64_t>(c.numLayers * c.kvDim()) * bytes;
    e.kvBytes = e.kvBytesPerToken * static_cast<std::uint64_t>(tokens);
    // One forward pass over `tokens` tokens holds a few hidden-sized buffers, the MLP's gate and up
    // outputs, one chunk of attention scores (fp32, queries processed 1024 at a time) and the
    // logits of the last token (fp32). Logits of every position are extra (the caller's choice).
    const auto t = static_cast<std::uint64_t>(tokens);
    const std::uint64_t hidden = 4 * t * static_cast<std::uint64_t>(std::max(c.hiddenSize, c.qDim())) * bytes;
    const std::uint64_t mlp = 3 * t * static_cast<std::uint64_t>(c.intermediateSize) * bytes;
    const std::uint64_t scores = static_cast<std::uint64_t>(c.numHeads) * std::min<std::uint64_t>(t, 1024) * t * 4;
    e.activationBytes = hidden + mlp + scores + static_cast<std::uint64_t>(c.vocabSize) * 4;
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
