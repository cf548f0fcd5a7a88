#include "engine/torch/attention_at_slots.hpp"
#include "engine/torch/cpu_attention.hpp"
#include "engine/torch/score_buffer.hpp"

#include <algorithm>
#include <limits>

namespace blocklens::engine::detail {

namespace {

// How many of the next `most` queries (slots ascending) to take in one chunk. A chunk computes
// every query's scores up to its last slot, so scattered groups of slots (recompute-first: a few
// tokens at each cut) compute keys their queries never see. Those scores cost their products
// (the softmax skips them: range_softmax.hpp), while a chunk of few queries makes products of few
// rows, dearer per FLOP. So the chunk holds at least kMinQueries; up to kSmallChunk queries its
// waste may reach a quarter of the work it needs (merging small groups pays for itself), beyond
// that a tenth. Measured with bench_repairs (docs/benchmarks.md, issue 18): a quarter throughout
// cost recompute-first:16 3-5% more, a tenth throughout left recompute-frac:0.05's scattered
// queries in products too small.
std::int64_t chunkLength(const std::int64_t* slot, std::int64_t most)
{
    constexpr std::int64_t kMinQueries = 8, kSmallChunk = 16;
    constexpr double kSmallWaste = 1.25, kWaste = 1.1; // computed / needed
    double needed = 0;
    for (std::int64_t i = 0; i < most; ++i) {
        needed += static_cast<double>(slot[i] + 1);
        const double computed = static_cast<double>(i + 1) * static_cast<double>(slot[i] + 1);
        if (i >= kMinQueries && computed > (i < kSmallChunk ? kSmallWaste : kWaste) * needed)
            return i;
    }
    return most;
}

} // namespace

at::Tensor attendAtSlots(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& querySlots,
                         const AttentionArgs& a)
{
    const std::int64_t heads = q.size(0), n = q.size(1), d = q.size(2);
    const std::int64_t kvHeads = k.size(0), m = k.size(1), group = heads / kvHeads;
    TORCH_CHECK(heads % kvHeads == 0 && k.sizes() == v.sizes() && k.size(2) == d && querySlots.size(0) == n,
                "attendAtSlots: shapes do not match");
    const at::Tensor slotsHost = querySlots.to(at::kCPU);     // chunk bounds are read on the host
    const std::int64_t* slot = slotsHost.data_ptr<std::int64_t>();
    const std::int64_t budget = q.is_cuda() ? std::int64_t(1) << 27 : std::int64_t(1) << 20; // score values per chunk
    const std::int64_t most = std::clamp<std::int64_t>(budget / std::max<std::int64_t>(1, heads * m), 16, 512);
    std::vector<QueryChunk> chunks;
    for (std::int64_t c0 = 0, c = 0; c0 < n; c0 += c) {
        c = chunkLength(slot + c0, std::min(most, n - c0));
        // The chunk's last query is its latest slot: no key after it is ever seen.
        const std::int64_t kEnd = std::clamp<std::int64_t>(slot[c0 + c - 1] + 1 - a.kStart, 0, m);
        const std::int64_t kBegin = a.window ? std::clamp<std::int64_t>(slot[c0] - *a.window + 1 - a.kStart, 0, kEnd) : 0;
        chunks.push_back({c0, c, kBegin, kEnd - kBegin});
    }
    if (chunkedCpuAttentionApplies(q)) // fp32 CPU inference: BLAS on raw memory (cpu_attention.hpp)
        return attendChunksOnCpu(q, k, v, a.scale, chunks, keysSeenByRow(chunks, n, [&](std::int64_t i) { return slot[i]; }, a.kStart, a.window),
                                 CpuProducts::Best, a.cache ? &a.cache->scratch : nullptr);

    const at::Tensor qs = q * a.scale; // [heads, n, d]
    at::Tensor out = at::empty({heads, n, d}, q.options());
    const auto longs = at::TensorOptions().dtype(at::kLong).device(q.device());
    ScoreBuffer buffer(q, heads * std::min(most, n) * m); // every chunk's scores, then its probabilities
    for (const QueryChunk& chunk : chunks) {
        const std::int64_t c0 = chunk.row0, c = chunk.rows, mc = chunk.keys, k0 = a.kStart + chunk.keyBegin; // k0: slot of the first key
        const at::Tensor kc = k.narrow(1, chunk.keyBegin, mc), vc = v.narrow(1, chunk.keyBegin, mc); // [kv_heads, mc, d]
        const at::Tensor qg = qs.narrow(1, c0, c).reshape({kvHeads, group * c, d});     // query heads of a KV head as rows
        const at::Tensor scores = buffer.product(qg, kc.transpose(1, 2)).view({kvHeads, group, c, mc});
        // Without a window only keys after the chunk's first query can be blocked: the mask covers
        // those columns [tail, mc) alone (with small heads masking costs as much as the products).
        const std::int64_t tail = a.window ? 0 : std::clamp<std::int64_t>(slot[c0] + 1 - k0, 0, mc);
        const at::Tensor qi = querySlots.narrow(0, c0, c).unsqueeze(1);                 // [c, 1]
        const at::Tensor kj = at::arange(k0 + tail, k0 + mc, longs).unsqueeze(0);        // [1, mc - tail]
        at::Tensor blocked = kj > qi;                                                     // [c, mc - tail]
        if (a.window)
            blocked = blocked.logical_or((qi - kj) >= *a.window);
        if (tail < mc)
            scores.narrow(3, tail, mc - tail).masked_fill_(blocked, -std::numeric_limits<double>::infinity());
        const at::Tensor probs = buffer.softmax(scores); // fp32 accumulation, as attend()
        out.narrow(1, c0, c).copy_(at::matmul(probs.view({kvHeads, group * c, mc}), vc).view({heads, c, d}));
    }
    return out;
}

} // namespace blocklens::engine::detail
