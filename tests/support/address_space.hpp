#pragma once
// This process's peak address space (VmPeak in /proc/self/status), for the memory-limit tests
// that run a command or a view in a child under RLIMIT_AS (label memory).
#include <cstdint>
#include <fstream>
#include <string>

namespace blocklens::test {

// Bytes; 0 where /proc is not there.
inline std::uint64_t peakAddressSpace()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmPeak:", 0) == 0)
            return std::stoull(line.substr(7)) * 1024;
    return 0;
}

} // namespace blocklens::test
