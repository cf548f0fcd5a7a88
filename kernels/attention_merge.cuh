#pragma once
// Merging partial attention results (split-KV, "flash-decoding"): attention of one query row over
// a key range split into parts P_1..P_m, each part computed apart with its log-sum-exp
// L_p = log(sum over the part's keys of exp(score)), equals
//     out = sum_p exp(L_p - L) * out_p,   L = log(sum_p exp(L_p)).
// The engine's question pass splits a long cached context into chunks so that many thread blocks
// share the reading of its K/V (engine/torch/attention_split.cpp), then merges here in one launch
// per layer. Partials are bf16/fp16 (flash attention's outputs), LSEs fp32; the sum is fp32,
// rounded once. A part whose LSE is not finite (flash reports +inf for a row that saw no key) has
// weight 0; a row with no finite LSE at all gets zeros. Plain C++ header.
#include "kernels_common.hpp"

#include <cstdint>

#include <cuda_runtime_api.h>

namespace blocklens::kernels {

// One tensor of partial results: `parts` parts of the query rows and heads, stored as rows r and
// heads k. Element (part p, stored row r, stored head k, column c) of out is at out +
// p * part_stride + r * row_stride + k * head_stride + c (elements of the 16-bit dtype); its LSE at
// lse + p * lse_part_stride + k * lse_head_stride + r * lse_row_stride (floats).
// fold: query heads stored as rows of their KV head (grouped-query attention computed with each
// KV head's `fold` query heads stacked as rows, so the K/V is read once for all of them): result
// row i, head h is stored at row (h % fold) * rows + i, head h / fold. 1: stored as they are.
struct AttentionPartials {
    const void* out = nullptr;
    const float* lse = nullptr;
    int parts = 0;
    int fold = 1;
    std::int64_t part_stride = 0;
    std::int64_t row_stride = 0;
    std::int64_t head_stride = 0;
    std::int64_t lse_part_stride = 0;
    std::int64_t lse_head_stride = 0;
    std::int64_t lse_row_stride = 0;
};

inline constexpr int kMaxPartialGroups = 2;

struct AttentionMergeParams {
    // The partials to merge: up to kMaxPartialGroups tensors (e.g. the context's chunks from one
    // launch and the question's own keys from another); every part counts once.
    AttentionPartials groups[kMaxPartialGroups];
    int n_groups = 0;
    DType dtype = DType::bf16;
    int rows = 0;
    int heads = 0;
    int head_dim = 0;              // a multiple of 8, at most 256
    // Row i, head h, column c of the result is at out + i * out_row_stride + h * out_head_stride + c.
    void* out = nullptr;
    std::int64_t out_row_stride = 0;
    std::int64_t out_head_stride = 0;
};

// Enqueues the merge on `stream` (one launch, no host synchronisation). Every pointer and stride
// (but the LSEs') must allow 16-byte accesses. Throws KernelError on invalid parameters.
void attention_merge_cuda(const AttentionMergeParams& params, cudaStream_t stream);

} // namespace blocklens::kernels
