#pragma once
// The FLOPs a full-attention prefill executes as the engine runs it (engine/flops.hpp counts).
//
// RunStats::prefillFlops of a `full` run is this count, and RunStats::fullFlops (the denominator of
// every "extra FLOPs, share of a full prefill": compare --sweep, the repair chart, bench_repairs) is
// it with outputRows = 1 plus the first token's logits row: the cheapest full prefill that yields
// the first token. (Before 2026-12-05 both counted the last layer for every row: 3.146e10 instead
// of 2.674e10 on the demo model at 2,013 tokens.)
#include "engine/flops.hpp"

namespace blocklens::engine {

// A full-attention prefill of slots [0, n), no logits rows: every layer for every token, except that
// with 0 < outputRows < n the last layer computes q/k/v for every token (their K/V are kept for
// decoding) but attention, the output projection and the MLP for the last outputRows rows alone
// (ForwardArgs::outputRows: only the last position's logits are wanted). outputRows 0 or >= n: every row.
FlopCount fullPrefillFlops(const ModelConfig& config, std::int64_t n, std::int64_t outputRows);

} // namespace blocklens::engine
