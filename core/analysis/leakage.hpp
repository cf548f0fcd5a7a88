#pragma once
// What block attention drops, measured on a full-attention run: attention mass per block pair,
// the "leakage" of every boundary, and the comparison of two segmentations of the same tokens.
//
// Input: the attention capture of ONE run in `full` mode (engine::AttentionMass) over "bins":
// the token ranges the run's blocks were (binStarts, ascending, first 0). Under full attention the
// bins change nothing in the computation; they only decide how the captured mass is summed.
//
// Re-binning is exact. A segmentation whose block starts are all bin starts ("coarser than the
// bins") gets its numbers exactly from the capture:
//   - key side: the mass a query puts on a block is the sum of the mass on that block's bins;
//   - query side: token rows are averaged over the block's tokens; query-bin rows (byBlock
//     capture, each the mean over its bin's tokens) are averaged weighted by bin length, which is
//     the same mean over the block's tokens.
// So the two routes to compare segmentations A and B are both exact: capture once with the bins
// = commonRefinement(A, B) (byBlock is enough: [layers, heads, bins, bins] floats), or capture
// with one bin per token for small documents (any segmentation then works). A segmentation with
// a block start that is not a bin start is refused with an Error naming the token index.
//
// Definitions, for one layer l and head h (M = blockMass, a row-stochastic lower-triangular
// [blocks, blocks] matrix):
//   M[i][j]        mean over the query tokens t of block i of sum over key tokens s in block j of
//                  the softmax weight a_lh(t, s) under full attention.
//   crossMass(k)   sum_{j<k} M[k][j], for the boundary k (1..blocks-1) that starts block k: the
//                  share of the full-attention mass of block k's queries that lies before the cut.
//   dropped(k)     crossMass(k) when block k is encoded alone under block attention (every block
//                  but the last, or every block when the last is not the global query block); 0
//                  for the last block when it is global: it still attends to everything.
//   adjacent(k)    M[k][k-1]: the part of crossMass(k) on the block just before the cut, i.e. what
//                  deleting this one boundary (merging blocks k-1 and k) gives back to block k's
//                  queries. A cut with high adjacent mass is one worth moving or removing.
//   total          mean over every query token of the non-global blocks of the mass it loses:
//                  sum_k tokens(k) * dropped(k) / sum_k tokens(k) (block 0 loses nothing but counts).
// The selection (one layer or the mean over captured layers; one head or the mean over heads)
// averages M over the chosen (layer, head) pairs before anything else; the report also carries
// dropped(k) for every captured (layer, head) so views can show the per-layer/per-head picture.
// Note: models put much of their mass on the first token (the "attention sink"), which sits in
// block 0; its share is part of crossMass like any other mass.
#include "engine/runner.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::analysis {

// Which attention maps to average: a model layer that was captured (nullopt: the mean over all
// captured layers) and a query head (nullopt: the mean over heads).
struct HeadSelection {
    std::optional<std::int64_t> layer; // the model's layer number, e.g. 3
    std::optional<std::int64_t> head;
};

// A full-mode capture and the bins it was captured over. Validated on construction.
class CapturedAttention {
public:
    CapturedAttention() = default;
    // Throws Error when the shapes disagree (values size, rows vs tokens or bins, bins vs blocks),
    // the bins are not ascending from 0 and below `tokens`, or a row does not sum to ~1.
    CapturedAttention(engine::AttentionMass mass, std::vector<std::int64_t> binStarts, std::int64_t tokens);

    const engine::AttentionMass& mass() const { return mass_; }
    const std::vector<std::int64_t>& binStarts() const { return binStarts_; }
    std::int64_t tokens() const { return tokens_; }
    std::int64_t bins() const { return static_cast<std::int64_t>(binStarts_.size()); }
    std::int64_t binLength(std::int64_t bin) const;
    bool tokenRows() const { return !mass_.byBlock; }
    bool empty() const { return binStarts_.empty(); }
    // Index into mass().layers of a model layer; Error when it was not captured.
    std::size_t layerIndex(std::int64_t layer) const;

private:
    engine::AttentionMass mass_;
    std::vector<std::int64_t> binStarts_;
    std::int64_t tokens_ = 0;
};

