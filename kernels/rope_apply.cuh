#pragma once
// RoPE applied to freshly projected queries and keys in one pass (the engine's forward pass on
// CUDA in bf16/fp16; ATen takes three kernels and two intermediates for the same). Plain C++ header.
//
// Rotate_half form (dimension i pairs with i + head_dim/2) with the signed sine table of
// engine::detail::Rope::signedSin, sin' = (-sin[:half], sin[half:]):
//   out[i]        = x[i] * cos[i] + x[i + half] * sin'[i]
//   out[i + half] = x[i + half] * cos[i + half] + x[i] * sin'[i + half]
// in fp32, rounded once to the storage type. cos/sin are the per-token tables the engine builds
// (one row per token, storage type). Memory-bound: one read and one write of every row.
#include "kernels_common.hpp"

#include <cstdint>

#include <cuda_runtime_api.h>

namespace blocklens::kernels {

struct RopeApplyParams {
    // Element (head h, token t, dim i) of x is at x + h * x_head_stride + t * x_token_stride + i
    // (in elements); likewise for out. May be in place (out == x with equal strides).
    const void* x = nullptr;
    void* out = nullptr;
    DType dtype = DType::bf16;
    int n_heads = 1;
    int n_tokens = 0;
    int head_dim = 128;                // multiple of 16, <= 256 (16-byte accesses)
    std::int64_t x_head_stride = 0;
    std::int64_t x_token_stride = 0;
    std::int64_t out_head_stride = 0;
    std::int64_t out_token_stride = 0;
    const void* cos = nullptr;         // device [n_tokens, head_dim], storage type, rows contiguous
    const void* sin = nullptr;         // device [n_tokens, head_dim]: the signed sine table
};

// Enqueues the rotation on `stream`. Throws KernelError on invalid parameters or launch errors.
void rope_apply_cuda(const RopeApplyParams& params, cudaStream_t stream);

} // namespace blocklens::kernels
