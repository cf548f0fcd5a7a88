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

    // k [kv_heads, n, head_dim] rotated for positions p -> rotated for p + delta. The angle is
    // computed in double and the rotation in fp32, then cast back to k's dtype.
    at::Tensor shift(const at::Tensor& k, std::int64_t delta) const;

    // In place: k [layers, kv_heads, n, head_dim], token t rotated further by deltas[t] (int64
    // [n], on k's device). One pass over all blocks of a prefix; angles in fp64, rotation in fp32.
    void shiftInPlace(at::Tensor& k, const at::Tensor& deltas) const;

private:
    at::Tensor invFreq_;
    std::vector<double> invFreqHost_; // the same values, for shift()
    std::int64_t headDim_;
};

} // namespace blocklens::engine::detail