// Sorted union of two segmentations' block starts: the bins to capture with to compare them.
std::vector<std::int64_t> commonRefinement(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b);

// [blocks, blocks] row-major, M[i][j] as defined above, averaged over the selection.
struct BlockMatrix {
    std::int64_t blocks = 0;
    std::vector<double> values;
    double at(std::int64_t query, std::int64_t key) const { return values[static_cast<std::size_t>(query * blocks + key)]; }
};

// The block starts (token index) of a segmentation, checked to be coarser than the capture's bins.
// Throws Error naming the first start that is not a bin start.
BlockMatrix blockMass(const CapturedAttention& capture, const std::vector<std::int64_t>& blockStarts,
                      const HeadSelection& selection = {});

// [tokens, blocks]: the mass each query token puts on each block (token-row captures only; Error
// for a byBlock capture). Row t sums to 1 over the blocks up to t's own.
struct TokenBlockMatrix {
    std::int64_t tokens = 0, blocks = 0;
    std::vector<double> values;
    double at(std::int64_t token, std::int64_t block) const { return values[static_cast<std::size_t>(token * blocks + block)]; }
};
TokenBlockMatrix tokenBlockMass(const CapturedAttention& capture, const std::vector<std::int64_t>& blockStarts,
                                const HeadSelection& selection = {});

struct BoundaryLeakage {
    std::int64_t index = 0;        // k: the boundary that starts block k (1..blocks-1)
    std::int64_t token = 0;        // its token index (= blockStarts[k])
    std::int64_t queryTokens = 0;  // tokens of block k
    double crossMass = 0;
    double adjacent = 0;
    double dropped = 0;
    bool globalQuery = false;      // block k is the last, global block: nothing is dropped
};

struct LeakageReport {
    std::vector<std::int64_t> blockStarts;
    HeadSelection selection;
    bool lastBlockGlobal = true;
    std::vector<BoundaryLeakage> boundaries; // blocks-1 entries, in order
    double total = 0;                        // token-weighted, see above
    double maxDropped = 0;
    std::int64_t worstBoundary = -1;         // index into boundaries of the largest dropped, -1 if none
    // dropped(k) for every captured layer and head: [captured layers, heads, blocks-1], row-major.
    std::vector<std::int64_t> layers;
    std::int64_t heads = 0;
    std::vector<double> droppedByLayerHead;
    double droppedAt(std::size_t layerIndex, std::int64_t head, std::size_t boundary) const
    {
        return droppedByLayerHead[(layerIndex * static_cast<std::size_t>(heads) + static_cast<std::size_t>(head)) *
                                      boundaries.size() + boundary];
    }
    // Mean over heads of dropped(k) for one captured layer: the per-layer variant.
    std::vector<double> droppedForLayer(std::size_t layerIndex) const;
};

LeakageReport leakage(const CapturedAttention& capture, const std::vector<std::int64_t>& blockStarts,
                      const HeadSelection& selection = {}, bool lastBlockGlobal = true);

// Two segmentations of the same tokens side by side, one row per boundary position in either.
struct LeakageComparisonRow {
    std::int64_t token = 0;
    std::optional<BoundaryLeakage> a, b; // the boundary's numbers in each segmentation that cuts there
};
struct LeakageComparison {
    LeakageReport a, b;
    std::vector<LeakageComparisonRow> rows; // by token, ascending
    std::int64_t onlyA = 0, onlyB = 0, shared = 0;
};
LeakageComparison compareLeakage(const CapturedAttention& capture, const std::vector<std::int64_t>& a,
                                 const std::vector<std::int64_t>& b, const HeadSelection& selection = {},
                                 bool lastBlockGlobal = true);

} // namespace blocklens::analysis
