#include "engine/torch/attention_split.hpp"

#include "engine/torch/kernels_bridge.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace blocklens::engine::detail {
namespace {

std::atomic<std::int64_t> calls{0};

#if BLOCKLENS_HAVE_GQA_ATTENTION && BLOCKLENS_HAVE_KERNELS_BRIDGE
// Why these sizes: a chunk of at least 1024 keys keeps each thread block's K/V read long enough
// to hide the merge's cost; at most 64 chunks bounds the partials (64 x rows x heads x d) and the
// merge's reads. Rows: a question, not a prefill (a prefill has its own square route).
constexpr std::int64_t kMinChunk = 1024;
constexpr std::int64_t kMaxChunks = 64;
constexpr std::int64_t kMaxQueryRows = 256;

bool enabled()
{
    static const bool on = [] {
        const char* v = std::getenv("BLOCKLENS_SPLIT_CONTEXT");
        return !(v && std::strcmp(v, "0") == 0);
    }();
    return on;
}

// Flash attention's output and log-sum-exp: q [b, rows, heads, d], k/v [b, keys, kv_heads, d] ->
// out [b, rows, heads, d], lse [b, heads, rows] fp32.
std::pair<at::Tensor, at::Tensor> flashWithLse(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool causal, double scale)
{
    auto result = at::_flash_attention_forward(q, k, v, std::nullopt, std::nullopt, q.size(1), k.size(1), 0.0, causal,
                                               /*return_debug_mask=*/false, scale, std::nullopt, std::nullopt, std::nullopt,
                                               std::nullopt);
    return {std::get<0>(result), std::get<1>(result)};
}
#endif

} // namespace

at::Tensor attendSplitContext(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const AttentionArgs& a)
{
#if BLOCKLENS_HAVE_GQA_ATTENTION && BLOCKLENS_HAVE_KERNELS_BRIDGE
    static std::atomic<bool> refused{false};
    const std::int64_t heads = q.size(0), n = q.size(1), d = q.size(2);
    const std::int64_t kvHeads = k.size(0), m = k.size(1), group = heads / kvHeads;
    const std::int64_t context = m - n;
    const auto t = q.scalar_type();
    if (!enabled() || refused.load(std::memory_order_relaxed) || !q.is_cuda() || (t != at::kBFloat16 && t != at::kHalf)
        || n > kMaxQueryRows || context < 2 * kMinChunk || (a.window && *a.window < m) || a.kStart + m != a.qStart + n)
        return {};
    const std::int64_t chunk = std::max(kMinChunk, (context + kMaxChunks - 1) / kMaxChunks);
    const std::int64_t chunks = context / chunk, covered = chunks * chunk;
    try {
        // Launch 1. qf [1 -> chunks, group * n, kv_heads, d]: row g * n + i is query i of head
        // kvHead * group + g (a small copy), the same rows for every chunk (stride 0).
        const at::Tensor qf = q.view({kvHeads, group, n, d}).reshape({kvHeads, group * n, d}).transpose(0, 1).unsqueeze(0)
                                  .expand({chunks, group * n, kvHeads, d});
        // kc/vc [chunks, chunk, kv_heads, d]: views of the context's first `covered` keys
        const at::Tensor kc = k.narrow(1, 0, covered).transpose(0, 1).view({chunks, chunk, kvHeads, d});
        const at::Tensor vc = v.narrow(1, 0, covered).transpose(0, 1).view({chunks, chunk, kvHeads, d});
        auto [chunkOut, chunkLse] = flashWithLse(qf, kc, vc, /*causal=*/false, a.scale); // [chunks, group*n, kv_heads, d], [chunks, kv_heads, group*n]
        // Launch 2: the tail [covered, m) seen causally from the bottom right (query i sees up to
        // context + i), as flash's GQA layout [1, keys, kv_heads, d].
        const std::int64_t tail = m - covered;
        auto [tailOut, tailLse] = flashWithLse(q.transpose(0, 1).unsqueeze(0), k.narrow(1, covered, tail).transpose(0, 1).unsqueeze(0),
                                               v.narrow(1, covered, tail).transpose(0, 1).unsqueeze(0), /*causal=*/true,
                                               a.scale); // [1, n, heads, d], [1, heads, n]
        const std::vector<bridge::AttentionPartialsIn> parts{{chunkOut, chunkLse, static_cast<int>(group)}, {tailOut, tailLse, 1}};
        if (!bridge::attentionMergeSupported(parts, n, heads)) {
            refused = true;
            std::fprintf(stderr, "blocklens: flash attention's partials do not have the layout the merge expects; "
                                 "the question's attention runs unsplit\n");
            return {};
        }
        calls.fetch_add(1, std::memory_order_relaxed);
        return bridge::mergeAttention(parts, n, heads); // [heads, n, d]
    } catch (const c10::Error& e) {
        refused = true;
        std::fprintf(stderr, "blocklens: flash attention refused the split context (%s); the question's attention runs unsplit\n",
                     e.what_without_backtrace());
        return {};
    }
#else
    (void)q, (void)k, (void)v, (void)a;
    return {};
#endif
}

std::int64_t splitContextCalls() { return calls.load(std::memory_order_relaxed); }

} // namespace blocklens::engine::detail
