#include "engine/dtype.hpp"

#include <bit>
#include <cmath>
#include <string>

namespace blocklens::engine {

std::string_view toString(DType dtype)
{
    switch (dtype) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    }
    return "?";
}

std::string_view safetensorsName(DType dtype)
{
    switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    }
    return "?";
}

std::string_view torchName(DType dtype)
{
    switch (dtype) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    }
    return "?";
}

std::size_t byteSize(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

std::optional<DType> parseDType(std::string_view name)
{
    std::string s;
    for (char c : name)
        s += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (s == "f32" || s == "fp32" || s == "float32" || s == "float" || s == "torch.float32")
        return DType::F32;
    if (s == "f16" || s == "fp16" || s == "float16" || s == "half" || s == "torch.float16")
        return DType::F16;
    if (s == "bf16" || s == "bfloat16" || s == "torch.bfloat16")
        return DType::BF16;
    return std::nullopt;
}

float bf16ToFloat(std::uint16_t bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }

std::uint16_t floatToBf16(float value)
{
    const auto u = std::bit_cast<std::uint32_t>(value);
    if (std::isnan(value))
        return static_cast<std::uint16_t>((u >> 16) | 0x40);
    const std::uint32_t rounding = 0x7FFF + ((u >> 16) & 1);
    return static_cast<std::uint16_t>((u + rounding) >> 16);
}

float f16ToFloat(std::uint16_t h)
{
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1F;
    std::uint32_t mant = h & 0x3FF;
    std::uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { // subnormal: normalise
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400) == 0);
            bits = sign | static_cast<std::uint32_t>(127 - 15 - e) << 23 | (mant & 0x3FF) << 13;
        }
    } else if (exp == 0x1F) {
        bits = sign | 0x7F800000 | mant << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | mant << 13;
    }
    return std::bit_cast<float>(bits);
}

std::uint16_t floatToF16(float value)
{
    const auto u = std::bit_cast<std::uint32_t>(value);
    const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000);
    if (std::isnan(value))
        return sign | 0x7E00;
    const float a = std::fabs(value);
    if (a >= 65520.0f) // rounds to infinity
        return sign | 0x7C00;
    if (a < 6.103515625e-05f) { // subnormal half: multiples of 2^-24, round to nearest even
        const float scaled = a * 16777216.0f; // exact
        return sign | static_cast<std::uint16_t>(std::nearbyint(scaled));
    }
    const std::uint32_t abs = u & 0x7FFFFFFF;
    const std::uint32_t rounded = abs + 0xFFF + ((abs >> 13) & 1);
    const std::uint32_t exp = (rounded >> 23) - 127 + 15;
    return sign | static_cast<std::uint16_t>(exp << 10 | ((rounded >> 13) & 0x3FF));
}

} // namespace blocklens::engine
