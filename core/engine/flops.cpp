#include "engine/full_prefill_flops.hpp"

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

FlopCount fullPrefillFlops(const ModelConfig& c, std::int64_t n, std::int64_t outputRows)
{
    const auto window = c.slidingWindow;
    FlopCount f = forwardFlops(c, n, attendedPairs(0, n, 0, window), 0);
    if (outputRows <= 0 || outputRows >= n)
        return f;
    // The last layer's rows [0, n - outputRows) stop after their q/k/v projections.
    const double h = static_cast<double>(c.hiddenSize), skipped = static_cast<double>(n - outputRows);
    const double afterQkvPerToken = h * static_cast<double>(c.qDim()) + 3 * h * static_cast<double>(c.intermediateSize); // o, MLP
    f.linear -= 2 * afterQkvPerToken * skipped;
    const std::int64_t skippedPairs = attendedPairs(0, n - outputRows, 0, window);
    f.attention -= 4 * static_cast<double>(c.numHeads * c.headDim) * static_cast<double>(skippedPairs);
    return f;
}

} // namespace blocklens::engine
