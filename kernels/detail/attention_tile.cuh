#pragma once
// The tensor-core building blocks of the attention kernels (head_dim 128, bf16):
//   a 128-query tile per CTA of 8 warps, each warp owning 16 query rows; key/value tiles of 64 rows
//   in shared memory, XOR-swizzled (detail::swz128), filled by cp.async;
//   S = Q K^T (16 x 64 per warp) and O += P V (16 x 128 per warp) with mma.sync m16n8k16.
// Register fragments of a warp (g = lane / 4, t = lane % 4):
//   qa[kk][4]   Q rows, A fragments for head-dim chunk kk (16 dims)
//   s[nt][4]    S for keys nt*8 + 2t (+1) of the tile: [0],[1] row g, [2],[3] row g + 8
//   o[dt][4]    O for dims dt*8 + 2t (+1): [0],[1] row g, [2],[3] row g + 8
#include "detail/device.cuh"

namespace blocklens::kernels::detail::tile {

constexpr int kD = 128;      // head dim
constexpr int kBr = 128;     // query rows per CTA
constexpr int kBc = 64;      // keys per tile
constexpr int kWarps = 8;    // 16 query rows each
constexpr int kThreads = kWarps * 32;

using bf16 = __nv_bfloat16;

// cp.async ROWS rows [row0, row0 + ROWS) of a strided [*, 128] bf16 matrix into a swizzled shared
// tile, by THREADS threads; rows >= limit are zero-filled (nothing is read for them).
template <int ROWS, int THREADS = kThreads>
__device__ __forceinline__ void loadTile(bf16* sTile, const bf16* base, std::int64_t rowStride, int row0, int limit)
{
    static_assert(ROWS * 16 % THREADS == 0, "whole chunks per thread");
#pragma unroll
    for (int i = 0; i < ROWS * 16 / THREADS; ++i) {
        const int c = static_cast<int>(threadIdx.x) + i * THREADS;
        const int r = c >> 4, ch = c & 15;
        const int row = row0 + r;
        const bool ok = row < limit;
        const bf16* src = base + static_cast<std::int64_t>(ok ? row : 0) * rowStride + ch * 8;
        cpAsync16(smemAddr(sTile + swz128(r, ch)), src, ok);
    }
}

// Q A-fragments of this warp's 16 rows from the swizzled Q tile.
__device__ __forceinline__ void loadQFragments(std::uint32_t (&qa)[8][4], const bf16* sQ, int warp, int lane)
{
#pragma unroll
    for (int kk = 0; kk < 8; ++kk) {
        const int row = warp * 16 + (lane & 15);
        const int ch = kk * 2 + (lane >> 4);
        ldmatrixX4(qa[kk], smemAddr(sQ + swz128(row, ch)));
    }
}

// s = Q K^T for the 64 keys of sK (raw dot products, fp32).
__device__ __forceinline__ void computeScores(float (&s)[8][4], const std::uint32_t (&qa)[8][4], const bf16* sK, int lane)
{
#pragma unroll
    for (int nt = 0; nt < 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e)
            s[nt][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < 8; ++kk) {
#pragma unroll
        for (int np = 0; np < 4; ++np) {
            // matrices: keys np*16+0..7 / dims kk*16+0..7, +8..15; keys np*16+8..15 / same dims
            const int row = np * 16 + (lane & 7) + ((lane >> 4) << 3);
            const int ch = kk * 2 + ((lane >> 3) & 1);
            std::uint32_t b[4];
            ldmatrixX4(b, smemAddr(sK + swz128(row, ch)));
            mmaBf16(s[2 * np], qa[kk], b[0], b[1]);
            mmaBf16(s[2 * np + 1], qa[kk], b[2], b[3]);
        }
    }
}

// o += P V: p holds the probabilities in the layout of s; sV the 64 value rows of the same keys.
__device__ __forceinline__ void accumulatePV(float (&o)[16][4], const float (&p)[8][4], const bf16* sV, int lane)
{
#pragma unroll
    for (int kc = 0; kc < 4; ++kc) {
        const std::uint32_t a[4] = {packBf16(p[2 * kc][0], p[2 * kc][1]), packBf16(p[2 * kc][2], p[2 * kc][3]),
                                    packBf16(p[2 * kc + 1][0], p[2 * kc + 1][1]), packBf16(p[2 * kc + 1][2], p[2 * kc + 1][3])};
#pragma unroll
        for (int dp = 0; dp < 8; ++dp) {
            // matrices (transposed): keys kc*16+0..7 / dims dp*16+0..7; keys +8..15 / same dims;
            // keys +0..7 / dims dp*16+8..15; keys +8..15 / dims +8..15
            const int row = kc * 16 + (lane & 7) + (((lane >> 3) & 1) << 3);
            const int ch = dp * 2 + (lane >> 4);
            std::uint32_t b[4];
            ldmatrixX4Trans(b, smemAddr(sV + swz128(row, ch)));
            mmaBf16(o[2 * dp], a, b[0], b[1]);
            mmaBf16(o[2 * dp + 1], a, b[2], b[3]);
        }
    }
}

// Max and sum over the 4 lanes of a quad (the lanes that share a row).
__device__ __forceinline__ float quadMax(float x)
{
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
    return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
__device__ __forceinline__ float quadSum(float x)
{
    x += __shfl_xor_sync(0xffffffffu, x, 1);
    return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

} // namespace blocklens::kernels::detail::tile
