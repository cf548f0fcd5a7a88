#pragma once
// The engine's one door to the project's CUDA kernels (kernels/, issue 6), ARCHITECTURE.md's
// "bridge file": kernels_bridge.cpp is the only file that includes both torch and kernel headers.
// It checks device, dtype, shape and contiguity, takes the current CUDA stream of the tensors'
// device, and calls the `<op>_cuda` launchers.
//
// Built only when the kernels are (BLOCKLENS_WITH_CUDA) and libtorch has CUDA; then
// BLOCKLENS_HAVE_KERNELS_BRIDGE is 1. Callers keep their plain ATen path for every other case
// (the CPU, fp32, shapes the kernels do not take).
#include "engine/torch/common.hpp"

#include <cstdint>
#include <memory>
#include <vector>

#ifndef BLOCKLENS_HAVE_KERNELS_BRIDGE
#define BLOCKLENS_HAVE_KERNELS_BRIDGE 0
#endif

namespace blocklens::engine::detail::bridge {

// True when this build has the bridge (the kernels were compiled in).
constexpr bool available() { return BLOCKLENS_HAVE_KERNELS_BRIDGE != 0; }

#if BLOCKLENS_HAVE_KERNELS_BRIDGE

// Whether ropeShiftInto() takes these tensors: CUDA, bf16 or fp16, head_dim even and <= 256.
bool ropeShiftSupported(const at::Tensor& dst, const at::Tensor& src);

// dst[:, :, dstStart + t, :] = src[:, :, t, :] rotated by `delta` positions (RoPE, rotate_half
// form), for t in 0..len-1. src [layers, kv_heads, len, head_dim] (a cached block's K, encoded at
// positions 0..len-1), dst [layers, kv_heads, capacity, head_dim] (the run's K buffer); both with a
// contiguous last dimension, same dtype and device. invFreq: the model's [head_dim/2] frequencies.
// One launch (rope_reencode_cuda) on the current stream: one read and one write of every row.
void ropeShiftInto(at::Tensor& dst, std::int64_t dstStart, const at::Tensor& src, std::int64_t delta,
                   const std::vector<float>& invFreq);

// One cached block to place (placeBlocks): its K and V [layers, kv_heads, len, head_dim]
// (contiguous, encoded at positions 0..len-1), the first slot of the run's buffer it goes to, and
// the rotation of its keys (from where they were encoded to that slot).
struct PlacedBlock {
    at::Tensor k, v;
    std::int64_t start = 0;
    std::int64_t delta = 0;
};

// Whether placeBlocks() takes these buffers and this block: CUDA bf16/fp16, head_dim a multiple of
// 16, contiguous 16-byte aligned sources of the buffers' dtype, device, layers, heads and head_dim.
bool placeBlocksSupported(const at::Tensor& kDst, const at::Tensor& vDst, const PlacedBlock& block);

// Every block's keys rotated into kDst and its values copied into vDst at slots [start, start +
// len) (kDst/vDst: the run's buffers [layers, kv_heads, capacity, head_dim]): one launch per 64
// blocks (place_blocks_cuda) on the current stream, no host synchronisation.
void placeBlocks(at::Tensor& kDst, at::Tensor& vDst, const std::vector<PlacedBlock>& blocks, const std::vector<float>& invFreq);

// Whether ropeApply() takes x [heads, n, d] with these tables: CUDA bf16/fp16, d a multiple of 16
// up to 256, 16-byte aligned rows; cos/sin contiguous [n, d] of x's dtype.
bool ropeApplySupported(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& signedSin);

// x rotated by RoPE in one kernel (rope_apply_cuda): x * cos + swap_halves(x) * signedSin with
// Rope::signedSin's table. Returns [heads, n, d], a view of [n, heads, d] memory.
at::Tensor ropeApply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& signedSin);

// Whether siluMulInto() takes these: CUDA bf16/fp16 [rows, cols] of one shape, contiguous rows,
// cols a multiple of 8, 16-byte aligned.
bool siluMulSupported(const at::Tensor& gate, const at::Tensor& up, const at::Tensor& out);

// out = silu(gate) * up in one kernel (silu_mul_cuda); out may be gate or up.
void siluMulInto(const at::Tensor& gate, const at::Tensor& up, at::Tensor& out);

// Whether attentionMassInto() takes these tensors: CUDA, bf16, head_dim 128 (the tensor-core
// path), at most kernels' kMaxBlocks blocks.
bool attentionMassSupported(const at::Tensor& q, const at::Tensor& k, std::int64_t blocks);

// mass[h, i, b] = softmax attention mass that query i (head h) puts on the keys of block b under
// full causal attention (attention_mass_cuda; the n x n matrix is never held). q [heads, n, d],
// k [kv_heads, n, d] (strided, last dimension contiguous), blockStarts [blocks + 1] from 0 to n.
// Returns mass [heads, n, blocks] fp32 on q's device.
at::Tensor attentionMass(const at::Tensor& q, const at::Tensor& k, const std::vector<std::int32_t>& blockStarts,
                         double scale);

// Whether blockPrefill() takes these tensors: CUDA bf16, head_dim 128, last dimension contiguous,
// 16-byte aligned rows (the tensor-core kernels), and a block count the kernel's parameters hold.
bool blockPrefillSupported(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, std::int64_t blocks, bool lastBlockGlobal);

// Block-attention prefill in one launch (block_prefill_cuda): block b (tokens [s_b, s_b+1)) attends
// causally to itself; with lastBlockGlobal the last block attends causally to every token.
// q [heads, n, d], k/v [kv_heads, n, d] (strided, last dimension contiguous), blockStarts
// [blocks + 1] from 0 to n. Returns o [heads, n, d], a view of [n, heads, d] memory (so merging the
// heads afterwards costs no copy). Enqueued on the current stream; no host synchronization.
at::Tensor blockPrefill(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<std::int32_t>& blockStarts,
                        bool lastBlockGlobal, double scale);

// Launches of blockPrefill() in this process (tests check that a route really took the kernel).
std::int64_t blockPrefillLaunches();

// A point on the device's current stream, for timing phases without a host synchronization.
class DeviceMark {
public:
    explicit DeviceMark(const at::Device& device); // records now on the current stream
    ~DeviceMark();
    DeviceMark(const DeviceMark&) = delete;
    DeviceMark& operator=(const DeviceMark&) = delete;
    // Milliseconds from `earlier` to this mark; waits for this mark to complete.
    double msSince(const DeviceMark& earlier) const;

private:
    void* event_ = nullptr; // cudaEvent_t
};

#endif

} // namespace blocklens::engine::detail::bridge
