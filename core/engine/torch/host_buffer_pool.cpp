// The engine's pool of large host buffers (engine/host_memory.hpp says why and what it bounds).
#include "engine/host_memory.hpp"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <algorithm>
#include <mutex>
#include <map>
#include <unordered_map>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define BLOCKLENS_HOST_POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BLOCKLENS_HOST_POOL_OFF 1
#endif
#endif
#if !defined(__linux__)
#define BLOCKLENS_HOST_POOL_OFF 1
#endif

namespace blocklens::engine {

#if !defined(BLOCKLENS_HOST_POOL_OFF)
namespace {

// c10::Allocator::allocate() lost its const in PyTorch 2.3, when copy_data() came (libtorch 1.13
// here, 2.11 on the GPU machine).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define BLOCKLENS_ALLOCATE_CONST
#else
#define BLOCKLENS_ALLOCATE_CONST const
#endif

class HostBufferPool final : public c10::Allocator {
public:
    c10::DataPtr allocate(std::size_t n) BLOCKLENS_ALLOCATE_CONST override
    {
        // Small buffers are libtorch's own, freed without the pool's lock (most tensors are small).
        if (n < kMinPooledBytes) {
            void* p = c10::alloc_cpu(n);
            return {p, p, &c10::free_cpu, c10::Device(c10::DeviceType::CPU)};
        }
        void* p = instance().take(n);
        return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
    }

    c10::DeleterFnPtr raw_deleter() const override { return &release; }

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
    void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#endif

    static HostBufferPool& instance()
    {
        // Never destroyed: tensors may be freed during static destruction.
        static auto* pool = new HostBufferPool;
        return *pool;
    }

    HostBufferStats stats() const
    {
        const std::lock_guard lock(mutex_);
        return stats_;
    }

private:
    struct Cached {
        void* ptr;
        std::uint64_t freedAt; // a counter: the smallest was freed longest ago
    };

    static std::uint64_t pageBytes()
    {
        static const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
        return page;
    }

    static void release(void* p)
    {
        if (p && instance().give(p))
            return;
        c10::free_cpu(p);
    }

    // Buffer for n bytes (n >= kMinPooledBytes).
    void* take(std::size_t n)
    {
        const std::uint64_t page = pageBytes();
        const std::uint64_t bytes = (static_cast<std::uint64_t>(n) + page - 1) / page * page;
        const std::lock_guard lock(mutex_);
        std::uint64_t held = bytes;
        void* p = nullptr;
        // The smallest cached buffer that fits, unless it is more than twice as large: a pass asks
        // for the same sizes layer after layer, and a pass of another length for sizes near them.
        if (const auto fit = cached_.lower_bound(bytes); fit != cached_.end() && fit->first <= 2 * bytes) {
            p = fit->second.ptr;
            held = fit->first;
            cached_.erase(fit);
            stats_.cachedBytes -= held;
            stats_.reusedBytes += held;
        } else {
            // Fresh pages: first unmap what was freed longest ago until the pool stays within the
            // peak that this buffer sets, then, if the system still refuses, everything cached.
            evictUntil(allowedBytes(std::max(stats_.peakLiveBytes, stats_.liveBytes + bytes)) - bytes);
            p = mapFresh(bytes);
            if (!p) {
                evictUntil(0);
                p = mapFresh(bytes);
            }
            // The default allocator's wording, which the runner turns into "out of memory".
            TORCH_CHECK(p, "HostBufferPool: not enough memory: you tried to allocate ", n, " bytes.");
            stats_.freshBytes += bytes;
        }
        live_.emplace(p, held);
        stats_.liveBytes += held;
        stats_.peakLiveBytes = std::max(stats_.peakLiveBytes, stats_.liveBytes);
        return p;
    }

    // Whether p is the pool's; if so it is cached (or unmapped beyond kMaxCachedBytes).
    bool give(void* p)
    {
        const std::lock_guard lock(mutex_);
        const auto it = live_.find(p);
        if (it == live_.end())
            return false;
        const std::uint64_t bytes = it->second;
        live_.erase(it);
        stats_.liveBytes -= bytes;
        cached_.emplace(bytes, Cached{p, ++freedCount_});
        stats_.cachedBytes += bytes;
        while (stats_.cachedBytes > kMaxCachedBytes)
            evictOldest();
        return true;
    }

    // What the pool may hold for a peak in use (engine/host_memory.hpp: kPeakSlack).
    static std::uint64_t allowedBytes(std::uint64_t peak) { return peak + peak / kPeakSlack; }

    // Unmaps the cached buffers freed longest ago until cached bytes + bytes in use <= total.
    void evictUntil(std::uint64_t total)
    {
        while (!cached_.empty() && stats_.liveBytes + stats_.cachedBytes > total)
            evictOldest();
    }

    void evictOldest()
    {
        const auto it = std::min_element(cached_.begin(), cached_.end(),
                                         [](const auto& a, const auto& b) { return a.second.freedAt < b.second.freedAt; });
        munmap(it->second.ptr, it->first);
        stats_.cachedBytes -= it->first;
        cached_.erase(it);
    }

    static void* mapFresh(std::uint64_t bytes)
    {
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? nullptr : p;
    }

    mutable std::mutex mutex_;
    std::unordered_map<void*, std::uint64_t> live_; // buffer -> its mapped bytes
    std::multimap<std::uint64_t, Cached> cached_;     // by mapped bytes
    std::uint64_t freedCount_ = 0;
    HostBufferStats stats_;
};

} // namespace

bool reuseHostBuffers()
{
    static const bool installed = [] {
        c10::SetCPUAllocator(&HostBufferPool::instance(), /*priority=*/1);
        return c10::GetCPUAllocator() == &HostBufferPool::instance();
    }();
    return installed;
}

HostBufferStats hostBufferStats() { return HostBufferPool::instance().stats(); } // zeros until installed

#else

bool reuseHostBuffers() { return false; }

HostBufferStats hostBufferStats() { return {}; }

#endif

} // namespace blocklens::engine
