#pragma once
// RoPE re-encoding of cached keys: rotate the keys of many blocks, encoded at their local
// positions, to their global offsets. Plain C++ header (no device code): include it from .cpp.
//
// Rotations compose (R(a) R(b) = R(a + b)), so a key encoded at position p becomes the key encoded
// at p + delta by one more rotation by delta * inv_freq[i]; the launcher takes one delta per block.
// Layout: Hugging Face rotate_half (dimension i pairs with i + head_dim/2), the same as
// kernels/reference/rope.hpp. Storage bf16 or fp16; the angle delta * inv_freq[i] in fp64 (exact
// enough at any offset), cos/sin and the rotation in fp32, rounded once to the storage type.
//
// Memory-bound: one read and one write of every rotated row, 16-byte accesses when the head_dim is
// a multiple of 16 and rows are 16-byte aligned (else a scalar path).
#include "kernels_common.hpp"

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace blocklens::kernels {

// One block: `length` token rows starting at `src_start` of the source are rotated by `delta`
// positions and written to rows starting at `dst_start` of the destination (in place: equal starts
// and src == dst).
struct RopeBlock {
    std::int32_t src_start = 0; // first source token row
    std::int32_t dst_start = 0; // first destination token row
    std::int32_t length = 0;    // tokens in the block (0 is allowed and does nothing)
    std::int32_t delta = 0;     // positions to add: new offset - position the key was encoded at
};

struct RopeReencodeParams {
    // Element (layer l, head h, token t, dim i) of src is at
    //   src + l * src_layer_stride + h * src_head_stride + t * src_token_stride + i   (in elements);
    // likewise for dst. The last dimension (head_dim) is contiguous. For the engine's cache
    // k [layers, kv_heads, n, head_dim]: layer_stride = kv_heads*n*head_dim, head_stride =
    // n*head_dim, token_stride = head_dim.
    const void* src = nullptr;       // device, storage `dtype`
    void* dst = nullptr;             // device; == src for in place; otherwise must not overlap src
    DType dtype = DType::bf16;
    int n_layers = 1;                // >= 1
    int n_heads = 1;                 // KV heads, >= 1
    int head_dim = 128;              // even, <= 256
    std::int64_t src_layer_stride = 0; // elements between layers of src
    std::int64_t src_head_stride = 0;  // elements between heads of src
    std::int64_t src_token_stride = 0; // elements between tokens of src
    std::int64_t dst_layer_stride = 0; // elements between layers of dst
    std::int64_t dst_head_stride = 0;  // elements between heads of dst
    std::int64_t dst_token_stride = 0; // elements between tokens of dst

    const RopeBlock* blocks = nullptr; // HOST array [n_blocks]
    int n_blocks = 0;                  // any number; launched in batches of 256 blocks
    const float* inv_freq = nullptr;   // HOST array [head_dim/2] (ref::ropeInvFreq, or the model's)
    Impl impl = Impl::automatic;       // fast = 16-byte vectors (needs head_dim % 16 == 0, aligned rows)
};

// Enqueues the re-encoding on `stream`. Throws KernelError on invalid parameters or launch errors.
void rope_reencode_cuda(const RopeReencodeParams& params, cudaStream_t stream);

// The placement of cached blocks into a run's buffers in one launch (the engine's block-cached
// assembly): each block's keys rotated by its delta into k_dst (as rope_reencode) and its values
// copied unchanged into v_dst, at rows [dst_start, dst_start + length). Every block has its own
// source arrays (a cache entry each), contiguous [n_layers, n_heads, length, head_dim].
struct PlaceBlock {
    const void* k = nullptr;    // device, contiguous [n_layers, n_heads, length, head_dim]
    const void* v = nullptr;    // device, the same shape
    std::int32_t dst_start = 0; // first destination token row
    std::int32_t length = 0;    // tokens (0 does nothing)
    std::int32_t delta = 0;     // positions the keys are rotated by
};

struct PlaceBlocksParams {
    // Element (layer l, head h, token t, dim i) of k_dst (and of v_dst, same strides) is at
    // l * dst_layer_stride + h * dst_head_stride + t * dst_token_stride + i.
    void* k_dst = nullptr;
    void* v_dst = nullptr;
    DType dtype = DType::bf16;
    int n_layers = 1;
    int n_heads = 1;
    int head_dim = 128;                // multiple of 16, <= 256 (16-byte accesses)
    std::int64_t dst_layer_stride = 0; // elements
    std::int64_t dst_head_stride = 0;
    std::int64_t dst_token_stride = 0;
    int dst_tokens = 0;                // token rows of the destinations (every block must fit)
    const PlaceBlock* blocks = nullptr; // HOST array [n_blocks]; sources 16-byte aligned, never overlapping the destinations
    int n_blocks = 0;                   // any number; launched in batches of 64 blocks
    const float* inv_freq = nullptr;    // HOST array [head_dim/2]
};

// Enqueues the placement on `stream`: one launch per 64 blocks. Throws KernelError on invalid
// parameters or launch errors.
void place_blocks_cuda(const PlaceBlocksParams& params, cudaStream_t stream);

} // namespace blocklens::kernels
