#include "segment/decoders.hpp"

#include <algorithm>
#include <cmath>

namespace blocklens::segment {
namespace {

struct Refiner {
    const ScoredCuts& cuts;
    std::size_t minT, splitAbove;
    std::vector<std::size_t>& out; // indices into cuts

    // Splits the block between token counts ta and tb (candidate index range [lo, hi)) at its
    // best candidate while it is larger than splitAbove and depth remains.
    void refine(std::size_t ta, std::size_t tb, std::size_t lo, std::size_t hi, int depth)
    {
        if (depth <= 0 || tb - ta <= splitAbove)
            return;
        const double middle = (static_cast<double>(ta) + static_cast<double>(tb)) / 2.0;
        std::size_t best = SIZE_MAX;
        for (std::size_t k = lo; k < hi; ++k) {
            const std::size_t t = cuts.tokens[k];
            if (t < ta + minT || t + minT > tb)
                continue;
            if (best == SIZE_MAX || cuts.scores[k] > cuts.scores[best]
                || (cuts.scores[k] == cuts.scores[best]
                    && std::abs(static_cast<double>(t) - middle) < std::abs(static_cast<double>(cuts.tokens[best]) - middle)))
                best = k;
        }
        if (best == SIZE_MAX)
            return;
        out.push_back(best);
        refine(ta, cuts.tokens[best], lo, best, depth - 1);
        refine(cuts.tokens[best], tb, best + 1, hi, depth - 1);
    }
};

} // namespace

std::vector<std::size_t> decodeThreshold(const ScoredCuts& cuts, const TokenGrid& grid, const ThresholdParams& p,
                                         const SizeLimits& limits)
{
    const std::size_t total = grid.size();
    const std::size_t minT = std::max<std::size_t>(1, limits.minTokens);
    std::vector<std::size_t> chosen; // indices into cuts
    std::size_t lastTokens = 0;
    for (std::size_t k = 0; k < cuts.offsets.size(); ++k) {
        const std::size_t t = cuts.tokens[k];
        if (cuts.scores[k] >= p.threshold && t >= lastTokens + minT && t + minT <= total) {
            chosen.push_back(k);
            lastTokens = t;
        }
    }
    if (p.depth > 0 && p.splitAbove > 0) {
        std::vector<std::size_t> refined;
        Refiner r{cuts, minT, p.splitAbove, refined};
        std::size_t ta = 0, lo = 0;
        for (std::size_t i = 0; i <= chosen.size(); ++i) {
            const std::size_t tb = i < chosen.size() ? cuts.tokens[chosen[i]] : total;
            const std::size_t hi = i < chosen.size() ? chosen[i] : cuts.offsets.size();
            r.refine(ta, tb, lo, hi, p.depth);
            if (i < chosen.size()) {
                ta = tb;
                lo = chosen[i] + 1;
            }
        }
        chosen.insert(chosen.end(), refined.begin(), refined.end());
        std::sort(chosen.begin(), chosen.end());
    }
    std::vector<std::size_t> out;
    out.reserve(chosen.size());
    for (std::size_t k : chosen)
        out.push_back(cuts.offsets[k]);
    return enforceSizeLimits(std::move(out), cuts, grid, limits);
}

} // namespace blocklens::segment
