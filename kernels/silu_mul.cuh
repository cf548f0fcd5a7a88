#pragma once
// The gated MLP's activation in one pass: out = silu(gate) * up (the engine's forward pass on CUDA
// in bf16/fp16; ATen takes two kernels and a full extra read and write of the [rows, intermediate]
// tensor for the same). silu(x) = x / (1 + exp(-x)); in fp32, rounded once to the storage type.
// Plain C++ header.
#include "kernels_common.hpp"

#include <cstdint>

#include <cuda_runtime_api.h>

namespace blocklens::kernels {

struct SiluMulParams {
    // Row r, column c of gate is at gate + r * gate_row_stride + c (elements); likewise up and out.
    // out may be gate or up (in place); gate and up may be two halves of one row (fused products).
    const void* gate = nullptr;
    const void* up = nullptr;
    void* out = nullptr;
    DType dtype = DType::bf16;
    std::int64_t rows = 0;
    std::int64_t cols = 0;             // multiple of 8 (16-byte accesses)
    std::int64_t gate_row_stride = 0;
    std::int64_t up_row_stride = 0;
    std::int64_t out_row_stride = 0;
};

// Enqueues the activation on `stream`. Throws KernelError on invalid parameters or launch errors.
void silu_mul_cuda(const SiluMulParams& params, cudaStream_t stream);

} // namespace blocklens::kernels
