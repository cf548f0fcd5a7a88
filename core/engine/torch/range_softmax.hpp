#pragma once
// Softmax of each score row over its own range of columns, in place (CPU, fp32): the masked
// softmax of the engine's CPU attention without a mask.
//
// Why (issue 18): a query chunk's scores [kv_heads, group, rows, keys] hold every key up to the
// chunk's last query, but each row may see only a range of them (causal end, window start, the
// scattered slots of recomputed tokens). The masked path built a bool mask per chunk, wrote -inf
// through it and then ran at::softmax over every column, exp included, so a row paid for the
// columns it may not see; at a recompute's scattered slots that was a fifth of the attention's
// time. Here a row's max, exp and sum run over its own range alone and the columns outside it are
// written as 0 (the probability a masked column gets), so the value product after it is unchanged.
//
// exp is a vector polynomial (Cody-Waite reduction, degree-6 minimax, as Cephes' expf: within
// 2 ulp of the exact value over the range softmax uses); sums accumulate in fp32, as at::softmax's.
#include <cstdint>

namespace blocklens::engine::detail {

struct RowRange {
    std::int64_t begin = 0; // first column the row may see
    std::int64_t end = 0;   // one past its last; a row with end <= begin becomes all zeros
};

// data: `matrices` row-major fp32 matrices [rows, cols], one after another; row r of every matrix
// uses ranges[r]. Rows are spread over ATen's intra-op threads.
void softmaxInRowRanges(float* data, std::int64_t matrices, std::int64_t rows, std::int64_t cols, const RowRange* ranges);

// softmaxInRowRanges with a named instruction set, "avx512", "avx2" or "scalar" (it picks the
// best this CPU has) (for tests of every code path on one machine); false,
// with nothing written, when this CPU lacks it or the name is unknown.
bool softmaxInRowRangesWith(const char* isa, float* data, std::int64_t matrices, std::int64_t rows, std::int64_t cols,
                            const RowRange* ranges);

} // namespace blocklens::engine::detail
