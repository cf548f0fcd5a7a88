#pragma once
// Attention of a few query rows over a long run of keys before them (the question pass of a
// block-cached run, decoding): split-KV ("flash-decoding"), so that the reading of the context's
// K/V is spread over many thread blocks and done once for the query heads that share a KV head.
//
//   context = the keys before the queries' own: m - n of them, cut into S chunks of equal length
//             (the last < one chunk joins the tail); every query sees every context key.
//   launch 1  flash attention, non-causal, batch = the S chunks (K/V views, no copy), each KV
//             head's `group` query heads stacked as rows (group x n rows per KV head, so a tile
//             of rows covers all the query heads that read that K/V);
//   launch 2  flash attention over the tail (the rest of the context and the queries' own keys),
//             causal aligned at the bottom right, as attend() does;
//   launch 3  the partials merged by their log-sum-exps (kernels/attention_merge.cuh).
// The result equals attention over all m keys under attend()'s rule (up to rounding: the partials
// are rounded to the 16-bit dtype before the fp32 merge).
//
// CUDA bf16/fp16, PyTorch >= 2.5 and the kernels bridge; no window shorter than the keys, no
// capture. BLOCKLENS_SPLIT_CONTEXT=0 turns it off (A/B timings).
#include "engine/torch/attention.hpp"

#include <cstdint>

namespace blocklens::engine::detail {

// q [heads, n, d], k/v [kv_heads, m, d], keys ending where the queries end (args.kStart + m ==
// args.qStart + n). Returns [heads, n, d] (a view of [n, heads, d] memory), or an undefined tensor
// when the split does not apply (short context, many queries, a window, no support in this
// build, turned off) or flash refused it once: then the caller's other routes run.
at::Tensor attendSplitContext(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionArgs& args);

// Calls that took the split (tests check that a route really ran).
std::int64_t splitContextCalls();

} // namespace blocklens::engine::detail
