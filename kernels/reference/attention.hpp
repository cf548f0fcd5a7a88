#pragma once
// CPU references (double precision) for the attention kernels: the block-attention prefill
// (kernels/block_prefill.cuh) and the attention-mass probe (kernels/attention_mass.cuh).
//
// Layouts, all contiguous, row-major:
//   q, o [heads, n, head_dim]      k, v [kv_heads, n, head_dim]
// Grouped-query attention: query head h reads KV head h / (heads / kv_heads), as HF's repeat_kv.
// Blocks: blockStarts [n_blocks + 1] with 0 = s_0 < s_1 < ... < s_{n_blocks} = n; block b holds
// the tokens [s_b, s_{b+1}).
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace blocklens::kernels::ref {

struct AttentionShape {
    int nTokens = 0;
    int nHeads = 0;
    int nKvHeads = 0;
    int headDim = 0;
    double scale = 0; // softmax scale; <= 0 means 1/sqrt(head_dim)
};

// Throws std::invalid_argument unless the starts are strictly increasing from 0 to n.
void checkBlockStarts(std::span<const std::int32_t> blockStarts, int nTokens);

// The block of token t (binary search).
int blockOf(std::span<const std::int32_t> blockStarts, int t);

// The block-attention rule: query i attends to key j iff j <= i and (i is in the last block, or j
// is in the same block as i).
bool blockMaskAllows(std::span<const std::int32_t> blockStarts, int i, int j);

// Attention with an arbitrary mask allows(i, j), by the plain formula (full score rows, softmax,
// weighted sum). Every query must be allowed at least one key.
std::vector<double> maskedAttentionRef(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                       const AttentionShape& shape, const std::function<bool(int, int)>& allows);

// Block-attention prefill: each block attends causally to itself, the last block causally to the
// whole sequence (with lastBlockGlobal = false, to itself only, like the others). Computed block
// by block (only the allowed key range of each row is touched).
std::vector<double> blockPrefillRef(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                    const AttentionShape& shape, std::span<const std::int32_t> blockStarts,
                                    bool lastBlockGlobal = true);

// Attention mass under full causal attention. For head h and query token i, mass(h, i, b) is the sum
// of softmax_j(q_i . k_j * scale) over the keys j <= i of block b (0 for blocks after i's block);
// each token row sums to 1.
//   tokenMass [heads, n, n_blocks]
//   blockMass [heads, n_blocks, n_blocks]: row qb, column kb = the MEAN over the query tokens of
//             block qb of mass(h, i, kb); each row sums to 1; zero above the diagonal.
struct AttentionMass {
    std::vector<double> tokenMass;
    std::vector<double> blockMass;
};
AttentionMass attentionMassRef(std::span<const double> q, std::span<const double> k, const AttentionShape& shape,
                               std::span<const std::int32_t> blockStarts);

} // namespace blocklens::kernels::ref
