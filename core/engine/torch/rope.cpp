#include "engine/torch/rope.hpp"

#include <cmath>
#include <numbers>

namespace blocklens::engine::detail {
namespace {

at::Tensor rotateHalf(const at::Tensor& x)
{
    const auto half = x.size(-1) / 2;
    return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

} // namespace

Rope::Rope(const RopeConfig& c, std::int64_t headDim, const at::Device& device) : headDim_(headDim)
{
    // As transformers' _compute_default_rope_parameters, in fp32 on CPU:
    //   inv_freq = 1 / (base ** (arange(0, dim, 2).float() / dim))
    const auto cpu = at::TensorOptions().dtype(at::kFloat);
    at::Tensor exponent = at::arange(0, headDim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / static_cast<double>(headDim);
    // Python's `1.0 / t` is t.reciprocal() * 1.0; mirrored so the bits match.
    at::Tensor invFreq = at::reciprocal(at::pow(c.theta, exponent)) * 1.0; // [head_dim/2]
    if (c.type == "linear") {
        invFreq = invFreq / c.factor;
    } else if (c.type == "llama3") {
        // transformers' _compute_llama3_parameters.
        const double oldContext = static_cast<double>(c.originalMaxPositions);
        const double lowFreqWavelen = oldContext / c.lowFreqFactor;
        const double highFreqWavelen = oldContext / c.highFreqFactor;
        at::Tensor wavelen = at::reciprocal(invFreq) * (2 * std::numbers::pi);
        at::Tensor scaled = at::where(wavelen > lowFreqWavelen, invFreq / c.factor, invFreq);
        at::Tensor smooth = (at::reciprocal(wavelen) * oldContext - c.lowFreqFactor) / (c.highFreqFactor - c.lowFreqFactor);
        at::Tensor smoothed = (1 - smooth) * scaled / c.factor + smooth * scaled;
        at::Tensor medium = at::logical_not(wavelen < highFreqWavelen).logical_and(at::logical_not(wavelen > lowFreqWavelen));
        invFreq = at::where(medium, smoothed, scaled);
    }
    invFreq = invFreq.to(cpu.dtype()).contiguous();
    const float* p = invFreq.data_ptr<float>();
    invFreqHost_.assign(p, p + invFreq.numel());
    invFreq_ = invFreq.to(device);
}

std::pair<at::Tensor, at::Tensor> Rope::cosSin(const at::Tensor& positions, at::ScalarType dtype) const
{
    // freqs [n, head_dim/2] = positions (fp32) x inv_freq (fp32); emb = cat(freqs, freqs) [n, head_dim]
    const at::Tensor freqs = positions.to(at::kFloat).unsqueeze(1) * invFreq_.unsqueeze(0);
    const at::Tensor emb = at::cat({freqs, freqs}, -1);
    return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor Rope::apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin)
{
    // x [heads, n, d]; cos/sin [n, d] broadcast over heads
    return x * cos.unsqueeze(0) + rotateHalf(x) * sin.unsqueeze(0);
}

at::Tensor Rope::shift(const at::Tensor& k, std::int64_t delta) const
{
    if (delta == 0)
        return k;
    std::vector<float> c(static_cast<std::size_t>(headDim_)), s(static_cast<std::size_t>(headDim_));
    const std::size_t half = invFreqHost_.size();
    for (std::size_t i = 0; i < half; ++i) {
        const double angle = static_cast<double>(delta) * invFreqHost_[i];
        c[i] = c[i + half] = static_cast<float>(std::cos(angle));
        s[i] = s[i + half] = static_cast<float>(std::sin(angle));
    }
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    const at::Tensor cos = at::from_blob(c.data(), {headDim_}, opts).to(k.device());
    const at::Tensor sin = at::from_blob(s.data(), {headDim_}, opts).to(k.device());
    const at::Tensor kf = k.to(at::kFloat);
    return (kf * cos + rotateHalf(kf) * sin).to(k.scalar_type());
}

void Rope::shiftInPlace(at::Tensor& k, const at::Tensor& deltas) const
{
    // angles [n, head_dim/2] = deltas x inv_freq in fp64 (exact enough at any offset), then
    // cos/sin [n, head_dim] in fp32.
    const at::Tensor invFreq64 = at::tensor(invFreqHost_, at::TensorOptions().dtype(at::kDouble)).to(k.device());
    const at::Tensor angles = deltas.to(at::kDouble).unsqueeze(1) * invFreq64.unsqueeze(0);
    const at::Tensor cos = at::cat({angles.cos(), angles.cos()}, -1).to(at::kFloat); // [n, head_dim]
    const at::Tensor sin = at::cat({angles.sin(), angles.sin()}, -1).to(at::kFloat);
    // Layer by layer, so the fp32 temporaries stay one layer's size.
    for (std::int64_t l = 0; l < k.size(0); ++l) {
        at::Tensor layer = k.select(0, l);            // [kv_heads, n, head_dim]
        const at::Tensor kf = layer.to(at::kFloat);
        layer.copy_(kf * cos + rotateHalf(kf) * sin);
    }
}

} // namespace blocklens::engine::detail
