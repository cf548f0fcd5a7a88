// out = silu(gate) * up in one pass (see silu_mul.cuh): one thread per 8 columns, grid-stride,
// 16-byte loads and stores.
#include "silu_mul.cuh"

#include "detail/launch.hpp"
#include "detail/vec16.cuh"

#include <algorithm>

namespace blocklens::kernels {
namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kThreads) siluMulKernel(const SiluMulParams p)
{
    const std::int64_t vecs = p.cols / 8;
    const std::int64_t total = p.rows * vecs;
    for (std::int64_t w = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; w < total;
         w += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const std::int64_t r = w / vecs, c = (w % vecs) * 8;
        float g[8], u[8], o[8];
        detail::unpack8<T>(detail::load16(static_cast<const T*>(p.gate) + r * p.gate_row_stride + c), g);
        detail::unpack8<T>(detail::load16(static_cast<const T*>(p.up) + r * p.up_row_stride + c), u);
#pragma unroll
        for (int e = 0; e < 8; ++e)
            o[e] = g[e] / (1.0f + expf(-g[e])) * u[e];
        detail::store16(static_cast<T*>(p.out) + r * p.out_row_stride + c, detail::pack8<T>(o));
    }
}

} // namespace

void silu_mul_cuda(const SiluMulParams& p, cudaStream_t stream)
{
    using detail::aligned16;
    using detail::require;
    const char* op = "silu_mul";
    require(p.gate != nullptr && p.up != nullptr && p.out != nullptr, op, "gate, up and out must be set");
    require(p.rows >= 0 && p.cols >= 0 && p.cols % 8 == 0, op, "rows must be >= 0 and cols a multiple of 8");
    require(aligned16(p.gate) && aligned16(p.up) && aligned16(p.out) && p.gate_row_stride % 8 == 0 && p.up_row_stride % 8 == 0
                && p.out_row_stride % 8 == 0,
            op, "gate, up and out need 16-byte aligned pointers and row strides that are multiples of 8");
    const std::int64_t total = p.rows * (p.cols / 8);
    if (total == 0)
        return;
    const unsigned blocks = static_cast<unsigned>(std::min<std::int64_t>((total + kThreads - 1) / kThreads, 132 * 16));
    if (p.dtype == DType::bf16)
        siluMulKernel<__nv_bfloat16><<<blocks, kThreads, 0, stream>>>(p);
    else
        siluMulKernel<__half><<<blocks, kThreads, 0, stream>>>(p);
    detail::checkLaunch(op, "siluMulKernel");
}

} // namespace blocklens::kernels
