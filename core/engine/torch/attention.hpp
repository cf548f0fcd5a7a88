#pragma once
// Scaled dot-product attention over keys held in contiguous sequence slots, with the causal
// (and optional sliding-window) rule on sequence indices:
//
//   query i (slot qStart + i) may attend to key j (slot kStart + j) iff
//       kStart + j <= qStart + i   and   (no window or (qStart + i) - (kStart + j) < window)
//
// Grouped-query attention is computed without repeating K/V: the heads that share a KV head are
// stacked as extra query rows (query head h uses KV head h / (heads / kv_heads), as HF's repeat_kv).
// Softmax in fp32, probabilities cast back to the compute dtype, as HF's eager attention does.
// With PyTorch >= 2.1 the plain square causal case goes to at::scaled_dot_product_attention.
#include "engine/torch/common.hpp"
#include "engine/torch/range_softmax.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace blocklens::engine::detail {

// What one forward call's attention keeps for its other layers: the masks of its query chunks
// (the same for every layer, so made once) and the CPU attention's workspace (cpu_attention.hpp:
// one buffer per call, not one per layer, so that the host buffer pool sees the same sizes pass
// after pass).
struct AttentionCache {
    struct Region {
        std::int64_t offset = 0; // first masked column, relative to the chunk's first key
        at::Tensor blocked;      // [chunk rows, width] bool: true = may not attend
    };
    std::vector<std::vector<Region>> chunks; // by chunk index
    at::Tensor scratch;                      // fp32 [values], grown as a layer needs
};

// The columns of a chunk's keys (slots k0 .. k0 + columns - 1) that the query at `slot` may see,
// by the rule above: for the CPU's range softmax (range_softmax.hpp).
inline RowRange keysSeen(std::int64_t slot, std::int64_t k0, std::int64_t columns, const std::optional<std::int64_t>& window)
{
    const std::int64_t end = std::clamp<std::int64_t>(slot + 1 - k0, 0, columns);
    return {window ? std::clamp<std::int64_t>(slot - *window + 1 - k0, 0, end) : 0, end};
}

struct AttentionArgs {
    std::int64_t qStart = 0;               // slot of the first query
    std::int64_t kStart = 0;               // slot of the first key
    std::optional<std::int64_t> window;    // sliding window, in tokens
    double scale = 1.0;                    // 1/sqrt(head_dim)
    AttentionCache* cache = nullptr;       // optional: reuse masks and workspace across layers
};

// Where attention mass goes, by block, accumulated chunk by chunk (the full [n, m] matrix is never
// held): mass[h, i, b] = sum of query i's (head h) attention probabilities over the keys of block b.
struct MassCapture {
    at::Tensor blockOfSlot; // [slots] int64: block index of every key slot (from slot 0), on the device
    std::int64_t blocks = 0;
    // Host copy of the block starts (slot of each block's first token, ascending from 0). With it,
    // the whole-sequence causal case (full mode) on CUDA bf16 goes to the attention-mass kernel.
    std::vector<std::int64_t> blockStarts;
    // Rows by query block: each chunk's rows are summed into their query's block as soon as they
    // are known (block of query slot qStart + i, from blockOfSlot), so what is held is
    // O(heads x blocks^2) plus one chunk, never O(heads x n x blocks). The caller divides by the
    // block lengths.
    bool byQueryBlock = false;
    at::Tensor mass;        // out: [heads, n, blocks] fp32 (byQueryBlock: [heads, blocks, blocks] sums), set by attend()
};

// q [heads, n, head_dim], k/v [kv_heads, m, head_dim] -> [heads, n, head_dim]. Routes:
// - CUDA, bf16/fp16, keys ending with the queries (the engine's case), PyTorch >= 2.5: square
//   causal without a window -> SDPA with enable_gqa (cuDNN on Hopper); otherwise (more keys than
//   queries: the last block, decoding; or a sliding window) -> flash attention, whose causal mask
//   is bottom-right aligned. Neither repeats K/V per query head.
// - other square causal cases with PyTorch >= 2.1 -> SDPA (K/V expanded per head).
// - everything else, and `capture` -> the chunked manual path (scores in fp32 softmax). With
//   `capture` of a whole sequence on CUDA bf16 (head_dim 128), the output comes from the fused
//   route and the mass from the kernels' attention-mass probe instead.
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionArgs& args,
                  MassCapture* capture = nullptr);

// Block-diagonal attention over one call's own tokens (the batched form of blocks encoded alone):
// q [heads, n, d], k/v [kv_heads, n, d] (keys from the queries' first slot, args.qStart ==
// args.kStart); starts [blocks] ascending from 0, relative to the first token. Block b attends
// causally to itself; with lastBlockGlobal the last block attends causally to every key. Routes:
// CUDA bf16, head_dim 128, no window shorter than n -> the kernels' block prefill, all blocks in one
// launch; otherwise attend() per block (SDPA on square blocks).
at::Tensor attendBlocks(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<std::int64_t>& starts,
                        bool lastBlockGlobal, const AttentionArgs& args);

// One block of a call for attendBlockList: its queries are [start, the next block's start or n),
// all relative to the call's first token; they attend causally to keys [keyStart, their own
// slot] and, with sinkLength > 0, also to the keys [sinkStart, sinkStart + sinkLength), which lie
// before keyStart (block sink tokens: the block sees the document's first tokens besides itself).
struct BlockAttention {
    std::int64_t start = 0;
    std::int64_t keyStart = 0; // <= start
    std::int64_t sinkStart = 0;
    std::int64_t sinkLength = 0; // 0: no sink
};

// Attention of a list of blocks over one call's own tokens (q [heads, n, d], k/v [kv_heads, n, d],
// args.qStart == args.kStart), one attend() per block. Only differentiable operations: the
// training forward (Transformer::forwardTrainable) runs it with autograd. attendBlocks' plain route
// is this list with keyStart = start (and 0 for a global last block).
at::Tensor attendBlockList(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<BlockAttention>& blocks,
                           const AttentionArgs& args);

// The same by the plain formula (K/V repeated, full score matrix): the reference for tests.
at::Tensor attendReference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionArgs& args);

} // namespace blocklens::engine::detail
