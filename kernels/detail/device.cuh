#pragma once
// Device helpers shared by the kernels: cp.async, ldmatrix, mma.sync (bf16 m16n8k16, fp32
// accumulators), packing, exp2. sm_80+ instructions, used on sm_90.
//
// Fragment layouts of mma.m16n8k16 (lane = 4 * g + t, g = lane / 4 in 0..7, t = lane % 4):
//   A 16x16 row-major, 4 regs of 2 bf16: a0 (row g, cols 2t,2t+1), a1 (row g+8, same cols),
//                                         a2 (row g, cols 8+2t..), a3 (row g+8, cols 8+2t..)
//   B 16x8 "col" (k x n),  2 regs:        b0 (k 2t,2t+1, col g), b1 (k 8+2t.., col g)
//   C 16x8 fp32, 4 regs:                  c0,c1 (row g, cols 2t,2t+1), c2,c3 (row g+8, same cols)
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace blocklens::kernels::detail {

__device__ __forceinline__ std::uint32_t smemAddr(const void* p)
{
    return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte global -> shared copy; when !valid, writes 16 zero bytes and reads nothing.
__device__ __forceinline__ void cpAsync16(std::uint32_t dst, const void* src, bool valid)
{
    const int bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes) : "memory");
}
__device__ __forceinline__ void cpAsyncCommit()
{
    asm volatile("cp.async.commit_group;\n" ::: "memory");
}
template <int N>
__device__ __forceinline__ void cpAsyncWait()
{
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void ldmatrixX4(std::uint32_t (&r)[4], std::uint32_t addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ void ldmatrixX4Trans(std::uint32_t (&r)[4], std::uint32_t addr)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

// c += a * b (bf16 inputs, fp32 accumulators).
__device__ __forceinline__ void mmaBf16(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats -> bf16x2 (lo in the low half: the element with the smaller column index).
__device__ __forceinline__ std::uint32_t packBf16(float lo, float hi)
{
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const std::uint32_t*>(&v);
}

// 2^x (MUFU.EX2; ex2(-inf) = +0).
__device__ __forceinline__ float exp2Fast(float x)
{
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// Offset (in 16-bit elements) of 16-byte chunk `chunk` of row `row` in a shared tile whose rows
// hold 128 elements (16 chunks), XOR-swizzled so that ldmatrix over 8 consecutive rows at one
// logical chunk hits 8 different bank groups.
__device__ __forceinline__ int swz128(int row, int chunk)
{
    return row * 128 + ((chunk ^ (row & 7)) << 3);
}

} // namespace blocklens::kernels::detail
