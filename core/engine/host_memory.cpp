#include "engine/host_memory.hpp"

#include <cstdlib>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace blocklens::engine {

bool keepFreedHostMemory()
{
    static const bool fixed = [] {
        const char* env = std::getenv("BLOCKLENS_KEEP_HOST_MEMORY");
        if (!env || std::string(env) != "1")
            return false;
#if defined(__GLIBC__)
        // 32 MiB is the largest mmap threshold glibc accepts on 64-bit (and the highest its own
        // moving threshold reaches); setting it also stops it moving.
        return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, static_cast<int>(kKeptFreeBytes)) == 1;
#else
        return false;
#endif
    }();
    return fixed;
}

} // namespace blocklens::engine
