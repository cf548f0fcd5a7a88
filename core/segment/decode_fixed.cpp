// The two common RAG baselines: fixed-size windows and recursive separators.
#include "segment/decoders.hpp"

#include <algorithm>
#include <functional>

namespace blocklens::segment {

std::vector<std::size_t> decodeEven(const TokenGrid& grid, std::size_t targetTokens, std::size_t blocks,
                                    const SizeLimits& limits)
{
    const std::size_t total = grid.size();
    std::vector<std::size_t> out;
    if (total == 0)
        return out;
    const std::size_t maxT = limits.effectiveMax(total);
    auto push = [&](std::size_t tokenIndex) {
        const std::size_t o = grid.snap(grid.tokenBegin(tokenIndex));
        if (o > 0 && o < grid.textLength() && (out.empty() || o > out.back()))
            out.push_back(o);
    };
    if (blocks > 0) {
        const std::size_t k = std::max(blocks, (total + maxT - 1) / maxT);
        for (std::size_t i = 1; i < k; ++i)
            push((i * total + k / 2) / k);
    } else {
        const std::size_t step = std::max<std::size_t>(1, std::min(targetTokens > 0 ? targetTokens : maxT, maxT));
        for (std::size_t t = step; t < total; t += step)
            push(t);
    }
    return enforceSizeLimits(std::move(out), ScoredCuts{}, grid, limits);
}

std::vector<std::size_t> decodeRecursive(const ScoredCuts& cuts, const TokenGrid& grid, std::size_t chunkTokens,
                                         const SizeLimits& limits)
{
    const std::size_t total = grid.size();
    std::vector<std::size_t> out;
    if (total == 0)
        return out;
    const std::size_t chunk = std::max<std::size_t>(1, std::min(chunkTokens > 0 ? chunkTokens : total, limits.effectiveMax(total)));
    std::vector<double> levels(cuts.scores.begin(), cuts.scores.end());
    std::sort(levels.begin(), levels.end(), std::greater<>());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());

    const std::size_t length = grid.textLength();
    auto tokensAt = [&](std::size_t offset) { return grid.tokensBefore(offset); };
    // Cuts strictly inside (a, b) at `level`, as candidate indices.
    std::function<void(std::size_t, std::size_t, std::size_t)> pack = [&](std::size_t a, std::size_t b, std::size_t level) {
        if (tokensAt(b) - tokensAt(a) <= chunk)
            return;
        if (level >= levels.size()) {
            // Below the weakest separator: evenly spaced token starts.
            const std::size_t ta = tokensAt(a), n = tokensAt(b) - ta;
            const std::size_t parts = (n + chunk - 1) / chunk;
            std::size_t previous = a;
            for (std::size_t k = 1; k < parts; ++k) {
                const std::size_t o = grid.snap(grid.tokenBegin(ta + (k * n + parts / 2) / parts));
                if (o > previous && o < b) {
                    out.push_back(o);
                    previous = o;
                }
            }
            return;
        }
        std::vector<std::size_t> points{a};
        const auto first = std::upper_bound(cuts.offsets.begin(), cuts.offsets.end(), a);
        const auto last = std::lower_bound(cuts.offsets.begin(), cuts.offsets.end(), b);
        for (auto it = first; it != last; ++it)
            if (cuts.scores[static_cast<std::size_t>(it - cuts.offsets.begin())] >= levels[level])
                points.push_back(*it);
        points.push_back(b);
        if (points.size() == 2) {
            pack(a, b, level + 1);
            return;
        }
        std::size_t chunkStart = a;
        for (std::size_t k = 1; k < points.size(); ++k) {
            const std::size_t x = points[k - 1], y = points[k];
            if (tokensAt(y) - tokensAt(chunkStart) <= chunk)
                continue; // the piece fits into the current chunk
            if (chunkStart < x) { // close the current chunk before this piece
                out.push_back(x);
                chunkStart = x;
            }
            if (tokensAt(y) - tokensAt(x) > chunk) { // the piece alone is too large
                pack(x, y, level + 1);
                if (y < b)
                    out.push_back(y);
                chunkStart = y;
            }
        }
    };
    pack(0, length, 0);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return enforceSizeLimits(std::move(out), cuts, grid, limits);
}

} // namespace blocklens::segment
