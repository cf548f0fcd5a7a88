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
    invFreqFloat_.assign(p, p + invFreq.numel());
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

at::Tensor Rope::applySwapped(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& signedSin)
{
    // x [heads, n, d]; swapped [heads, n, d] = (x2, x1); cos/signedSin [n, d] broadcast over heads
    const auto half = x.size(-1) / 2;
    const at::Tensor swapped = x.unflatten(-1, {2, half}).flip({-2}).flatten(-2);
    at::Tensor out = x * cos.unsqueeze(0);
    out.addcmul_(swapped, signedSin.unsqueeze(0));
    return out;
}

at::Tensor Rope::signedSin(const at::Tensor& sin)
{
    const auto half = sin.size(-1) / 2;
    return at::cat({-sin.narrow(-1, 0, half), sin.narrow(-1, half, half)}, -1);
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

std::pair<at::Tensor, at::Tensor> Rope::shiftTables(const std::vector<std::int64_t>& deltas, at::ScalarType dtype,
                                                    const at::Device& device) const
{
    const std::size_t half = invFreqHost_.size();
    std::vector<double> table(2 * deltas.size() * half); // [2, deltas, half]
    for (std::size_t b = 0; b < deltas.size(); ++b)
        for (std::size_t i = 0; i < half; ++i) {
            const double angle = static_cast<double>(deltas[b]) * invFreqHost_[i];
            table[b * half + i] = std::cos(angle);
            table[(deltas.size() + b) * half + i] = std::sin(angle);
        }
    const at::Tensor t = at::tensor(table, at::TensorOptions().dtype(at::kDouble))
                             .view({2, static_cast<std::int64_t>(deltas.size()), static_cast<std::int64_t>(half)})
                             .to(at::TensorOptions().dtype(dtype).device(device));
    return {t.select(0, 0), t.select(0, 1)};
}

void Rope::placeShifted(at::Tensor dst, const at::Tensor& src, const at::Tensor& cosRow, const at::Tensor& sinRow)
{
    // (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin): rotate_half form, halves of head_dim.
    const std::int64_t half = src.size(-1) / 2;
    const at::Tensor x1 = src.narrow(-1, 0, half), x2 = src.narrow(-1, half, half);
    at::Tensor d1 = dst.narrow(-1, 0, half), d2 = dst.narrow(-1, half, half);
    at::mul_out(d1, x1, cosRow);
    d1.addcmul_(x2, sinRow, -1);
    at::mul_out(d2, x2, cosRow);
    d2.addcmul_(x1, sinRow, 1);
}

} // namespace blocklens::engine::detail
