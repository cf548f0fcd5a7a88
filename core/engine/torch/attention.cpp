#include "engine/torch/attention.hpp"

#include "engine/torch/cpu_attention.hpp"
#include "engine/torch/kernels_bridge.hpp"
#include "engine/torch/score_buffer.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <limits>

namespace blocklens::engine::detail {
namespace {

// masked [c, m] bool: true where query slot (q0 + row) may NOT see key slot (k0 + col).
at::Tensor blockedMask(std::int64_t q0, std::int64_t c, std::int64_t k0, std::int64_t m,
                       const std::optional<std::int64_t>& window, const at::Device& device)
{
    const auto opts = at::TensorOptions().dtype(at::kLong).device(device);
    const at::Tensor qi = at::arange(q0, q0 + c, opts).unsqueeze(1); // [c, 1]
    const at::Tensor kj = at::arange(k0, k0 + m, opts).unsqueeze(0); // [1, m]
    at::Tensor blocked = kj > qi;
    if (window)
        blocked = blocked.logical_or((qi - kj) >= *window);
    return blocked;
}

// Score values (fp32) per query chunk: on a GPU large chunks keep kernels few; on a CPU small
// ones stay in cache and reuse the allocator's memory (fresh pages are expensive in sandboxes).
std::int64_t scoreBudget(const at::Tensor& q) { return q.is_cuda() ? std::int64_t(1) << 27 : std::int64_t(1) << 20; }

// Queries [0, n) in chunks of `chunk`, each with the keys its queries may see: none after its
// last query (causal), none before its first query's window. This halves the work of a causal
// prefill and bounds the score buffer.
std::vector<QueryChunk> causalChunks(std::int64_t n, std::int64_t m, std::int64_t chunk, const AttentionArgs& a)
{
    std::vector<QueryChunk> chunks;
    for (std::int64_t c0 = 0; c0 < n; c0 += chunk) {
        const std::int64_t c = std::min(chunk, n - c0), q0 = a.qStart + c0;     // q0: slot of the chunk's first query
        const std::int64_t kEnd = std::clamp<std::int64_t>(q0 + c - a.kStart, 0, m);
        const std::int64_t kBegin = a.window ? std::clamp<std::int64_t>(q0 - *a.window + 1 - a.kStart, 0, kEnd) : 0;
        chunks.push_back({c0, c, kBegin, kEnd - kBegin});
    }
    return chunks;
}

bool halfOnCuda(const at::Tensor& q)
{
    return q.is_cuda() && (q.scalar_type() == at::kBFloat16 || q.scalar_type() == at::kHalf);
}

#if BLOCKLENS_HAVE_GQA_ATTENTION
// Flash attention with K/V shared by query-head groups and the causal mask aligned at the bottom
// right (query i of n sees keys up to m - n + i), optionally a sliding window. q [heads, n, d],
// k/v [kv_heads, m, d] (any strides with a contiguous last dimension) -> [heads, n, d] (a view of
// [n, heads, d] memory, so the caller's merge of the heads costs nothing). Undefined when the
// kernel refuses the input; then it is not asked again and the caller's manual path runs.
at::Tensor flashAttend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionArgs& a)
{
    static std::atomic<bool> refused{false};
    if (refused.load(std::memory_order_relaxed))
        return {};
    const std::int64_t n = q.size(1), m = k.size(1);
    std::optional<std::int64_t> left, right;
    if (a.window && *a.window < m) {
        left = *a.window - 1; // key j is seen while (query slot - key slot) < window
        right = 0;
    }
    try {
        // [1, seq, heads, d] views: flash's layout, no copies
        const auto out = std::get<0>(at::_flash_attention_forward(q.transpose(0, 1).unsqueeze(0), k.transpose(0, 1).unsqueeze(0),
                                                                  v.transpose(0, 1).unsqueeze(0), std::nullopt, std::nullopt, n, m, 0.0,
                                                                  /*is_causal=*/true, /*return_debug_mask=*/false, a.scale, left,
                                                                  right, std::nullopt, std::nullopt)); // [1, n, heads, d]
        return out.squeeze(0).transpose(0, 1);
    } catch (const c10::Error& e) {
        refused = true;
        std::fprintf(stderr, "blocklens: flash attention refused the input (%s); using the manual attention path\n",
                     e.what_without_backtrace());
        return {};
    }
}
#endif

} // namespace

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionArgs& a, MassCapture* capture)
{
    const std::int64_t heads = q.size(0), n = q.size(1), d = q.size(2);
    const std::int64_t kvHeads = k.size(0), m = k.size(1);
    const std::int64_t group = heads / kvHeads;
    TORCH_CHECK(heads % kvHeads == 0 && k.sizes() == v.sizes() && k.size(2) == d, "attend: shapes do not match");

#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    // Attention mass of a whole sequence (full mode): the probe kernel for the mass, the fused
    // route below for the output; the n x n probabilities are never formed.
    if (capture && !capture->blockStarts.empty() && a.qStart == 0 && a.kStart == 0 && n == m && (!a.window || *a.window >= n)
        && bridge::attentionMassSupported(q, k, capture->blocks)) {
        std::vector<std::int32_t> starts;
        for (const auto s0 : capture->blockStarts)
            if (s0 < n)
                starts.push_back(static_cast<std::int32_t>(s0));
        starts.push_back(static_cast<std::int32_t>(n));
        if (static_cast<std::int64_t>(starts.size()) - 1 == capture->blocks && starts.front() == 0) {
            capture->mass = bridge::attentionMass(q, k, starts, a.scale); // [heads, n, blocks]
            if (capture->byQueryBlock)
                capture->mass = at::zeros({heads, capture->blocks, capture->blocks}, capture->mass.options())
                                    .index_add_(1, capture->blockOfSlot.narrow(0, 0, n), capture->mass);
            return attend(q, k, v, a, nullptr);
        }
    }
#endif
#if BLOCKLENS_HAVE_GQA_ATTENTION
    // CUDA, bf16/fp16, keys ending where the queries end (always so in the engine).
    if (!capture && halfOnCuda(q) && a.kStart + m == a.qStart + n) {
        if (n == m && (!a.window || *a.window >= n)) // square causal: SDPA (cuDNN on Hopper), K/V not repeated
            return at::scaled_dot_product_attention(q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0), {}, 0.0, /*is_causal=*/true,
                                                    a.scale, /*enable_gqa=*/true)
                .squeeze(0);
        if (at::Tensor out = flashAttend(q, k, v, a); out.defined())
            return out;
    }
