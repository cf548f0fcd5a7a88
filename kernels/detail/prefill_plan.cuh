#pragma once
// The work list of the block-attention prefill, shared by its two tensor-core kernels
// (block_prefill.cu: mma.sync, any sm_80+; block_prefill_sm90.cu: wgmma + TMA, sm_90a):
//   items [0, G):      the last block's query tiles x key chunks (split-KV); a tile whose keys fit
//                      one chunk writes its output directly, others write fp32 partials (O / l,
//                      log2-sum-exp) merged by combineKernel;
//   items [G, G + L):  the other blocks' query tiles (keys: their own block), the later tiles of a
//                      block (more keys) first.
// Work index = item * heads + head, so all heads of the long items come first and the query heads
// that share a KV head are neighbours (their K/V tiles meet in L2).
#include "detail/launch.hpp"

#include <cuda_bf16.h>

#include <cstddef>
#include <cstdint>

namespace blocklens::kernels::detail {

using bf16 = __nv_bfloat16;

struct PrefillArgs {
    const bf16* q;
    const bf16* k;
    const bf16* v;
    bf16* o;
    int n_tokens;
    int n_heads;
    int group;                               // query heads per KV head
    int head_dim;                            // simple path only (fast: 128)
    std::int64_t q_head_stride, q_token_stride; // elements
    std::int64_t k_head_stride, k_token_stride;
    std::int64_t v_head_stride, v_token_stride;
    std::int64_t o_head_stride, o_token_stride;
    float scale_log2;                        // softmax_scale * log2(e)
    int br;                                  // query rows per tile
    // the last block's split-KV plan
    int last_start;                          // first token of the last block
    int n_gtiles;                            // query tiles of the last block
    int n_chunks;                            // chunk slots per tile (NC); a tile uses min(NC, q0 / chunk + 1)
    int chunk;                               // keys per chunk (multiple of 64)
    int n_gitems;                            // n_gtiles * n_chunks
    int n_litems;                            // tiles of the other blocks
    float* part_o;                           // [heads][n_gitems][br rows][128] fp32 (O / l)
    float* part_lse;                         // [heads][n_gitems][br rows] fp32 (log2-sum-exp)
};

// First local tile of each non-last block (tiles of block b: ceil(len_b / br)).
struct LocalTiles {
    std::int32_t prefix[kMaxBlocks]; // [n_blocks - 1 + 1]
};

// The same two tables for launches of at most kSmallBlocks blocks: about 1 KB of kernel parameters
// instead of 16 KB. Parameters are copied by the driver at every launch (host work inside a
// per-call-synchronised launch), so the Hopper kernel takes these whenever the blocks fit.
inline constexpr int kSmallBlocks = 127;
struct SmallBlockStarts {
    int n_blocks;
    std::int32_t s[kSmallBlocks + 1];
};
struct SmallLocalTiles {
    std::int32_t prefix[kSmallBlocks];
};

__host__ __device__ __forceinline__ int chunksOfTile(const PrefillArgs& a, int q0)
{
    const int used = q0 / a.chunk + 1;
    return used < a.n_chunks ? used : a.n_chunks;
}

// One work item: query rows [q0, q1) of `head` against keys [k0, k1).
struct PrefillItem {
    int head, q0, q1, k0, k1;
    int gitem;     // the last block's item index (for partials), -1 for other blocks
    bool partial;  // writes partials for combineKernel instead of the output
    bool unused;   // a chunk slot the tile does not need (no work)
};

// Starts / Tiles: BlockStarts and LocalTiles, or their small forms.
template <class Starts, class Tiles>
__device__ __forceinline__ PrefillItem decodeItem(const PrefillArgs& a, const Starts& bs, const Tiles& lt, int work)
{
    PrefillItem w{};
    w.head = work % a.n_heads;
    const int item = work / a.n_heads;
    const int n = a.n_tokens;
    w.gitem = -1;
    if (item < a.n_gitems) {
        const int qt = item / a.n_chunks, c = item % a.n_chunks;
        w.q0 = a.last_start + qt * a.br;
        w.q1 = min(w.q0 + a.br, n);
        const int nc = chunksOfTile(a, w.q0);
        w.unused = c >= nc;
        w.k0 = c * a.chunk;
        w.k1 = c == nc - 1 ? w.q1 : (c + 1) * a.chunk;
        w.partial = nc > 1;
        w.gitem = item;
        return w;
    }
    const int li = item - a.n_gitems;
    int lo = 0, hi = bs.n_blocks - 2; // the largest local block b with prefix[b] <= li
    while (lo < hi) {
        const int mid = (lo + hi + 1) >> 1;
        if (lt.prefix[mid] <= li)
            lo = mid;
        else
            hi = mid - 1;
    }
    const int b = lo;
    const int tiles = lt.prefix[b + 1] - lt.prefix[b];
    const int t = tiles - 1 - (li - lt.prefix[b]);
    w.q0 = bs.s[b] + t * a.br;
    w.q1 = min(w.q0 + a.br, bs.s[b + 1]);
    w.k0 = bs.s[b];
    w.k1 = w.q1;
    return w;
}

} // namespace blocklens::kernels::detail
