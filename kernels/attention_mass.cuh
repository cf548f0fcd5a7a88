#pragma once
// Attention-mass probe: for one layer, the softmax attention mass that each query block puts on
// each key block under full causal attention, without materializing the n x n score matrix.
// Plain C++ header (no device code).
//
// Definitions (as kernels/reference/attention.hpp, attentionMassRef):
//   mass(h, i, b)   = sum over keys j <= i of block b of softmax_j(q_i . k_j * scale)
//                     (0 for blocks that start after i; each token row sums to 1)
//   token_mass      [out_heads, n, n_blocks]         = mass(h, i, b)
//   block_mass      [out_heads, n_blocks, n_blocks]  row qb, column kb = the MEAN over the query
//                     tokens i of block qb of mass(h, i, kb) (each row sums to 1; upper triangle 0)
//
// How (one pass over the keys, tensor cores): kernel 1 walks each 128-query tile over its causal
// key range in 64-key tiles (S = Q K^T with mma.sync bf16 m16n8k16, fp32 accumulators) and keeps,
// per query row, an online (max, sum of exp) of the current key block; when a key block ends it
// stores that block's log-sum-exp into the workspace [heads, n_blocks, n]. Kernel 2 turns each
// row's block log-sum-exps into masses (they sum to 1) and writes token_mass; kernel 3 averages the
// rows of each query block into block_mass. Work: one Q K^T over the causal half (half the matrix
// FLOPs of a causal attention forward), plus one exp per score.
#include "kernels_common.hpp"

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace blocklens::kernels {

struct AttentionMassParams {
    // q: element (head h, token t, dim i) at q + h * q_head_stride + t * q_token_stride + i;
    // k: element (kv head g, token t, dim i) at k + g * k_head_stride + t * k_token_stride + i.
    // bf16, last dimension contiguous. GQA: query head h reads KV head h / (n_heads / n_kv_heads).
    const void* q = nullptr;           // device bf16 [n_heads, n_tokens, head_dim] (strided)
    const void* k = nullptr;           // device bf16 [n_kv_heads, n_tokens, head_dim] (strided)
    int n_tokens = 0;
    int n_heads = 0;
    int n_kv_heads = 0;
    int head_dim = 128;                // fast path: 128; simple path: even, <= 256
    std::int64_t q_head_stride = 0;    // elements between heads of q
    std::int64_t q_token_stride = 0;   // elements between tokens of q
    std::int64_t k_head_stride = 0;    // elements between KV heads of k
    std::int64_t k_token_stride = 0;   // elements between tokens of k
    float softmax_scale = 0.f;         // <= 0: 1/sqrt(head_dim)

    const std::int32_t* block_starts = nullptr; // HOST [n_blocks + 1]: 0 = s_0 < ... < s_nb = n_tokens
    int n_blocks = 0;                           // 1 .. kMaxBlocks

    // Optional subset of query heads: HOST [n_out_heads] head indices; null = all heads in order
    // (then n_out_heads is ignored). Output head o is query head head_ids[o].
    const std::int32_t* head_ids = nullptr;
    int n_out_heads = 0;

    float* block_mass = nullptr;   // device fp32 [out_heads, n_blocks, n_blocks] contiguous, or null
    float* token_mass = nullptr;   // device fp32 [out_heads, n_tokens, n_blocks] contiguous, or null

    // Device scratch, fp32 [heads_per_pass, n_blocks, n_tokens]. The launcher processes as many
    // heads per pass as fit (at least one must: see attention_mass_workspace_bytes).
    void* workspace = nullptr;
    std::size_t workspace_bytes = 0;

    Impl impl = Impl::automatic;   // fast: tensor cores (head_dim 128, 16-byte aligned rows)
};

// Workspace bytes needed to process `heads_per_pass` heads in one pass (0 = all output heads).
std::size_t attention_mass_workspace_bytes(const AttentionMassParams& params, int heads_per_pass = 0);

// Enqueues the probe on `stream` (several launches per pass). Throws KernelError on invalid
// parameters (also when the workspace holds less than one head) or launch errors.
void attention_mass_cuda(const AttentionMassParams& params, cudaStream_t stream);

} // namespace blocklens::kernels
