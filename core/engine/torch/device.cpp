#include "engine/torch/common.hpp"

#include "util/error.hpp"

#include <dlfcn.h>

namespace blocklens::engine::detail {

at::Device parseDevice(const std::string& name)
{
    if (name == "cpu")
        return at::Device(at::kCPU);
    if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
        if (!at::hasCUDA())
            throw Error("CUDA was requested but this build of libtorch (" + std::string(TORCH_VERSION) +
                            ") has no CUDA support or sees no GPU; use --device cpu",
                        {.item = "--device " + name});
        int index = 0;
        if (name.size() > 5) {
            try {
                index = std::stoi(name.substr(5));
            } catch (...) {
                throw Error("device index is not a number", {.item = "--device " + name});
            }
        }
        const auto count = at::detail::getCUDAHooks().getNumGPUs();
        if (index < 0 || index >= count)
            throw Error("no such GPU: " + std::to_string(count) + " visible", {.item = "--device " + name});
        return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw Error("unknown device (expected cpu, cuda or cuda:N)", {.item = "--device " + name});
}

void synchronize(const at::Device& device)
{
    if (device.is_cuda())
        at::detail::getCUDAHooks().deviceSynchronize(device.index());
}

std::uint64_t cudaFreeMemory(const at::Device& device)
{
    // The CUDA runtime is loaded with libtorch_cuda; ask it without compiling against its headers.
    using MemGetInfo = int (*)(std::size_t*, std::size_t*);
    using SetDevice = int (*)(int);
    auto* memGetInfo = reinterpret_cast<MemGetInfo>(::dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
    auto* setDevice = reinterpret_cast<SetDevice>(::dlsym(RTLD_DEFAULT, "cudaSetDevice"));
    if (!device.is_cuda() || !memGetInfo)
        return 0;
    if (setDevice && device.has_index())
        setDevice(device.index());
    std::size_t freeBytes = 0, totalBytes = 0;
    if (memGetInfo(&freeBytes, &totalBytes) != 0)
        return 0;
    return freeBytes;
}

} // namespace blocklens::engine::detail
