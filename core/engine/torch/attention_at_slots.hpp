#pragma once
// Attention for queries at scattered sequence slots (the tokens a repair computes again,
// engine/repair.hpp): the same rule as attend() (attention.hpp), with the query slots given one by
// one instead of as qStart + i:
//
//   query i (slot querySlots[i]) may attend to key j (slot kStart + j) iff
//       kStart + j <= querySlots[i]   and   (no window or querySlots[i] - (kStart + j) < window)
//
// Grouped-query heads stacked as extra query rows, softmax accumulated in fp32 as in attend()'s
// manual path; queries in chunks so the score buffer stays bounded.
#include "engine/torch/attention.hpp"

namespace blocklens::engine::detail {

// q [heads, n, head_dim], k/v [kv_heads, m, head_dim], querySlots [n] int64 ascending (on q's
// device) -> [heads, n, head_dim]. args.qStart is ignored; args.kStart, window and scale apply.
at::Tensor attendAtSlots(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& querySlots,
                         const AttentionArgs& args);

} // namespace blocklens::engine::detail
