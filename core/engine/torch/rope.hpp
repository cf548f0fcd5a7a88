#pragma once
// Rotary position embeddings as Hugging Face Llama computes them (rotate_half form: dimension i
// is paired with i + head_dim/2), with the default, linear and llama3 frequency schedules.
//
// Rotations compose: a key rotated for position p and then by `delta` equals the key rotated for
// p + delta, up to rounding. shift() is how block-cached KV computed at positions 0..len-1 is moved
// to its real offset.
#include "engine/model_config.hpp"
#include "engine/torch/common.hpp"

namespace blocklens::engine::detail {

class Rope {
public:
    Rope(const RopeConfig& config, std::int64_t headDim, const at::Device& device);

    const at::Tensor& invFreq() const { return invFreq_; } // [head_dim/2] fp32

    // cos, sin [n, head_dim] in `dtype`, for positions [n] (int64), angles computed in fp32 as HF does.
    std::pair<at::Tensor, at::Tensor> cosSin(const at::Tensor& positions, at::ScalarType dtype) const;

    // x [heads, n, head_dim] -> x * cos + rotate_half(x) * sin, in x's dtype.
    static at::Tensor apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

    // The same rotation in three kernels (for launch-bound GPU steps): with
    // signedSin = (-sin[:half], sin[half:]) (see signedSin), rotate_half(x) * sin equals
    // swap_halves(x) * signedSin, so x * cos + that is one flip, one multiply and one addcmul_.
    // Products are the same; the final add is fused (one rounding instead of two in bf16).
    static at::Tensor applySwapped(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& signedSin);
    // sin [n, head_dim] -> (-sin[:, :half], sin[:, half:])
    static at::Tensor signedSin(const at::Tensor& sin);

    // k [kv_heads, n, head_dim] rotated for positions p -> rotated for p + delta. The angle is
    // computed in double and the rotation in fp32, then cast back to k's dtype.
    at::Tensor shift(const at::Tensor& k, std::int64_t delta) const;

    // Rotation tables for several offsets at once: cos, sin [deltas, head_dim/2] (angles in fp64),
    // in `dtype` on `device` (one host-to-device copy).
    std::pair<at::Tensor, at::Tensor> shiftTables(const std::vector<std::int64_t>& deltas, at::ScalarType dtype,
                                                  const at::Device& device) const;

    // dst = src rotated further by one offset, written straight into dst (e.g. the run's K buffer):
    // src/dst [..., head_dim] of one shape, cosRow/sinRow [head_dim/2] (a row of shiftTables).
    // Four kernels whatever the size: the cached block is read twice and never copied first.
    static void placeShifted(at::Tensor dst, const at::Tensor& src, const at::Tensor& cosRow, const at::Tensor& sinRow);

    // The frequencies as fp32 values on the host (what the kernels' rope_reencode takes).
    const std::vector<float>& invFreqFloat() const { return invFreqFloat_; }

private:
    at::Tensor invFreq_;
    std::vector<float> invFreqFloat_;
    std::vector<double> invFreqHost_; // the same values, for shift()
    std::int64_t headDim_;
};

} // namespace blocklens::engine::detail
