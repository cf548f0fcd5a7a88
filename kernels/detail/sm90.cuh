#pragma once
// Hopper (sm_90a) building blocks of block_prefill_sm90.cu: mbarriers, TMA tile loads and warpgroup
// MMA (wgmma). Compiled only for sm_90a (the "a" features: wgmma, setmaxnreg).
//
// Shared-memory tiles are rows of 128 bf16 split into two "column atoms" of 64 elements (128 bytes
// per row), each atom [rows][64] stored with the 128-byte swizzle that TMA writes
// (CU_TENSOR_MAP_SWIZZLE_128B) and wgmma reads (descriptor swizzle mode 1): 16-byte chunk c of
// row r sits at r * 128 + ((c ^ (r % 8)) * 16). Atoms start on 1024-byte boundaries.
//
// wgmma accumulator layout of m64nNk16 (per warp w of the warpgroup, lane = 4 g + t):
//   d[4 j + e]: row 16 w + g + 8 (e / 2), column 8 j + 2 t + (e % 2), j = 0 .. N/8 - 1
// which is the mma.m16n8k16 C layout repeated along N; a register A operand uses the
// mma.m16n8k16 A layout per warp, so an S accumulator converts to P fragments in registers.
#include "detail/device.cuh"

#include <cuda.h> // CUtensorMap

#include <cstdint>

namespace blocklens::kernels::detail::sm90 {

// ---------------------------------------------------------------- mbarrier

__device__ __forceinline__ void mbarInit(std::uint32_t bar, std::uint32_t count)
{
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
// Makes the initialised barriers visible to the async proxy (TMA) before first use.
__device__ __forceinline__ void fenceBarrierInit()
{
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
__device__ __forceinline__ void mbarArrive(std::uint32_t bar)
{
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// Arrives and announces `bytes` of TMA traffic that completes the current phase.
__device__ __forceinline__ void mbarArriveExpectTx(std::uint32_t bar, std::uint32_t bytes)
{
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
// Waits until the phase with the given parity has completed (a fresh barrier counts its
// "previous" phase, parity 1, as complete: producers start by waiting on parity 1).
__device__ __forceinline__ void mbarWait(std::uint32_t bar, std::uint32_t parity)
{
    std::uint32_t done = 0;
    do {
        asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
                     : "=r"(done)
                     : "r"(bar), "r"(parity)
                     : "memory");
    } while (!done);
}

// ---------------------------------------------------------------- TMA

__device__ __forceinline__ void prefetchTensorMap(const CUtensorMap* map)
{
    asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<std::uint64_t>(map)) : "memory");
}
// Box (c0, c1, c2) of a 3-D tensor map into shared memory at dst; completes `bytes` on `bar`.
__device__ __forceinline__ void tmaLoad3d(std::uint32_t dst, const CUtensorMap* map, std::uint32_t bar, int c0, int c1, int c2)
{
    asm volatile("cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5}], [%2];\n"
                 ::"r"(dst), "l"(reinterpret_cast<std::uint64_t>(map)), "r"(bar), "r"(c0), "r"(c1), "r"(c2)
                 : "memory");
}

// Shared -> global box store (bulk async group); the source must have been written before a
// fenceProxyAsync by every writing thread and a barrier.
__device__ __forceinline__ void tmaStore3d(const CUtensorMap* map, std::uint32_t src, int c0, int c1, int c2)
{
    asm volatile("cp.async.bulk.tensor.3d.global.shared::cta.bulk_group [%0, {%2, %3, %4}], [%1];\n"
                 ::"l"(reinterpret_cast<std::uint64_t>(map)), "r"(src), "r"(c0), "r"(c1), "r"(c2)
                 : "memory");
}
__device__ __forceinline__ void fenceProxyAsync()
{
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
__device__ __forceinline__ void bulkCommit()
{
    asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
}
// Waits until the committed stores have read their shared-memory source (READ) or completed.
template <bool READ>
__device__ __forceinline__ void bulkWaitAll()
{
    if constexpr (READ)
        asm volatile("cp.async.bulk.wait_group.read 0;\n" ::: "memory");
    else
        asm volatile("cp.async.bulk.wait_group 0;\n" ::: "memory");
}
__device__ __forceinline__ void storeShared32(std::uint32_t addr, std::uint32_t v)
{
    asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(addr), "r"(v) : "memory");
}

// ---------------------------------------------------------------- registers

// Per-thread register budget of the calling warpgroup (all its threads must call): producers give
// registers up (INCREASE = false), MMA warpgroups take them.
template <int REGS, bool INCREASE>
__device__ __forceinline__ void setMaxRegisters()
{
    if constexpr (INCREASE)
        asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(REGS));
    else
        asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(REGS));
}

// ---------------------------------------------------------------- wgmma

