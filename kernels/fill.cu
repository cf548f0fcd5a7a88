// Deterministic random fill (see fill.cuh): splitmix64 of (seed, index), grid-stride loop.
#include "fill.cuh"

#include "detail/launch.hpp"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

namespace blocklens::kernels {
namespace {

__device__ __forceinline__ std::uint64_t splitmix64(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

template <typename T>
__global__ void fillKernel(T* dst, std::size_t n, std::uint64_t seed, float amplitude)
{
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        const std::uint64_t h = splitmix64(seed * 0x100000001b3ull ^ i);
        const float u = static_cast<float>(h >> 40) * (1.0f / 16777216.0f); // [0, 1)
        dst[i] = T(amplitude * (2.f * u - 1.f));
    }
}

} // namespace

void fill_random_cuda(void* dst, DType dtype, std::size_t n, std::uint64_t seed, float std, cudaStream_t stream)
{
    detail::require(dst != nullptr || n == 0, "fill_random", "dst is null");
    if (n == 0)
        return;
    const float amplitude = std * 1.7320508f;
    const unsigned blocks = static_cast<unsigned>(std::min<std::size_t>((n + 255) / 256, 65536));
    if (dtype == DType::bf16)
        fillKernel<<<blocks, 256, 0, stream>>>(static_cast<__nv_bfloat16*>(dst), n, seed, amplitude);
    else
        fillKernel<<<blocks, 256, 0, stream>>>(static_cast<__half*>(dst), n, seed, amplitude);
    detail::checkLaunch("fill_random", "fillKernel");
}

} // namespace blocklens::kernels
