#pragma once
// Floating-point element types the engine reads, stores and computes in, and the conversions
// between their bit patterns and float (no torch needed).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace blocklens::engine {

enum class DType { F32, F16, BF16 };

std::string_view toString(DType dtype);        // "f32", "f16", "bf16"
std::string_view safetensorsName(DType dtype); // "F32", "F16", "BF16"
std::string_view torchName(DType dtype);       // "float32", "float16", "bfloat16" (config.json)
std::size_t byteSize(DType dtype);

// Accepts f32/fp32/float32/float/F32, f16/fp16/float16/half/F16, bf16/bfloat16/BF16.
std::optional<DType> parseDType(std::string_view name);

float bf16ToFloat(std::uint16_t bits);
float f16ToFloat(std::uint16_t bits);
std::uint16_t floatToBf16(float value); // round to nearest even; NaN stays NaN
std::uint16_t floatToF16(float value);  // round to nearest even; overflow gives +-inf

} // namespace blocklens::engine