#endif
#if BLOCKLENS_HAVE_SDPA
    // Square causal self-attention (full prefill, a block on its own): the fused kernel.
    if (!capture && a.qStart == a.kStart && n == m && (!a.window || *a.window >= n)) {
        at::Tensor kk = k, vv = v; // [kv_heads, m, d] -> [heads, m, d]
        if (group > 1) {
            kk = k.unsqueeze(1).expand({kvHeads, group, m, d}).reshape({heads, m, d});
            vv = v.unsqueeze(1).expand({kvHeads, group, m, d}).reshape({heads, m, d});
        }
        return at::scaled_dot_product_attention(q.unsqueeze(0), kk.unsqueeze(0), vv.unsqueeze(0), {}, 0.0,
                                                /*is_causal=*/true, a.scale)
            .squeeze(0);
    }
#endif

    const std::int64_t chunk = std::clamp<std::int64_t>(scoreBudget(q) / std::max<std::int64_t>(1, heads * m), 16, 512);
    const std::vector<QueryChunk> chunks = causalChunks(n, m, chunk, a);
    if (!capture && chunkedCpuAttentionApplies(q)) // fp32 CPU inference: BLAS on raw memory (cpu_attention.hpp)
        return attendChunksOnCpu(q, k, v, a.scale, chunks,
                                 keysSeenByRow(chunks, n, [&](std::int64_t i) { return a.qStart + i; }, a.kStart, a.window),
                                 CpuProducts::Best, a.cache ? &a.cache->scratch : nullptr);

    at::Tensor out;                                                              // [heads, n, d]
    if (capture) // [heads, n, blocks], or [heads, blocks, blocks] sums by query block
        capture->mass = at::zeros({heads, capture->byQueryBlock ? capture->blocks : n, capture->blocks}, q.options().dtype(at::kFloat));
    const at::Tensor qs = q * a.scale; // the scale on the queries, not on the [n, m] scores
    ScoreBuffer buffer(q, heads * std::min(chunk, n) * m); // every chunk's scores, then its probabilities
    // fp32 on the CPU (here: capturing the mass): each row's softmax over its own keys (no mask);
    // otherwise masks, made once per forward call and kept in `masks` for the other layers.
    const bool ranged = buffer.ranged();
    std::vector<RowRange> ranges; // per query of a chunk: the columns it sees
    AttentionCache local;
    AttentionCache& masks = a.cache ? *a.cache : local;
    const bool fresh = !ranged && masks.chunks.empty();
    if (fresh)
        masks.chunks.resize(chunks.size());
    for (std::size_t ci = 0; ci < chunks.size(); ++ci) {
        const std::int64_t c0 = chunks[ci].row0, c = chunks[ci].rows, kBegin = chunks[ci].keyBegin, mc = chunks[ci].keys;
        const std::int64_t q0 = a.qStart + c0, ks0 = a.kStart + kBegin; // slots of the chunk's first query and first key
        const at::Tensor kc = k.narrow(1, kBegin, mc);                           // [kv_heads, mc, d]
        const at::Tensor vc = v.narrow(1, kBegin, mc);                           // [kv_heads, mc, d]
        // qg [kv_heads, group * c, d]: the query heads of one KV head stacked as rows
        const at::Tensor qg = qs.narrow(1, c0, c).reshape({kvHeads, group * c, d});
        const at::Tensor scores = buffer.product(qg, kc.transpose(1, 2)).view({kvHeads, group, c, mc}); // [kv_heads, group, c, mc]
        at::Tensor probs; // [kv_heads, group, c, mc]
        if (ranged) { // query slot s sees key slots [s - window + 1, s]
            ranges.resize(static_cast<std::size_t>(c));
            for (std::int64_t i = 0; i < c; ++i)
                ranges[static_cast<std::size_t>(i)] = keysSeen(q0 + i, ks0, mc, a.window);
            probs = buffer.softmaxInRanges(scores, ranges);
        } else {
            auto& regions = masks.chunks[ci];
            if (fresh) {
                // Only two column ranges can hold blocked entries: keys after the chunk's first query
                // (causal) and, with a window, keys that the chunk's last query no longer sees.
                const std::int64_t tail = std::clamp<std::int64_t>(q0 + 1 - ks0, 0, mc);
                const std::int64_t head = a.window ? std::clamp<std::int64_t>(q0 + c - *a.window - ks0, 0, mc) : 0;
                if (head >= tail) {
                    regions.push_back({0, blockedMask(q0, c, ks0, mc, a.window, q.device())});
                } else {
                    if (head > 0)
                        regions.push_back({0, blockedMask(q0, c, ks0, head, a.window, q.device())});
                    if (tail < mc)
                        regions.push_back({tail, blockedMask(q0, c, ks0 + tail, mc - tail, a.window, q.device())});
                }
            }
            for (const auto& r : regions)
                scores.narrow(3, r.offset, r.blocked.size(1)).masked_fill_(r.blocked, -std::numeric_limits<double>::infinity());
            // Softmax accumulates in fp32 whatever the dtype; one rounding to the compute dtype, as
            // HF's softmax(dtype=float32).to(dtype).
            probs = buffer.softmax(scores);
        }
        const at::Tensor o = at::matmul(probs.view({kvHeads, group * c, mc}), vc).view({heads, c, d}); // [heads, c, d]
        if (chunks.size() == 1) {
            out = o;
        } else {
            if (!out.defined())
                out = at::empty({heads, n, d}, q.options());
            out.narrow(1, c0, c).copy_(o);
        }
        if (capture) { // sum each row's probabilities per key block (and per query block)
            const at::Tensor keyBlocks = capture->blockOfSlot.narrow(0, ks0, mc);
            const at::Tensor p = probs.reshape({heads, c, mc}).to(at::kFloat);
            if (capture->byQueryBlock) {
                const at::Tensor rows = at::zeros({heads, c, capture->blocks}, p.options()).index_add_(2, keyBlocks, p); // [heads, c, blocks]
                capture->mass.index_add_(1, capture->blockOfSlot.narrow(0, q0, c), rows);
            } else {
                capture->mass.narrow(1, c0, c).index_add_(2, keyBlocks, p);
            }
        }
    }
    return out;
}

