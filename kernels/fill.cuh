#pragma once
// Test and benchmark data on the device: deterministic pseudo-random 16-bit values (never zeros,
// which hide unwritten outputs and run faster than real data). Plain C++ header.
#include "kernels_common.hpp"

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace blocklens::kernels {

// dst[i] = uniform in [-std*sqrt(3), std*sqrt(3)) from a hash of (seed, i), rounded to `dtype`.
void fill_random_cuda(void* dst, DType dtype, std::size_t n, std::uint64_t seed, float std, cudaStream_t stream);

} // namespace blocklens::kernels
