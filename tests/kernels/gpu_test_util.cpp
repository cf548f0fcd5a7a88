#include "kernels/gpu_test_util.hpp"

#include "reference/numeric.hpp"

namespace blocklens::kernels::testing {

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes)
{
    cudaCheck(cudaMalloc(&ptr_, bytes == 0 ? 16 : bytes), "cudaMalloc");
}

DeviceBuffer::~DeviceBuffer()
{
    if (ptr_)
        cudaFree(ptr_);
}

void DeviceBuffer::upload(const void* host, std::size_t bytes, std::size_t offset)
{
    cudaCheck(cudaMemcpy(static_cast<char*>(ptr_) + offset, host, bytes, cudaMemcpyHostToDevice), "upload");
}

void DeviceBuffer::download(void* host, std::size_t bytes, std::size_t offset) const
{
    cudaCheck(cudaMemcpy(host, static_cast<const char*>(ptr_) + offset, bytes, cudaMemcpyDeviceToHost), "download");
}

void DeviceBuffer::poison()
{
    cudaCheck(cudaMemset(ptr_, 0xff, bytes_), "poison");
}

std::vector<std::uint16_t> randomHalf(std::size_t n, std::mt19937& rng, double scale, DType dtype, std::vector<double>& values)
{
    std::normal_distribution<float> dist(0.f, static_cast<float>(scale));
    std::vector<std::uint16_t> bits(n);
    values.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const float x = dist(rng);
        bits[i] = dtype == DType::bf16 ? ref::floatToBf16(x) : ref::floatToF16(x);
        values[i] = dtype == DType::bf16 ? ref::bf16ToFloat(bits[i]) : ref::f16ToFloat(bits[i]);
    }
    return bits;
}

std::vector<double> halfToDouble(const std::vector<std::uint16_t>& bits, DType dtype)
{
    std::vector<double> out(bits.size());
    for (std::size_t i = 0; i < bits.size(); ++i)
        out[i] = dtype == DType::bf16 ? ref::bf16ToFloat(bits[i]) : ref::f16ToFloat(bits[i]);
    return out;
}

std::vector<std::int32_t> startsOf(const std::vector<int>& lengths)
{
    std::vector<std::int32_t> s{0};
    for (int l : lengths)
        s.push_back(s.back() + l);
    return s;
}

} // namespace blocklens::kernels::testing
