#pragma once
// Decoders turn scored candidates into cuts under a granularity control. All of them:
//  - return ascending cut offsets (code points) strictly inside (0, length), each a cut point of
//    the token grid, so no block cuts a token (and, offsets being code points, no UTF-8 sequence);
//  - keep the hard maximum block size (SizeLimits::maxTokens) whatever else they are asked:
//    enforceMaxSize() runs last and splits any larger block, at its best candidates first and,
//    where a stretch has none, at evenly spaced token starts;
//  - keep the minimum block size (SizeLimits::minTokens) the same way: no block is smaller than
//    minTokens unless the maximum leaves no other way (enforceMinSize() merges the rest; the
//    fixed-size remainder and the recursive packer's small pieces included).
#include "segment/candidates.hpp"
#include "segment/token_grid.hpp"

#include <cstddef>
#include <span>
#include <vector>

namespace blocklens::segment {

// Candidates snapped to the token grid, one per distinct offset (the best score wins).
struct ScoredCuts {
    std::vector<std::size_t> offsets; // ascending, unique, cut points in (0, length)
    std::vector<double> scores;
    std::vector<std::size_t> tokens;  // grid.tokensBefore(offset), for O(1) block sizes
};
ScoredCuts snapToGrid(std::span<const Candidate> candidates, std::span<const double> scores, const TokenGrid& grid);

struct SizeLimits {
    std::size_t minTokens = 1;
    std::size_t maxTokens = 0; // 0: no maximum
    std::size_t effectiveMax(std::size_t total) const { return maxTokens == 0 ? total : maxTokens; }
};

// (a) The paper's segmenter: cut at every candidate scoring at least `threshold` (left to right,
// skipping cuts that would leave a block under the minimum). Then, up to `depth` times, a block
// still larger than `splitAbove` tokens is split again at its best candidate (ties: nearest the
// middle), whatever its score; depth 0 turns this refinement off.
struct ThresholdParams {
    double threshold = 0.5;
    int depth = 0;
    std::size_t splitAbove = 0; // 0: never refine
};
std::vector<std::size_t> decodeThreshold(const ScoredCuts& cuts, const TokenGrid& grid, const ThresholdParams& p,
                                         const SizeLimits& limits);

// (b) Dynamic program over the candidates, maximising
//     sum of the scores of the chosen cuts  -  sizeWeight * sum over blocks ((size - target) / target)^2
// subject to minTokens <= size <= maxTokens for every block. Give either targetTokens (any number
// of blocks) or blocks (exactly that many; target = total / blocks). With a target, scores are
// first rescaled to [-1, 0] (best candidate 0): sizes then decide how many blocks there are and
// scores where they go; a cut at the weakest candidate costs as much as a block twice the target.
//
// Complexity. Nodes are the m candidates plus both ends; a block (i, j) is allowed only if its
// size lies in [min, max], and since sizes grow with j the allowed predecessors of j form one
// contiguous range found with two pointers. With R = the largest number of candidates inside one
// allowed size range, one pass is O(m * R) time and O(m) memory: linear in the number of
// candidates times the allowed block-size range. The exact count uses a Lagrange multiplier per
// cut (count is monotone in it) found by bisection, so O(m * R * log(1/eps)) (at most 64 passes),
// then a greedy repair by single insertions/removals in the rare case where ties make the count
// jump past the one asked for. Where stretches without candidates exceed max/2, evenly spaced
// fallback cuts (scored below every candidate) are added first so the program is always feasible.
struct DpParams {
    std::size_t targetTokens = 0;
    std::size_t blocks = 0;   // > 0: exactly this many blocks (if min/max allow)
    double sizeWeight = 1.0;
};
std::vector<std::size_t> decodeDp(const ScoredCuts& cuts, const TokenGrid& grid, const DpParams& p,
                                  const SizeLimits& limits);

// Fixed-size: cuts at token starts every targetTokens tokens, or, with blocks > 0, at the token
// starts that split the text into that many blocks of (nearly) equal token counts.
std::vector<std::size_t> decodeEven(const TokenGrid& grid, std::size_t targetTokens, std::size_t blocks,
                                    const SizeLimits& limits);

// Recursive separators (as LangChain's RecursiveCharacterTextSplitter, measured in tokens):
// split at the strongest separator level present, merge consecutive pieces greedily while a
// chunk stays within chunkTokens, and split pieces that are still too large at the next level;
// below the weakest level, fixed-size cuts. Levels are the distinct candidate scores, highest
// first. No chunk ever exceeds chunkTokens (nor the maximum).
std::vector<std::size_t> decodeRecursive(const ScoredCuts& cuts, const TokenGrid& grid, std::size_t chunkTokens,
                                         const SizeLimits& limits);

// Merges every block smaller than limits.minTokens into the block after it, else into the one
// before, unless the merged block would exceed the maximum. Afterwards a block under the minimum
// has no neighbour it could join within the maximum. Never makes a block larger than the maximum
// (or than the larger of the two it joins). Linear in the number of cuts. Input ascending.
std::vector<std::size_t> enforceMinSize(const std::vector<std::size_t>& cuts, const TokenGrid& grid, const SizeLimits& limits);

// What every decoder ends with: enforceMaxSize, then enforceMinSize.
std::vector<std::size_t> enforceSizeLimits(std::vector<std::size_t> cuts, const ScoredCuts& candidates, const TokenGrid& grid,
                                           const SizeLimits& limits);

// Splits every block larger than limits.maxTokens (see above). Input ascending cut points.
std::vector<std::size_t> enforceMaxSize(std::vector<std::size_t> cuts, const ScoredCuts& candidates,
                                        const TokenGrid& grid, const SizeLimits& limits);

} // namespace blocklens::segment
