#include "reference/rope.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace blocklens::kernels::ref {

std::vector<float> ropeInvFreq(int headDim, double theta, const RopeScaling& s)
{
    if (headDim <= 0 || headDim % 2 != 0)
        throw std::invalid_argument("RoPE: head_dim must be positive and even, got " + std::to_string(headDim));
    if (!(theta > 1.0))
        throw std::invalid_argument("RoPE: rope_theta must be > 1, got " + std::to_string(theta));
    const int half = headDim / 2;
    std::vector<float> out(static_cast<std::size_t>(half));
    for (int i = 0; i < half; ++i) {
        // transformers: exponent = arange(0, dim, 2).float() / dim, inv_freq = 1 / base**exponent (fp32)
        const float exponent = static_cast<float>(2 * i) / static_cast<float>(headDim);
        double f = static_cast<float>(1.0 / std::pow(theta, static_cast<double>(exponent)));
        if (s.type == "default" || s.type.empty()) {
            // nothing
        } else if (s.type == "linear") {
            f /= s.factor;
        } else if (s.type == "llama3") {
            // transformers' _compute_llama3_parameters
            const double lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
            const double highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
            const double wavelen = 2.0 * std::numbers::pi / f;
            double scaled = wavelen > lowFreqWavelen ? f / s.factor : f;
            const bool medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                const double smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
                scaled = (1.0 - smooth) * scaled / s.factor + smooth * scaled;
            }
            f = scaled;
        } else {
            throw std::invalid_argument("RoPE: unsupported rope_type '" + s.type + "' (default, linear, llama3)");
        }
        out[static_cast<std::size_t>(i)] = static_cast<float>(f);
    }
    return out;
}

void ropeRotate(std::span<double> row, std::span<const float> invFreq, double position)
{
    const std::size_t half = row.size() / 2;
    if (invFreq.size() != half)
        throw std::invalid_argument("ropeRotate: inv_freq must have head_dim/2 entries");
    for (std::size_t i = 0; i < half; ++i) {
        const double a = position * static_cast<double>(invFreq[i]);
        const double c = std::cos(a), s = std::sin(a);
        const double x1 = row[i], x2 = row[i + half];
        row[i] = x1 * c - x2 * s;
        row[i + half] = x2 * c + x1 * s;
    }
}

void ropeReencodeRef(std::span<const double> src, std::int64_t srcTokens, std::span<double> dst,
                     std::int64_t dstTokens, std::int64_t outer, int headDim,
                     std::span<const RopeBlockRef> blocks, std::span<const float> invFreq)
{
    const auto d = static_cast<std::size_t>(headDim);
    if (src.size() != static_cast<std::size_t>(outer * srcTokens) * d || dst.size() != static_cast<std::size_t>(outer * dstTokens) * d)
        throw std::invalid_argument("ropeReencodeRef: array sizes do not match the shape");
    std::vector<double> row(d);
    for (const RopeBlockRef& b : blocks) {
        if (b.srcStart < 0 || b.dstStart < 0 || b.length < 0 || b.srcStart + b.length > srcTokens || b.dstStart + b.length > dstTokens)
            throw std::invalid_argument("ropeReencodeRef: block out of range");
        for (std::int64_t o = 0; o < outer; ++o) {
            for (std::int64_t t = 0; t < b.length; ++t) {
                const double* s = src.data() + static_cast<std::size_t>((o * srcTokens + b.srcStart + t)) * d;
                row.assign(s, s + d);
                ropeRotate(row, invFreq, static_cast<double>(b.delta));
                double* out = dst.data() + static_cast<std::size_t>((o * dstTokens + b.dstStart + t)) * d;
                std::copy(row.begin(), row.end(), out);
            }
        }
    }
}

} // namespace blocklens::kernels::ref
