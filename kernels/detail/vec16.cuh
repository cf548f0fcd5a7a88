#pragma once
// Eight 16-bit values (bf16 or fp16) in one 16-byte access <-> eight floats: the loads and stores
// of the memory-bound kernels (rope_reencode, rope_apply, silu_mul).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace blocklens::kernels::detail {

template <typename T>
__device__ __forceinline__ float2 toFloat2(std::uint32_t w);
template <>
__device__ __forceinline__ float2 toFloat2<__nv_bfloat16>(std::uint32_t w)
{
    return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&w));
}
template <>
__device__ __forceinline__ float2 toFloat2<__half>(std::uint32_t w)
{
    return __half22float2(*reinterpret_cast<const __half2*>(&w));
}

template <typename T>
__device__ __forceinline__ std::uint32_t fromFloat2(float a, float b);
template <>
__device__ __forceinline__ std::uint32_t fromFloat2<__nv_bfloat16>(float a, float b)
{
    const __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
    return *reinterpret_cast<const std::uint32_t*>(&v);
}
template <>
__device__ __forceinline__ std::uint32_t fromFloat2<__half>(float a, float b)
{
    const __half2 v = __floats2half2_rn(a, b);
    return *reinterpret_cast<const std::uint32_t*>(&v);
}

template <typename T>
__device__ __forceinline__ void unpack8(uint4 r, float (&f)[8])
{
    const std::uint32_t w[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float2 x = toFloat2<T>(w[i]);
        f[2 * i] = x.x;
        f[2 * i + 1] = x.y;
    }
}

template <typename T>
__device__ __forceinline__ uint4 pack8(const float (&f)[8])
{
    return uint4{fromFloat2<T>(f[0], f[1]), fromFloat2<T>(f[2], f[3]), fromFloat2<T>(f[4], f[5]), fromFloat2<T>(f[6], f[7])};
}

__device__ __forceinline__ uint4 load16(const void* p)
{
    return *reinterpret_cast<const uint4*>(p);
}
__device__ __forceinline__ void store16(void* p, uint4 v)
{
    *reinterpret_cast<uint4*>(p) = v;
}

} // namespace blocklens::kernels::detail
