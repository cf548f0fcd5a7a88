// RoPE applied in one pass (see rope_apply.cuh): one thread per 8 dimension pairs of a (token,
// head) row, grid-stride; the pair's two halves, cos and sin each one 16-byte load.
#include "rope_apply.cuh"

#include "detail/launch.hpp"
#include "detail/vec16.cuh"

#include <algorithm>
#include <string>

namespace blocklens::kernels {
namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kThreads) ropeApplyKernel(const RopeApplyParams p)
{
    const int half = p.head_dim >> 1;
    const int vecs = half / 8;
    const std::int64_t total = static_cast<std::int64_t>(p.n_tokens) * p.n_heads * vecs;
    for (std::int64_t w = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; w < total;
         w += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const int col = static_cast<int>(w % vecs) * 8;
        const std::int64_t r = w / vecs;
        const int h = static_cast<int>(r % p.n_heads);
        const std::int64_t t = r / p.n_heads;
        const T* x = static_cast<const T*>(p.x) + h * p.x_head_stride + t * p.x_token_stride + col;
        const T* c = static_cast<const T*>(p.cos) + t * p.head_dim + col;
        const T* s = static_cast<const T*>(p.sin) + t * p.head_dim + col;
        float x1[8], x2[8], c1[8], c2[8], s1[8], s2[8], o1[8], o2[8];
        detail::unpack8<T>(detail::load16(x), x1);
        detail::unpack8<T>(detail::load16(x + half), x2);
        detail::unpack8<T>(detail::load16(c), c1);
        detail::unpack8<T>(detail::load16(c + half), c2);
        detail::unpack8<T>(detail::load16(s), s1);
        detail::unpack8<T>(detail::load16(s + half), s2);
#pragma unroll
        for (int e = 0; e < 8; ++e) {
            o1[e] = fmaf(x1[e], c1[e], x2[e] * s1[e]);
            o2[e] = fmaf(x2[e], c2[e], x1[e] * s2[e]);
        }
        T* o = static_cast<T*>(p.out) + h * p.out_head_stride + t * p.out_token_stride + col;
        detail::store16(o, detail::pack8<T>(o1));
        detail::store16(o + half, detail::pack8<T>(o2));
    }
}

} // namespace

void rope_apply_cuda(const RopeApplyParams& p, cudaStream_t stream)
{
    using detail::aligned16;
    using detail::require;
    const char* op = "rope_apply";
    require(p.x != nullptr && p.out != nullptr && p.cos != nullptr && p.sin != nullptr, op, "x, out, cos and sin must be set");
    require(p.n_heads >= 1 && p.n_tokens >= 0, op, "n_heads must be >= 1 and n_tokens >= 0");
    require(p.head_dim >= 16 && p.head_dim <= 256 && p.head_dim % 16 == 0, op,
            "head_dim must be a multiple of 16 in 16..256, got " + std::to_string(p.head_dim));
    require(aligned16(p.x) && aligned16(p.out) && aligned16(p.cos) && aligned16(p.sin) && p.x_head_stride % 8 == 0
                && p.x_token_stride % 8 == 0 && p.out_head_stride % 8 == 0 && p.out_token_stride % 8 == 0,
            op, "x, out, cos and sin need 16-byte aligned pointers and strides that are multiples of 8");
    if (p.x == p.out)
        require(p.x_head_stride == p.out_head_stride && p.x_token_stride == p.out_token_stride, op,
                "in place (out == x) needs equal strides");
    const std::int64_t total = static_cast<std::int64_t>(p.n_tokens) * p.n_heads * (p.head_dim / 16);
    if (total == 0)
        return;
    const unsigned blocks = static_cast<unsigned>(std::min<std::int64_t>((total + kThreads - 1) / kThreads, 132 * 16));
    if (p.dtype == DType::bf16)
        ropeApplyKernel<__nv_bfloat16><<<blocks, kThreads, 0, stream>>>(p);
    else
        ropeApplyKernel<__half><<<blocks, kThreads, 0, stream>>>(p);
    detail::checkLaunch(op, "ropeApplyKernel");
}

} // namespace blocklens::kernels
