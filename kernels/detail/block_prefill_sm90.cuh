#pragma once
// The Hopper kernel of the block-attention prefill (block_prefill_sm90.cu, built for sm_90a only),
// called by block_prefill_cuda when the device is compute capability 9.0.
#include "detail/prefill_plan.cuh"

#include <cuda_runtime_api.h>

namespace blocklens::kernels::detail {

// Query rows per work item of the Hopper kernel (two consumer warpgroups of 64 rows) and keys per
// pipeline stage: the plan (split-KV chunks, partial layout) is made for these.
inline constexpr int kSm90Rows = 128;
inline constexpr int kSm90Keys = 128;

// True when the current device can run the kernel (compute capability 9.0).
bool block_prefill_sm90_supported();

// Enqueues the kernel over the work list of `a` (a.br must be kSm90Rows). `counter`: 4 bytes of
// device memory for dynamic work distribution (reset here on `stream`), or null for a static
// round-robin order. Throws KernelError on launch errors.
void block_prefill_sm90(const PrefillArgs& a, const BlockStarts& bs, const LocalTiles& lt, unsigned* counter, cudaStream_t stream);

} // namespace blocklens::kernels::detail
