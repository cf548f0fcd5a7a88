#include "analysis/boundary_similarity.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <limits>
#include <string>

namespace blocklens::analysis {

BoundaryString boundaryStringFromMasses(std::span<const std::size_t> masses)
{
    std::size_t total = 0;
    for (std::size_t m : masses) {
        if (m == 0)
            throw Error("a segment mass of 0: every segment holds at least one unit");
        total += m;
    }
    BoundaryString s(total > 0 ? total - 1 : 0, 0);
    std::size_t pos = 0;
    for (std::size_t m : masses) {
        const std::size_t end = pos + m - 1;
        if (end < s.size())
            s[end] |= TypeSet{1} << 1;
        pos += m;
    }
    return s;
}

namespace {

constexpr TypeSet bit(int type) { return static_cast<TypeSet>(TypeSet{1} << type); }

std::vector<int> typesOf(TypeSet set)
{
    std::vector<int> out;
    for (int t = 0; t <= kMaxBoundaryType; ++t)
        if (set & bit(t))
            out.push_back(t);
    return out;
}

// The differences at one position that transpositions have not yet claimed.
struct Difference {
    TypeSet both = 0; // symmetric difference
    TypeSet aOnly = 0, bOnly = 0;
    // segeval's __additions_substitutions__: substitutions = (|d| - ||a| - |b||) / 2.
    bool hasSubstitutions() const
    {
        const int d = std::popcount(both), a = std::popcount(aOnly), b = std::popcount(bOnly);
        return d - std::abs(a - b) > 0;
    }
    void discard(int type)
    {
        both &= static_cast<TypeSet>(~bit(type));
        aOnly &= static_cast<TypeSet>(~bit(type));
        bOnly &= static_cast<TypeSet>(~bit(type));
    }
};

// The cheapest pairing of the types one side holds with those the other holds, pairing
// min(|a|, |b|) of them. With the cost |x - y| on a line an order-preserving pairing of the sorted
// lists is optimal, so this dynamic programme finds the minimum segeval finds by trying every
// permutation. Appends the substitutions and the unpaired types as additions.
void pairTypes(TypeSet aOnly, TypeSet bOnly, BoundaryEdits& out)
{
    if (aOnly == 0 || bOnly == 0) { // nothing to pair (one boundary type: always): all additions
        for (int t = 0; t <= kMaxBoundaryType; ++t)
            if ((aOnly | bOnly) & bit(t))
                out.additions.push_back({t, aOnly ? Side::A : Side::B});
        return;
    }
    const std::vector<int> a = typesOf(aOnly), b = typesOf(bOnly);
    const bool aLonger = a.size() >= b.size();
    const std::vector<int>& longer = aLonger ? a : b;
    const std::vector<int>& shorter = aLonger ? b : a;
    const std::size_t n = longer.size(), k = shorter.size();
    constexpr int kInf = std::numeric_limits<int>::max() / 2;
    // cost[i][j]: the shorter list's first j paired within the longer list's first i.
    std::vector<std::vector<int>> cost(n + 1, std::vector<int>(k + 1, kInf));
    for (std::size_t i = 0; i <= n; ++i)
        cost[i][0] = 0;
    for (std::size_t i = 1; i <= n; ++i)
        for (std::size_t j = 1; j <= std::min(i, k); ++j)
            cost[i][j] = std::min(cost[i - 1][j], cost[i - 1][j - 1] + std::abs(longer[i - 1] - shorter[j - 1]));
    std::vector<bool> paired(n, false);
    std::vector<Substitution> subs;
    for (std::size_t i = n, j = k; j > 0; --i) {
        if (cost[i][j] == cost[i - 1][j - 1] + std::abs(longer[i - 1] - shorter[j - 1])) {
            paired[i - 1] = true;
            subs.push_back(aLonger ? Substitution{longer[i - 1], shorter[j - 1]} : Substitution{shorter[j - 1], longer[i - 1]});
            --j;
        }
    }
    std::reverse(subs.begin(), subs.end());
    out.substitutions.insert(out.substitutions.end(), subs.begin(), subs.end());
    for (std::size_t i = 0; i < n; ++i)
        if (!paired[i])
            out.additions.push_back({longer[i], aLonger ? Side::A : Side::B});
}

} // namespace

BoundaryEdits boundaryEditDistance(std::span<const TypeSet> a, std::span<const TypeSet> b, std::size_t nT)
{
    if (a.size() != b.size())
        throw Error("the two segmentations differ in length (" + std::to_string(a.size()) + " and "
                    + std::to_string(b.size()) + " potential boundaries): they must segment the same units");
    if (nT < 2)
        throw Error("the transposition span must be at least 2 (got " + std::to_string(nT) + ")");
    // Only positions where the strings differ can hold an edit; most positions of a long
    // document hold none, so the work is over those alone.
    std::vector<std::size_t> at;
    std::vector<Difference> diff;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) {
            at.push_back(i);
            diff.push_back({static_cast<TypeSet>(a[i] ^ b[i]), static_cast<TypeSet>(a[i] & ~b[i]),
                            static_cast<TypeSet>(b[i] & ~a[i])});
        }

