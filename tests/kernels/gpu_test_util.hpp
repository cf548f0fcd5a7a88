#pragma once
// Small host-side helpers for the GPU tests and the benchmark: device buffers, 16-bit random data,
// NaN poisoning. CUDA runtime API only (compiled as plain C++).
#include "kernels_common.hpp"

#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <cuda_runtime_api.h>

namespace blocklens::kernels::testing {

inline void cudaCheck(cudaError_t e, const char* what)
{
    if (e != cudaSuccess)
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t bytes);
    ~DeviceBuffer();
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr; o.bytes_ = 0; }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept
    {
        std::swap(ptr_, o.ptr_);
        std::swap(bytes_, o.bytes_);
        return *this;
    }

    void* get() const { return ptr_; }
    template <typename T>
    T* as() const { return static_cast<T*>(ptr_); }
    std::size_t bytes() const { return bytes_; }

    void upload(const void* host, std::size_t bytes, std::size_t offset = 0);
    void download(void* host, std::size_t bytes, std::size_t offset = 0) const;
    void poison(); // every byte 0xFF: NaN in bf16, fp16 and fp32

private:
    void* ptr_ = nullptr;
    std::size_t bytes_ = 0;
};

// n values ~ N(0, scale^2), rounded to bf16 (or fp16); `values` gets what the device will see.
std::vector<std::uint16_t> randomHalf(std::size_t n, std::mt19937& rng, double scale, DType dtype, std::vector<double>& values);

std::vector<double> halfToDouble(const std::vector<std::uint16_t>& bits, DType dtype);

std::vector<std::int32_t> startsOf(const std::vector<int>& lengths);

} // namespace blocklens::kernels::testing