// Shared-memory matrix descriptor, 128-byte swizzle. K-major operands (rows of K-contiguous
// elements: Q, K): lbo unused (16), sbo = 1024 (8 rows of 128 bytes). MN-major operands (V as B
// of P V): lbo = bytes between the 64-element column atoms along N, sbo = 1024 (8 K rows).
__device__ __forceinline__ std::uint64_t descSw128(std::uint32_t smem, std::uint32_t lbo, std::uint32_t sbo)
{
    return static_cast<std::uint64_t>((smem & 0x3FFFF) >> 4) | (static_cast<std::uint64_t>(lbo >> 4) << 16)
           | (static_cast<std::uint64_t>(sbo >> 4) << 32) | (1ull << 62);
}

__device__ __forceinline__ void wgmmaFence()
{
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmmaCommit()
{
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void wgmmaWait()
{
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Pins accumulator registers after a wait so that no read of them moves above it.
template <int N>
__device__ __forceinline__ void fenceRegisters(float (&d)[N])
{
#pragma unroll
    for (int i = 0; i < N; ++i)
        asm volatile("" : "+f"(d[i])::"memory");
}
// Keeps register A operands alive until after the wait of their wgmma: the compiler sees only the
// issue, and would otherwise reuse the registers (for the next P) while the MMA still reads them.
template <int N>
__device__ __forceinline__ void fenceRegisters(std::uint32_t (&a)[N][4])
{
#pragma unroll
    for (int i = 0; i < N; ++i)
#pragma unroll
        for (int e = 0; e < 4; ++e)
            asm volatile("" : "+r"(a[i][e])::"memory");
}

// The 64 accumulator operands of an m64n128 wgmma, d[0..63], each with constraint C ("+f": read
// and written; "=f": written only), and their placeholders %0..%63.
#define BLOCKLENS_WGMMA_D64(C) \
    C(d[0]), C(d[1]), C(d[2]), C(d[3]), C(d[4]), C(d[5]), C(d[6]), C(d[7]), \
    C(d[8]), C(d[9]), C(d[10]), C(d[11]), C(d[12]), C(d[13]), C(d[14]), C(d[15]), \
    C(d[16]), C(d[17]), C(d[18]), C(d[19]), C(d[20]), C(d[21]), C(d[22]), C(d[23]), \
    C(d[24]), C(d[25]), C(d[26]), C(d[27]), C(d[28]), C(d[29]), C(d[30]), C(d[31]), \
    C(d[32]), C(d[33]), C(d[34]), C(d[35]), C(d[36]), C(d[37]), C(d[38]), C(d[39]), \
    C(d[40]), C(d[41]), C(d[42]), C(d[43]), C(d[44]), C(d[45]), C(d[46]), C(d[47]), \
    C(d[48]), C(d[49]), C(d[50]), C(d[51]), C(d[52]), C(d[53]), C(d[54]), C(d[55]), \
    C(d[56]), C(d[57]), C(d[58]), C(d[59]), C(d[60]), C(d[61]), C(d[62]), C(d[63])
#define BLOCKLENS_WGMMA_D64_REGS "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "

// d (+)= A B for a 64 x 128 x 16 step: A (64 x 16) and B (16 x 128, K-major: B^T rows of 16
// contiguous elements) both from shared memory. scaleD = 0 ignores d's old values.
__device__ __forceinline__ void wgmmaSS(float (&d)[64], std::uint64_t descA, std::uint64_t descB, int scaleD)
{
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 " BLOCKLENS_WGMMA_D64_REGS
                 "%64, %65, p, 1, 1, 0, 0;\n}\n"
                 : BLOCKLENS_WGMMA_D64("+f")
                 : "l"(descA), "l"(descB), "r"(scaleD));
}

// d = A B (the first step of a chain: d's old values are neither read nor kept alive, so the
// compiler may reuse its registers between chains), operands as in wgmmaSS.
__device__ __forceinline__ void wgmmaSSFirst(float (&d)[64], std::uint64_t descA, std::uint64_t descB)
{
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 " BLOCKLENS_WGMMA_D64_REGS
                 "%64, %65, p, 1, 1, 0, 0;\n}\n"
                 : BLOCKLENS_WGMMA_D64("=f")
                 : "l"(descA), "l"(descB), "r"(0));
}

// d (+)= A B for a 64 x 128 x 16 step: A (64 x 16 bf16) from registers in the mma.m16n8k16 A layout
// per warp (warp w of the warpgroup: rows 16w..16w+15), B (16 x 128) from shared memory,
// MN-major (rows of 128 contiguous N elements: V as stored), hence imm-trans-b = 1.
__device__ __forceinline__ void wgmmaRS(float (&d)[64], const std::uint32_t (&a)[4], std::uint64_t descB, int scaleD)
{
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 " BLOCKLENS_WGMMA_D64_REGS
                 "{%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
                 : BLOCKLENS_WGMMA_D64("+f")
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB), "r"(scaleD));
}

#undef BLOCKLENS_WGMMA_D64_REGS
#undef BLOCKLENS_WGMMA_D64

} // namespace blocklens::kernels::detail::sm90
