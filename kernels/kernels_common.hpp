#pragma once
// Types shared by the launchers in kernels/ (plain C++, includable without nvcc).
#include <cstdint>
#include <stdexcept>

namespace blocklens::kernels {

// Storage type of 16-bit tensors.
enum class DType : std::int32_t { bf16, f16 };

// Which implementation a launcher runs. `automatic` takes the fastest path the shape, alignment and
// GPU allow (hopper, then fast) and the simple path otherwise; the tests force each. `hopper`
// (wgmma/TMA, compute capability 9.0 only) exists for block_prefill_cuda.
enum class Impl : std::int32_t { automatic, simple, fast, hopper };

// Block boundaries travel by value in the kernel's parameters (no device copy, no host sync), so
// one launch takes at most this many blocks.
inline constexpr int kMaxBlocks = 2048;

// Thrown by launchers for invalid parameters (with a message naming the parameter) and for CUDA
// errors at launch (with cudaGetErrorString). Launchers never synchronize.
class KernelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace blocklens::kernels
