#pragma once
// Block-attention prefill: attention over a sequence split into blocks where each block attends
// causally to itself only and the last block attends causally to the whole sequence, with GQA, in
// bf16. Plain C++ header (no device code). Reference: kernels/reference/attention.hpp,
// blockPrefillRef.
//
// How: one launch over a list of work items, longest first. Items of the non-last blocks are
// query tiles over their own block's keys; the last block's tiles may be split along the keys
// into chunks (flash-decoding style) that write fp32 partials and log-sum-exps into the workspace,
// merged by a second small kernel. Two tensor-core kernels run that list (head_dim 128):
//   Impl::hopper (the default on compute capability 9.0, block_prefill_sm90.cu): wgmma + TMA, one
//     persistent warp-specialised CTA per SM, work handed out by an atomic counter in the
//     workspace; 128-row tiles, 128-key stages.
//   Impl::fast (the default elsewhere): FlashAttention-2 style, mma.sync m16n8k16, one CTA per
//     item, K/V tiles of 64 keys double-buffered by cp.async; 64- or 128-row tiles.
// Impl::simple is the SIMT correctness baseline (any even head_dim up to 256).
#include "kernels_common.hpp"

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace blocklens::kernels {

struct BlockPrefillParams {
    // q, o: element (head h, token t, dim i) at q + h * q_head_stride + t * q_token_stride + i;
    // k, v: element (kv head g, token t, dim i) at k + g * k_head_stride + t * k_token_stride + i.
    // All bf16, last dimension contiguous. GQA: query head h reads KV head h / (n_heads / n_kv_heads).
    const void* q = nullptr;           // device bf16 [n_heads, n_tokens, head_dim] (strided)
    const void* k = nullptr;           // device bf16 [n_kv_heads, n_tokens, head_dim] (strided)
    const void* v = nullptr;           // device bf16 [n_kv_heads, n_tokens, head_dim] (strided)
    void* o = nullptr;                 // device bf16 [n_heads, n_tokens, head_dim] (strided), every element written
    int n_tokens = 0;
    int n_heads = 0;
    int n_kv_heads = 0;
    int head_dim = 128;                // fast path: 128; simple path: even, <= 256
    std::int64_t q_head_stride = 0;    // elements between heads of q
    std::int64_t q_token_stride = 0;   // elements between tokens of q
    std::int64_t k_head_stride = 0;    // elements between KV heads of k
    std::int64_t k_token_stride = 0;   // elements between tokens of k
    std::int64_t v_head_stride = 0;    // elements between KV heads of v
    std::int64_t v_token_stride = 0;   // elements between tokens of v
    std::int64_t o_head_stride = 0;    // elements between heads of o
    std::int64_t o_token_stride = 0;   // elements between tokens of o
    float softmax_scale = 0.f;         // <= 0: 1/sqrt(head_dim)

    const std::int32_t* block_starts = nullptr; // HOST [n_blocks + 1]: 0 = s_0 < ... < s_nb = n_tokens
    int n_blocks = 0;                           // 1 .. kMaxBlocks; one block = plain causal attention
    // false: the last block too attends causally to itself only, so every block is encoded alone
    // (the engine's batch of block-cache misses); then n_blocks is at most kMaxBlocks - 1.
    bool last_block_global = true;

    // Device scratch (block_prefill_workspace_bytes): the Hopper kernel's work counter, then the
    // last block's split-key partials (only when its tiles are long compared with the rest of the
    // launch). With too little (or none), the Hopper kernel hands out work in a static order and
    // the last block is split into fewer chunks (or none): always correct, at worst slower.
    void* workspace = nullptr;
    std::size_t workspace_bytes = 0;
    int global_chunk = 0;              // keys per chunk of the last block (multiple of 64); 0 = automatic
    int tile_rows = 0;                 // fast path: query rows per CTA, 64 (4 warps) or 128 (8 warps); 0 = 64
                                       // (automatic with 64 or 128 picks the mma.sync kernel)

    Impl impl = Impl::automatic;       // hopper / fast: tensor cores (head_dim 128, 16-byte aligned rows)
};

// Workspace bytes the automatic chunking wants (the launcher uses less when given less).
std::size_t block_prefill_workspace_bytes(const BlockPrefillParams& params);

// Floating-point operations of the work the block mask keeps (4 * head_dim per allowed
// query-key pair and head: Q K^T and P V), the figure TFLOP/s are counted from.
double block_prefill_flops(const BlockPrefillParams& params);

// Enqueues the prefill on `stream`. Throws KernelError on invalid parameters or launch errors.
void block_prefill_cuda(const BlockPrefillParams& params, cudaStream_t stream);

} // namespace blocklens::kernels
