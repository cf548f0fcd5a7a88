#pragma once
// The simple (any head_dim <= 32 * PER_LANE) attention paths of block_prefill.cu and
// attention_mass.cu: one warp per query row, lanes splitting the head dim (dims lane + 32 i).
#include <cuda_bf16.h>

#include <cstdint>

namespace blocklens::kernels::detail {

// A bf16 row's dims lane + 32 i in fp32, 0 past head_dim.
template <int PER_LANE>
__device__ __forceinline__ void loadLaneDims(const __nv_bfloat16* row, int lane, int headDim, float (&v)[PER_LANE])
{
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
        const int c = lane + 32 * i;
        v[i] = c < headDim ? __bfloat162float(row[c]) : 0.f;
    }
}

// q . k for the query held lane-split in qv: each lane's fma chain over its dims, then a
// butterfly sum over the warp (every lane gets the same sum).
template <int PER_LANE>
__device__ __forceinline__ float warpDot(const float (&qv)[PER_LANE], const __nv_bfloat16* kRow, int lane, int headDim)
{
    float d = 0.f;
#pragma unroll
    for (int i = 0; i < PER_LANE; ++i) {
        const int c = lane + 32 * i;
        if (c < headDim)
            d = fmaf(qv[i], __bfloat162float(kRow[c]), d);
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1)
        d += __shfl_xor_sync(0xffffffffu, d, off);
    return d;
}

} // namespace blocklens::kernels::detail
