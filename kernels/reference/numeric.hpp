#pragma once
// Plain C++ helpers shared by the CPU references, the tests and the benchmarks: 16-bit float
// storage formats converted bit by bit (round to nearest even, as the CUDA intrinsics do), and the
// relative error the kernel tests use. No CUDA, no Qt.
#include <cstddef>
#include <cstdint>
#include <span>

namespace blocklens::kernels::ref {

// bfloat16: the top 16 bits of an IEEE float.
float bf16ToFloat(std::uint16_t bits);
std::uint16_t floatToBf16(float value); // round to nearest even; NaN stays NaN

// IEEE half (fp16).
float f16ToFloat(std::uint16_t bits);
std::uint16_t floatToF16(float value); // round to nearest even, overflow to inf, subnormals kept

// ||out - ref|| / ||ref|| (2-norms, in double). Returns +inf when out holds a NaN or an infinity, or
// when the sizes differ; 0 when both are all zero.
double relativeError(std::span<const double> out, std::span<const double> ref);

// How many values are NaN or infinite.
std::size_t countNonFinite(std::span<const double> values);

} // namespace blocklens::kernels::ref