at::Tensor attendBlocks(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<std::int64_t>& starts,
                        bool lastBlockGlobal, const AttentionArgs& a)
{
    const std::int64_t n = q.size(1);
    TORCH_CHECK(a.qStart == a.kStart && k.size(1) == n && !starts.empty() && starts.front() == 0 && starts.back() < n,
                "attendBlocks: the keys must be the queries' own tokens and the blocks must start at 0");
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    const auto blocks = static_cast<std::int64_t>(starts.size());
    if ((!a.window || *a.window >= n) && bridge::blockPrefillSupported(q, k, v, blocks, lastBlockGlobal)) {
        std::vector<std::int32_t> s32(starts.begin(), starts.end());
        s32.push_back(static_cast<std::int32_t>(n));
        return bridge::blockPrefill(q, k, v, s32, lastBlockGlobal, a.scale); // [heads, n, d]
    }
#endif
    // One attend() per block at its own slots (each block is square causal; the last block, when
    // global, sees every key before it as well).
    std::vector<BlockAttention> list;
    for (std::size_t b = 0; b < starts.size(); ++b)
        list.push_back({starts[b], lastBlockGlobal && b + 1 == starts.size() ? 0 : starts[b]});
    return attendBlockList(q, k, v, list, a);
}

at::Tensor attendBlockList(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<BlockAttention>& blocks,
                           const AttentionArgs& a)
{
    const std::int64_t n = q.size(1);
    TORCH_CHECK(a.qStart == a.kStart && k.size(1) == n && !blocks.empty() && blocks.front().start == 0,
                "attendBlockList: the keys must be the queries' own tokens and the blocks must start at 0");
    std::vector<at::Tensor> pieces; // [heads, len, d] each
    for (std::size_t b = 0; b < blocks.size(); ++b) {
        const BlockAttention& blk = blocks[b];
        const std::int64_t s = blk.start, e = b + 1 < blocks.size() ? blocks[b + 1].start : n, len = e - s;
        TORCH_CHECK(len > 0 && blk.keyStart <= s && (blk.sinkLength == 0 || blk.sinkStart + blk.sinkLength <= blk.keyStart),
                    "attendBlockList: blocks must be ascending, keys before their queries, the sink before the keys");
        at::Tensor kb = k.narrow(1, blk.keyStart, e - blk.keyStart), vb = v.narrow(1, blk.keyStart, e - blk.keyStart);
        if (blk.sinkLength > 0) { // the sink's keys placed just before the block's: always visible
            kb = at::cat({k.narrow(1, blk.sinkStart, blk.sinkLength), kb}, 1);
            vb = at::cat({v.narrow(1, blk.sinkStart, blk.sinkLength), vb}, 1);
        }
        const AttentionArgs args{a.qStart + s, a.kStart + blk.keyStart - blk.sinkLength, a.window, a.scale, nullptr};
        pieces.push_back(attend(q.narrow(1, s, len), kb, vb, args));
    }
    return pieces.size() == 1 ? pieces.front() : at::cat(pieces, 1);
}

at::Tensor attendReference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionArgs& a)
{
    const std::int64_t heads = q.size(0), n = q.size(1), m = k.size(1);
    const at::Tensor kk = k.repeat_interleave(heads / k.size(0), 0); // [heads, m, d]
    const at::Tensor vv = v.repeat_interleave(heads / k.size(0), 0);
    at::Tensor scores = at::matmul(q.to(at::kDouble), kk.to(at::kDouble).transpose(1, 2)) * a.scale; // [heads, n, m]
    scores.masked_fill_(blockedMask(a.qStart, n, a.kStart, m, a.window, q.device()), -std::numeric_limits<double>::infinity());
    return at::matmul(at::softmax(scores, -1), vv.to(at::kDouble)).to(q.scalar_type());
}

} // namespace blocklens::engine::detail
