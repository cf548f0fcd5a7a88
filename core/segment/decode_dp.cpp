// The dynamic-programming decoder; see decoders.hpp for the objective and its complexity.
#include "segment/decoders.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace blocklens::segment {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Node 0 is the text start, node n-1 the end; nodes in between are possible cuts.
struct Nodes {
    std::vector<std::size_t> offset, tokens;
    std::vector<double> gain;
    std::size_t size() const { return offset.size(); }
};

Nodes buildNodes(const ScoredCuts& cuts, const TokenGrid& grid, std::size_t maxT)
{
    // Fallback cuts at token starts wherever candidates are more than maxT/2 tokens apart, scored
    // below every real candidate, so that a path within the maximum always exists.
    double lowest = 0;
    for (double s : cuts.scores)
        lowest = std::min(lowest, s);
    const double fallbackGain = lowest - 1.0;
    const std::size_t step = std::max<std::size_t>(1, maxT / 2);
    const std::size_t total = grid.size();
    Nodes n;
    auto push = [&](std::size_t offset, std::size_t tokens, double gain) {
        n.offset.push_back(offset);
        n.tokens.push_back(tokens);
        n.gain.push_back(gain);
    };
    auto fill = [&](std::size_t fromTokens, std::size_t toTokens) {
        for (std::size_t t = fromTokens + step; t + step / 2 < toTokens && t < total; t += step) {
            const std::size_t o = grid.snap(grid.tokenBegin(t));
            if (o > n.offset.back() && o < grid.textLength())
                push(o, grid.tokensBefore(o), fallbackGain);
        }
    };
    push(0, 0, 0.0);
    for (std::size_t k = 0; k < cuts.offsets.size(); ++k) {
        if (cuts.tokens[k] > n.tokens.back() + step)
            fill(n.tokens.back(), cuts.tokens[k]);
        push(cuts.offsets[k], cuts.tokens[k], cuts.scores[k]);
    }
    if (total > n.tokens.back() + step)
        fill(n.tokens.back(), total);
    push(grid.textLength(), total, 0.0);
    return n;
}

struct Problem {
    const Nodes& nodes;
    std::size_t minT, maxT;
    double target, weight;
    double penalty(std::size_t size) const
    {
        const double d = (static_cast<double>(size) - target) / target;
        return weight * d * d;
    }
};

struct Solution {
    bool feasible = false;
    double value = kNegInf;  // objective without the multiplier
    std::vector<std::size_t> cuts; // node indices, ascending, excluding both ends
};

// One O(m * R) pass with `mu` added to every cut's gain. Ties prefer fewer cuts, which keeps the
// number of cuts monotone in mu.
Solution solve(const Problem& pb, double mu)
{
    const Nodes& nd = pb.nodes;
    const std::size_t n = nd.size();
    std::vector<double> f(n, kNegInf);
    std::vector<std::uint32_t> count(n, 0), prev(n, 0);
    f[0] = 0;
    std::size_t lo = 0, hi = 0; // allowed predecessors of j: [lo, hi)
    for (std::size_t j = 1; j < n; ++j) {
        const std::size_t tj = nd.tokens[j];
        while (lo < j && nd.tokens[lo] + pb.maxT < tj)
            ++lo;
        if (hi < lo)
            hi = lo;
        while (hi < j && nd.tokens[hi] + pb.minT <= tj)
            ++hi;
        const double gain = (j + 1 < n) ? nd.gain[j] + mu : 0.0;
        double best = kNegInf;
        std::uint32_t bestCount = 0, bestPrev = 0;
        for (std::size_t i = lo; i < hi; ++i) {
            if (f[i] == kNegInf)
                continue;
            const double v = f[i] + gain - pb.penalty(tj - nd.tokens[i]);
            const std::uint32_t c = count[i] + (j + 1 < n ? 1 : 0);
            const double eps = 1e-9 * (1.0 + std::abs(v));
            if (v > best + eps || (v >= best - eps && c < bestCount)) {
                best = v;
                bestCount = c;
                bestPrev = static_cast<std::uint32_t>(i);
            }
        }
        f[j] = best;
        count[j] = bestCount;
        prev[j] = bestPrev;
    }
    Solution s;
    if (f[n - 1] == kNegInf)
        return s;
    s.feasible = true;
    for (std::size_t j = prev[n - 1]; j != 0; j = prev[j])
        s.cuts.push_back(j);
    std::reverse(s.cuts.begin(), s.cuts.end());
    s.value = f[n - 1] - mu * static_cast<double>(s.cuts.size());
    return s;
}

