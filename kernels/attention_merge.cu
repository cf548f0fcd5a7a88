// Merging split-KV attention partials (see attention_merge.cuh): one warp per (row, head); each
// lane owns 8 columns (16-byte loads), reads every part's LSE itself (a few dozen floats, cached)
// and sums the weighted parts in fp32.
#include "attention_merge.cuh"

#include "detail/launch.hpp"
#include "detail/vec16.cuh"

#include <cmath>

namespace blocklens::kernels {
namespace {

constexpr int kWarps = 4;

// Where result row i, head h is stored in a group (see AttentionPartials::fold).
struct Stored {
    int row, head;
};
__device__ __forceinline__ Stored storedAt(const AttentionPartials& g, int rows, int i, int h)
{
    return {(h % g.fold) * rows + i, h / g.fold};
}

__device__ __forceinline__ float lseOf(const AttentionPartials& g, int p, Stored s)
{
    return g.lse[p * g.lse_part_stride + s.head * g.lse_head_stride + s.row * g.lse_row_stride];
}

template <typename T>
__global__ void __launch_bounds__(kWarps * 32) attentionMergeKernel(const AttentionMergeParams p)
{
    const int pair = blockIdx.x * kWarps + threadIdx.x / 32; // (row, head) of this warp
    if (pair >= p.rows * p.heads)
        return;
    const int i = pair / p.heads, h = pair % p.heads, lane = threadIdx.x % 32;
    // The largest finite LSE, so every exp() below is at most 1.
    float top = -INFINITY;
    for (int gi = 0; gi < p.n_groups; ++gi)
        for (int part = 0; part < p.groups[gi].parts; ++part) {
            const float l = lseOf(p.groups[gi], part, storedAt(p.groups[gi], p.rows, i, h));
            if (isfinite(l))
                top = fmaxf(top, l);
        }
    const int c = lane * 8;
    if (c >= p.head_dim)
        return;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float total = 0;
    if (isfinite(top)) {
        for (int gi = 0; gi < p.n_groups; ++gi) {
            const AttentionPartials& g = p.groups[gi];
            const Stored at = storedAt(g, p.rows, i, h);
            for (int part = 0; part < g.parts; ++part) {
                const float l = lseOf(g, part, at);
                if (!isfinite(l))
                    continue;
                const float w = __expf(l - top);
                total += w;
                float x[8];
                detail::unpack8<T>(detail::load16(static_cast<const T*>(g.out) + part * g.part_stride + at.row * g.row_stride +
                                                  at.head * g.head_stride + c),
                                   x);
#pragma unroll
                for (int e = 0; e < 8; ++e)
                    acc[e] += w * x[e];
            }
        }
    }
    const float inv = total > 0 ? 1.0f / total : 0.0f;
#pragma unroll
    for (int e = 0; e < 8; ++e)
        acc[e] *= inv;
    detail::store16(static_cast<T*>(p.out) + i * p.out_row_stride + h * p.out_head_stride + c, detail::pack8<T>(acc));
}

} // namespace

void attention_merge_cuda(const AttentionMergeParams& p, cudaStream_t stream)
{
    using detail::aligned16;
    using detail::require;
    const char* op = "attention_merge";
    require(p.n_groups >= 1 && p.n_groups <= kMaxPartialGroups, op, "1 to kMaxPartialGroups groups of partials");
    require(p.rows >= 0 && p.heads >= 1 && p.head_dim >= 8 && p.head_dim <= 256 && p.head_dim % 8 == 0, op,
            "head_dim must be a multiple of 8 up to 256, heads >= 1");
    require(p.out != nullptr && aligned16(p.out) && p.out_row_stride % 8 == 0 && p.out_head_stride % 8 == 0, op,
            "out needs a 16-byte aligned pointer and strides that are multiples of 8");
    for (int gi = 0; gi < p.n_groups; ++gi) {
        const AttentionPartials& g = p.groups[gi];
        require(g.out != nullptr && g.lse != nullptr && g.parts >= 1, op, "every group needs out, lse and at least one part");
        require(g.fold >= 1 && p.heads % g.fold == 0, op, "fold must divide heads");
        require(aligned16(g.out) && g.part_stride % 8 == 0 && g.row_stride % 8 == 0 && g.head_stride % 8 == 0, op,
                "partial outputs need a 16-byte aligned pointer and strides that are multiples of 8");
    }
    if (p.rows == 0)
        return;
    const unsigned blocks = static_cast<unsigned>((static_cast<std::int64_t>(p.rows) * p.heads + kWarps - 1) / kWarps);
    if (p.dtype == DType::bf16)
        attentionMergeKernel<__nv_bfloat16><<<blocks, kWarps * 32, 0, stream>>>(p);
    else
        attentionMergeKernel<__half><<<blocks, kWarps * 32, 0, stream>>>(p);
    detail::checkLaunch(op, "attentionMergeKernel");
}

} // namespace blocklens::kernels
