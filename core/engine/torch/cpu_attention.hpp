#pragma once
// The CPU's fp32 attention (inference), query chunk by query chunk, on raw memory: for each chunk
// and KV head one BLAS product for the scores, each row's softmax over the keys it may see
// (range_softmax.hpp), one BLAS product for the output.
//
// Why (issue 18): the demo-sized models that a CPU runs have small heads (d = 32), and a repair
// recomputes a few tokens at each cut, so a chunk's products are small (tens of rows) and an
// attention call has dozens of chunks per layer. Through ATen each chunk cost about a dozen
// operator calls (views, a bmm that loops over KV heads with an addmm each, the softmax, the copy
// into the output): microseconds each, a tenth of recompute-first:16's attention on the demo
// model. Here a chunk costs two BLAS calls per KV head and a few memcpy, and the output is
// written once, in the [n, heads, d] layout the output projection reads.
#include "engine/torch/attention.hpp"

#include <vector>

namespace blocklens::engine::detail {

// Rows [row0, row0 + rows) of the queries attend to key columns [keyBegin, keyBegin + keys).
struct QueryChunk {
    std::int64_t row0 = 0;
    std::int64_t rows = 0;
    std::int64_t keyBegin = 0;
    std::int64_t keys = 0;
};

// keysSeen() (attention.hpp) of every query row of `chunks`, the row i's slot being slotOf(i) and
// its chunk's first key at slot kStart + keyBegin: attendChunksOnCpu's `ranges`.
template <class SlotOf>
std::vector<RowRange> keysSeenByRow(const std::vector<QueryChunk>& chunks, std::int64_t rows, SlotOf slotOf, std::int64_t kStart,
                                    const std::optional<std::int64_t>& window)
{
    std::vector<RowRange> ranges(static_cast<std::size_t>(rows));
    for (const QueryChunk& c : chunks)
        for (std::int64_t i = c.row0; i < c.row0 + c.rows; ++i)
            ranges[static_cast<std::size_t>(i)] = keysSeen(slotOf(i), kStart + c.keyBegin, c.keys, window);
    return ranges;
}

// Whether attendChunksOnCpu takes these inputs: fp32 on the CPU, outside autograd.
bool chunkedCpuAttentionApplies(const at::Tensor& q);

// How attendChunksOnCpu runs its products: BLAS's sgemm, the routine ATen's CPU products call,
// found in the process (Debian's libtorch links OpenBLAS), else ATen's mm; or ATen's mm always
// (for the tests of both routes on one machine).
enum class CpuProducts { Best, Aten };

// q [heads, n, d], k/v [kv_heads, m, d] (any strides); chunks in row order, covering [0, n);
// ranges[i]: the columns query row i sees, relative to its chunk's keyBegin (a row that sees
// none gets zeros). The query heads of a KV head share its keys (heads / kv_heads per KV head).
// workspace: an fp32 buffer kept by the caller for its next calls (AttentionCache::scratch), used
// and grown as needed; null: one of the call's own.
// -> [heads, n, d], a view of [n, heads, d] memory.
at::Tensor attendChunksOnCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                             const std::vector<QueryChunk>& chunks, const std::vector<RowRange>& ranges,
                             CpuProducts products = CpuProducts::Best, at::Tensor* workspace = nullptr);

} // namespace blocklens::engine::detail
