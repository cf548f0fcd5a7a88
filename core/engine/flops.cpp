#include "engine/flops.hpp"

#include <algorithm>

namespace blocklens::engine {

std::int64_t attendedPairs(std::int64_t q0, std::int64_t n, std::int64_t k0, std::optional<std::int64_t> window)
{
    std::int64_t pairs = 0;
    for (std::int64_t s = q0; s < q0 + n; ++s) {
        const std::int64_t first = window ? std::max(k0, s - *window + 1) : k0;
        pairs += std::max<std::int64_t>(0, s - first + 1);
    }
    return pairs;
}

FlopCount forwardFlops(const ModelConfig& c, std::int64_t tokens, std::int64_t pairs, std::int64_t logitsRows)
{
    const double h = static_cast<double>(c.hiddenSize), layers = static_cast<double>(c.numLayers);
    const double perToken = h * static_cast<double>(c.qDim()) * 2 + h * static_cast<double>(c.kvDim()) * 2 +
                            3 * h * static_cast<double>(c.intermediateSize);
    FlopCount f;
    f.linear = 2 * layers * perToken * static_cast<double>(tokens);
    f.attention = 4 * layers * static_cast<double>(c.numHeads * c.headDim) * static_cast<double>(pairs);
    f.lmHead = 2 * h * static_cast<double>(c.vocabSize) * static_cast<double>(logitsRows);
    return f;
}

} // namespace blocklens::engine