// Greedy repair towards exactly `k` cuts: remove the cut whose removal costs least (keeping the
// maximum), or insert the node whose insertion gains most (keeping the minimum).
std::vector<std::size_t> repair(const Problem& pb, std::vector<std::size_t> cuts, std::size_t k)
{
    const Nodes& nd = pb.nodes;
    const std::size_t last = nd.size() - 1;
    auto tokensAt = [&](std::size_t node) { return nd.tokens[node]; };
    while (cuts.size() > k) {
        double bestDelta = kNegInf;
        std::size_t bestIndex = SIZE_MAX;
        for (std::size_t i = 0; i < cuts.size(); ++i) {
            const std::size_t a = i == 0 ? 0 : cuts[i - 1], b = i + 1 < cuts.size() ? cuts[i + 1] : last;
            const std::size_t merged = tokensAt(b) - tokensAt(a);
            if (merged > pb.maxT)
                continue;
            const double delta = -nd.gain[cuts[i]] - pb.penalty(merged) + pb.penalty(tokensAt(cuts[i]) - tokensAt(a))
                + pb.penalty(tokensAt(b) - tokensAt(cuts[i]));
            if (delta > bestDelta) {
                bestDelta = delta;
                bestIndex = i;
            }
        }
        if (bestIndex == SIZE_MAX)
            break;
        cuts.erase(cuts.begin() + static_cast<std::ptrdiff_t>(bestIndex));
    }
    while (cuts.size() < k) {
        double bestDelta = kNegInf;
        std::size_t bestNode = SIZE_MAX;
        std::size_t gap = 0; // cuts[gap-1] < node < cuts[gap]
        for (std::size_t node = 1; node < last; ++node) {
            while (gap < cuts.size() && cuts[gap] < node)
                ++gap;
            if (gap < cuts.size() && cuts[gap] == node)
                continue;
            const std::size_t a = gap == 0 ? 0 : cuts[gap - 1], b = gap < cuts.size() ? cuts[gap] : last;
            const std::size_t left = tokensAt(node) - tokensAt(a), right = tokensAt(b) - tokensAt(node);
            if (left < pb.minT || right < pb.minT)
                continue;
            const double delta = nd.gain[node] - pb.penalty(left) - pb.penalty(right) + pb.penalty(left + right);
            if (delta > bestDelta) {
                bestDelta = delta;
                bestNode = node;
            }
        }
        if (bestNode == SIZE_MAX)
            break;
        cuts.insert(std::lower_bound(cuts.begin(), cuts.end(), bestNode), bestNode);
    }
    return cuts;
}

} // namespace

std::vector<std::size_t> decodeDp(const ScoredCuts& cuts, const TokenGrid& grid, const DpParams& p,
                                  const SizeLimits& limits)
{
    const std::size_t total = grid.size();
    if (total == 0 || p.blocks == 1)
        return enforceSizeLimits({}, cuts, grid, limits);
    const std::size_t maxT = std::max<std::size_t>(1, limits.effectiveMax(total));
    std::size_t minT = std::clamp<std::size_t>(limits.minTokens, 1, maxT);
    const Nodes nodes = buildNodes(cuts, grid, maxT);
    double target = p.blocks > 0 ? static_cast<double>(total) / static_cast<double>(p.blocks)
                                 : static_cast<double>(p.targetTokens > 0 ? p.targetTokens : maxT / 2);
    target = std::max(target, 1.0);
    Problem pb{nodes, minT, maxT, target, p.sizeWeight};

    auto toOffsets = [&](const std::vector<std::size_t>& nodeCuts) {
        std::vector<std::size_t> out;
        out.reserve(nodeCuts.size());
        for (std::size_t j : nodeCuts)
            out.push_back(nodes.offset[j]);
        return enforceSizeLimits(std::move(out), cuts, grid, limits);
    };

    if (p.blocks == 0) {
        // Target mode: rescale gains to [-1, 0] (the best candidate 0). Otherwise positive scores
        // would reward cutting as such and a segmenter with uniform scores would cut everywhere;
        // this way sizes decide how many blocks there are, scores decide where, and a cut at the
        // weakest candidate costs as much as one block of twice the target size.
        double best = -std::numeric_limits<double>::infinity(), worst = std::numeric_limits<double>::infinity();
        for (double g : cuts.scores) {
            best = std::max(best, g);
            worst = std::min(worst, g);
        }
        const double range = cuts.scores.empty() || best <= worst ? 1.0 : best - worst;
        Nodes rescaled = nodes;
        for (std::size_t j = 1; j + 1 < rescaled.size(); ++j)
            rescaled.gain[j] = cuts.scores.empty() ? -1.0 : (nodes.gain[j] - best) / range;
        Problem tp{rescaled, minT, maxT, target, p.sizeWeight};
        Solution s = solve(tp, 0.0);
        if (!s.feasible) { // the minimum cannot be kept everywhere: drop it
            tp.minT = 1;
            s = solve(tp, 0.0);
        }
        return toOffsets(s.cuts);
    }

    // Exactly k cuts: bisection on the per-cut multiplier mu.
    const std::size_t k = p.blocks - 1;
    double maxGain = 1.0;
    for (double g : nodes.gain)
        maxGain = std::max(maxGain, std::abs(g));
    const double penaltyMax = std::max(pb.penalty(pb.minT), pb.penalty(pb.maxT));
    double lo = -(2.0 * (maxGain + 3.0 * penaltyMax) + 1.0), hi = -lo;
    Solution sLo = solve(pb, lo);
    if (!sLo.feasible) {
        pb.minT = 1;
        sLo = solve(pb, lo);
    }
    if (sLo.cuts.size() >= k) // even the fewest cuts are too many (the maximum rules): repair down
        return toOffsets(repair(pb, sLo.cuts, k));
    Solution sHi = solve(pb, hi);
    if (sHi.cuts.size() <= k)
        return toOffsets(repair(pb, sHi.cuts, k));
    for (int it = 0; it < 64 && hi - lo > 1e-12 * (1.0 + std::abs(lo) + std::abs(hi)); ++it) {
        const double mid = (lo + hi) / 2.0;
        Solution s = solve(pb, mid);
        if (s.cuts.size() == k)
            return toOffsets(s.cuts);
        if (s.cuts.size() < k) {
            lo = mid;
            sLo = std::move(s);
        } else {
            hi = mid;
            sHi = std::move(s);
        }
    }
    // Ties made the count jump over k: repair the nearer side.
    auto down = repair(pb, sHi.cuts, k);
    if (down.size() == k)
        return toOffsets(down);
    return toOffsets(repair(pb, sLo.cuts, k));
}

} // namespace blocklens::segment
