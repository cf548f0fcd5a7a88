#pragma once
// Internal to core/engine: the one header the engine's torch files include for ATen, plus the
// conversions between the engine's plain types and ATen's. Never include this from a public
// engine header (ARCHITECTURE.md: libtorch stays behind pimpl).
#include "engine/dtype.hpp"

#include <ATen/ATen.h>
#include <torch/version.h> // TORCH_VERSION_MAJOR / _MINOR: 1.13 here, 2.x on the GPU machines

#include <string>

// at::scaled_dot_product_attention with a `scale` argument is public from PyTorch 2.1.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define BLOCKLENS_HAVE_SDPA 1
#else
#define BLOCKLENS_HAVE_SDPA 0
#endif

// PyTorch >= 2.5: SDPA's enable_gqa (K/V not repeated per query head) and
// at::_flash_attention_forward with window sizes (causal = bottom-right aligned when there are
// more keys than queries: the last block and decoding).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
#define BLOCKLENS_HAVE_GQA_ATTENTION 1
#else
#define BLOCKLENS_HAVE_GQA_ATTENTION 0
#endif

// PyTorch >= 2.8: at::rms_norm runs one fused kernel on CUDA (_fused_rms_norm).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
#define BLOCKLENS_HAVE_FUSED_RMS_NORM 1
#else
#define BLOCKLENS_HAVE_FUSED_RMS_NORM 0
#endif

namespace blocklens::engine::detail {

inline at::ScalarType scalarType(DType d)
{
    switch (d) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    }
    return at::kFloat;
}

// "cpu", "cuda", "cuda:N" -> a device; Error if CUDA is asked for and this libtorch has none, or
// the index is out of range.
at::Device parseDevice(const std::string& name);

// Blocks until queued work on `device` is done (so timings measure the work, not its launch).
void synchronize(const at::Device& device);

// Free memory on a CUDA device in bytes, where the CUDA runtime can be asked; else 0.
std::uint64_t cudaFreeMemory(const at::Device& device);

} // namespace blocklens::engine::detail