    BoundaryEdits out;
    std::vector<TypeSet> transposed(at.size(), 0); // types a transposition already covers
    for (std::size_t span = 1; span < nT; ++span) {
        for (std::size_t x = 0; x < at.size(); ++x) {
            const std::size_t i = at[x], j = i + span;
            std::size_t y = x + 1;
            while (y < at.size() && at[y] < j)
                ++y;
            if (y == at.size() || at[y] != j)
                continue; // no difference at j: no transposition can end there
            // A type in exactly one string at each position, and in a different string at i than
            // at j: one annotator put it at i, the other at j.
            const TypeSet candidates = static_cast<TypeSet>((a[i] ^ b[i]) & (a[j] ^ b[j]) & (a[i] ^ a[j]) & (b[i] ^ b[j]));
            for (int t = 0; t <= kMaxBoundaryType && candidates; ++t) {
                if (!(candidates & bit(t)))
                    continue;
                if ((transposed[x] | transposed[y]) & bit(t))
                    continue; // would overlap a transposition of this type
                if ((diff[x].both & bit(t)) && (diff[y].both & bit(t)) && diff[x].hasSubstitutions()
                    && diff[y].hasSubstitutions())
                    continue; // two substitutions are cheaper than what the transposition would remove
                out.transpositions.push_back({i, j, t});
                transposed[x] |= bit(t);
                transposed[y] |= bit(t);
                diff[x].discard(t);
                diff[y].discard(t);
            }
        }
    }
    for (const auto& d : diff)
        if (d.both)
            pairTypes(d.aOnly, d.bOnly, out);
    return out;
}

PairStatistics boundaryStatistics(std::span<const TypeSet> a, std::span<const TypeSet> b, std::size_t nT,
                                  EditWeights weights)
{
    PairStatistics s;
    s.edits = boundaryEditDistance(a, b, nT);
    s.positions = a.size();
    TypeSet all = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        all |= a[i] | b[i];
        s.matches += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(a[i] & b[i])));
        s.boundariesA += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(a[i])));
        s.boundariesB += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(b[i])));
    }
    s.types = static_cast<std::size_t>(std::popcount(static_cast<unsigned>(all)));
    double edits = static_cast<double>(s.edits.additions.size());
    if (weights.scaleSubstitutions && !s.edits.substitutions.empty()) {
        const auto types = typesOf(all);
        const double range = types.back() - types.front() + 1;
        double sum = 0;
        for (const auto& sub : s.edits.substitutions)
            sum += std::abs(sub.typeA - sub.typeB);
        edits += sum / range;
    } else {
        edits += static_cast<double>(s.edits.substitutions.size());
    }
    if (weights.scaleTranspositions) {
        double sum = 0;
        for (const auto& t : s.edits.transpositions)
            sum += static_cast<double>(t.end - t.start);
        edits += sum / static_cast<double>(nT);
    } else {
        edits += static_cast<double>(s.edits.transpositions.size());
    }
    s.weightedEdits = edits;
    return s;
}

SimilarityParts boundarySimilarityParts(const PairStatistics& s)
{
    const double denominator = static_cast<double>(s.unweightedEdits() + s.matches);
    return {denominator - s.weightedEdits, denominator};
}

SimilarityParts segmentationSimilarityParts(const PairStatistics& s)
{
    const double denominator = static_cast<double>(s.positions * s.types * s.types);
    return {denominator - s.weightedEdits, denominator};
}

double boundarySimilarity(std::span<const TypeSet> a, std::span<const TypeSet> b, std::size_t nT, EditWeights weights)
{
    return boundarySimilarityParts(boundaryStatistics(a, b, nT, weights)).value();
}

double segmentationSimilarity(std::span<const TypeSet> a, std::span<const TypeSet> b, std::size_t nT,
                              EditWeights weights)
{
    return segmentationSimilarityParts(boundaryStatistics(a, b, nT, weights)).value();
}

} // namespace blocklens::analysis
