// Shared by the decoders: snapping candidates to the token grid and the hard maximum.
#include "segment/decoders.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace blocklens::segment {

ScoredCuts snapToGrid(std::span<const Candidate> candidates, std::span<const double> scores, const TokenGrid& grid)
{
    ScoredCuts out;
    out.offsets.reserve(candidates.size());
    out.scores.reserve(candidates.size());
    const std::size_t length = grid.textLength();
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const std::size_t o = grid.snap(candidates[i].offset);
        if (o == 0 || o >= length)
            continue;
        // Snapping never moves right, so offsets stay sorted except for equal ones.
        if (!out.offsets.empty() && out.offsets.back() >= o) {
            if (out.offsets.back() == o) {
                out.scores.back() = std::max(out.scores.back(), scores[i]);
                continue;
            }
            // A snapped offset behind the previous one: insert in order (rare: overlapping tokens).
            const auto it = std::lower_bound(out.offsets.begin(), out.offsets.end(), o);
            const auto k = static_cast<std::size_t>(it - out.offsets.begin());
            if (*it == o) {
                out.scores[k] = std::max(out.scores[k], scores[i]);
            } else {
                out.offsets.insert(it, o);
                out.scores.insert(out.scores.begin() + static_cast<std::ptrdiff_t>(k), scores[i]);
            }
            continue;
        }
        out.offsets.push_back(o);
        out.scores.push_back(scores[i]);
    }
    out.tokens.reserve(out.offsets.size());
    for (std::size_t o : out.offsets)
        out.tokens.push_back(grid.tokensBefore(o));
    return out;
}

namespace {

// Cuts at evenly spaced token starts so that [a, b) falls into pieces of at most maxT tokens.
void evenSplit(std::size_t a, std::size_t b, std::size_t maxT, const TokenGrid& grid, std::vector<std::size_t>& out)
{
    const std::size_t ta = grid.tokensBefore(a), tb = grid.tokensBefore(b);
    const std::size_t n = tb - ta;
    if (n <= maxT)
        return;
    const std::size_t parts = (n + maxT - 1) / maxT;
    std::size_t previous = a;
    for (std::size_t k = 1; k < parts; ++k) {
        const std::size_t index = ta + (k * n + parts / 2) / parts;
        const std::size_t o = grid.snap(grid.tokenBegin(index));
        if (o > previous && o < b) {
            out.push_back(o);
            previous = o;
        }
    }
}

} // namespace

std::vector<std::size_t> enforceMinSize(const std::vector<std::size_t>& cuts, const TokenGrid& grid, const SizeLimits& limits)
{
    const std::size_t minT = limits.minTokens;
    if (minT <= 1 || cuts.empty() || grid.size() == 0)
        return cuts;
    const std::size_t length = grid.textLength();
    const std::size_t maxT = limits.effectiveMax(grid.size());
    std::vector<std::size_t> kept;
    kept.reserve(cuts.size());
    std::size_t start = 0; // where the block being built begins
    for (std::size_t i = 0; i < cuts.size(); ++i) {
        const std::size_t c = cuts[i];
        const std::size_t next = i + 1 < cuts.size() ? cuts[i + 1] : length;
        if (grid.count(start, c) < minT) {
            if (grid.count(start, next) <= maxT)
                continue; // joins the next block: its closing cut goes
            const std::size_t before = kept.size() >= 2 ? kept[kept.size() - 2] : 0;
            if (!kept.empty() && grid.count(before, c) <= maxT) {
                kept.back() = c; // joins the block before: its opening cut goes
                start = c;
                continue;
            }
        }
        kept.push_back(c);
        start = c;
    }
    // The last block has no next one: it joins the block before.
    if (!kept.empty() && grid.count(kept.back(), length) < minT) {
        const std::size_t before = kept.size() >= 2 ? kept[kept.size() - 2] : 0;
        if (grid.count(before, length) <= maxT)
            kept.pop_back();
    }
    return kept;
}

std::vector<std::size_t> enforceSizeLimits(std::vector<std::size_t> cuts, const ScoredCuts& candidates, const TokenGrid& grid,
                                           const SizeLimits& limits)
{
    // Merging never passes the maximum, so the minimum goes last.
    return enforceMinSize(enforceMaxSize(std::move(cuts), candidates, grid, limits), grid, limits);
}

std::vector<std::size_t> enforceMaxSize(std::vector<std::size_t> cuts, const ScoredCuts& candidates,
                                        const TokenGrid& grid, const SizeLimits& limits)
{
    if (limits.maxTokens == 0 || grid.size() == 0)
        return cuts;
    const std::size_t maxT = limits.maxTokens;
    const std::size_t minT = std::max<std::size_t>(1, limits.minTokens);
    std::vector<std::size_t> bounds;
    bounds.reserve(cuts.size() + 2);
    bounds.push_back(0);
    bounds.insert(bounds.end(), cuts.begin(), cuts.end());
    bounds.push_back(grid.textLength());

    std::vector<std::size_t> added;
    // Work list of blocks still to check; splitting pushes both halves.
    std::vector<std::pair<std::size_t, std::size_t>> work;
    for (std::size_t i = 0; i + 1 < bounds.size(); ++i)
        work.emplace_back(bounds[i], bounds[i + 1]);
    while (!work.empty()) {
        const auto [a, b] = work.back();
        work.pop_back();
        const std::size_t ta = grid.tokensBefore(a), tb = grid.tokensBefore(b);
        if (tb - ta <= maxT)
            continue;
        // Best candidate strictly inside: both halves >= min if possible; then score; then the
        // one nearest the middle, so repeated splits stay balanced.
        const auto first = std::upper_bound(candidates.offsets.begin(), candidates.offsets.end(), a);
        const auto last = std::lower_bound(candidates.offsets.begin(), candidates.offsets.end(), b);
        std::size_t best = SIZE_MAX;
        bool bestKeepsMin = false;
        double bestScore = -std::numeric_limits<double>::infinity(), bestDistance = 0;
        const double middle = (static_cast<double>(ta) + static_cast<double>(tb)) / 2.0;
        for (auto it = first; it != last; ++it) {
            const auto k = static_cast<std::size_t>(it - candidates.offsets.begin());
            const std::size_t t = candidates.tokens[k];
            if (t <= ta || t >= tb)
                continue; // would leave an empty block
            const bool keepsMin = t - ta >= minT && tb - t >= minT;
            const double distance = std::abs(static_cast<double>(t) - middle);
            const double s = candidates.scores[k];
            const bool better = best == SIZE_MAX || (keepsMin && !bestKeepsMin)
                || (keepsMin == bestKeepsMin && (s > bestScore || (s == bestScore && distance < bestDistance)));
            if (better) {
                best = k;
                bestKeepsMin = keepsMin;
                bestScore = s;
                bestDistance = distance;
            }
        }
        if (best != SIZE_MAX) {
            const std::size_t c = candidates.offsets[best];
            added.push_back(c);
            work.emplace_back(a, c);
            work.emplace_back(c, b);
        } else {
            evenSplit(a, b, maxT, grid, added);
        }
    }
    cuts.insert(cuts.end(), added.begin(), added.end());
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    return cuts;
}

} // namespace blocklens::segment
