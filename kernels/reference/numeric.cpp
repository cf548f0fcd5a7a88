#include "reference/numeric.hpp"

#include <bit>
#include <cmath>
#include <limits>

namespace blocklens::kernels::ref {

float bf16ToFloat(std::uint16_t bits)
{
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

std::uint16_t floatToBf16(float value)
{
    const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
    if (std::isnan(value))
        return static_cast<std::uint16_t>((u >> 16) | 0x40u); // quiet NaN, sign kept
    const std::uint32_t roundingBias = 0x7fffu + ((u >> 16) & 1u);
    return static_cast<std::uint16_t>((u + roundingBias) >> 16);
}

float f16ToFloat(std::uint16_t h)
{
    const std::uint32_t sign = (h & 0x8000u) << 16;
    std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t mant = h & 0x3ffu;
    std::uint32_t u;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | (mant << 13);
    } else if (exp == 0) {
        if (mant == 0) {
            u = sign;
        } else { // subnormal: normalise
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400u) == 0);
            mant &= 0x3ffu;
            u = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | (mant << 13);
        }
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    return std::bit_cast<float>(u);
}

std::uint16_t floatToF16(float value)
{
    const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
    const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
    if (std::isnan(value))
        return static_cast<std::uint16_t>(sign | 0x7e00u);
    const float a = std::fabs(value);
    if (a >= 65520.0f) // rounds to infinity
        return static_cast<std::uint16_t>(sign | 0x7c00u);
    if (a < 6.103515625e-05f) { // subnormal range of fp16: multiples of 2^-24
        const float scaled = a * 16777216.0f; // exact in float
        const auto m = static_cast<std::uint32_t>(std::nearbyint(scaled)); // ties to even (default mode)
        return static_cast<std::uint16_t>(sign | m);
    }
    const std::uint32_t ua = std::bit_cast<std::uint32_t>(a);
    const std::uint32_t exp = (ua >> 23) - 127 + 15;
    std::uint32_t mant = ua & 0x7fffffu;
    std::uint32_t h = (exp << 10) | (mant >> 13);
    const std::uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
        ++h; // may carry into the exponent, which is the right result
    return static_cast<std::uint16_t>(sign | h);
}

double relativeError(std::span<const double> out, std::span<const double> ref)
{
    if (out.size() != ref.size())
        return std::numeric_limits<double>::infinity();
    double num = 0, den = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (!std::isfinite(out[i]))
            return std::numeric_limits<double>::infinity();
        const double d = out[i] - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
    }
    if (den == 0)
        return num == 0 ? 0.0 : std::numeric_limits<double>::infinity();
    return std::sqrt(num / den);
}

std::size_t countNonFinite(std::span<const double> values)
{
    std::size_t n = 0;
    for (double v : values)
        n += std::isfinite(v) ? 0 : 1;
    return n;
}

} // namespace blocklens::kernels::ref
