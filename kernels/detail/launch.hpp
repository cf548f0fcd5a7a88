#pragma once
// Host-side checks shared by the launchers.
#include "kernels_common.hpp"

#include <cstdint>
#include <string>

#include <cuda_runtime_api.h>

namespace blocklens::kernels::detail {

// Throws KernelError("<op>: <what>") unless ok.
inline void require(bool ok, const char* op, const std::string& what)
{
    if (!ok)
        throw KernelError(std::string(op) + ": " + what);
}

inline void checkCuda(cudaError_t e, const char* op, const char* what)
{
    if (e != cudaSuccess)
        throw KernelError(std::string(op) + ": " + what + ": " + cudaGetErrorString(e));
}

// After a <<<>>> launch: configuration errors surface here (never synchronizes).
inline void checkLaunch(const char* op, const char* kernel)
{
    checkCuda(cudaGetLastError(), op, kernel);
}

inline bool aligned16(const void* p)
{
    return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0;
}

// Block boundaries copied into a kernel argument (by value: no device memory, no host sync).
struct BlockStarts {
    int n_blocks;
    std::int32_t s[kMaxBlocks + 1];
};

// Validates host starts [n_blocks+1] (0 = s_0 < ... < s_nb = n_tokens) and fills `out`.
inline void loadBlockStarts(const char* op, const std::int32_t* starts, int nBlocks, int nTokens, BlockStarts& out)
{
    require(starts != nullptr, op, "block_starts is null");
    require(nBlocks >= 1 && nBlocks <= kMaxBlocks, op,
            "n_blocks must be in 1.." + std::to_string(kMaxBlocks) + ", got " + std::to_string(nBlocks));
    require(starts[0] == 0 && starts[nBlocks] == nTokens, op,
            "block_starts must run from 0 to n_tokens (" + std::to_string(nTokens) + ")");
    out.n_blocks = nBlocks;
    for (int b = 0; b <= nBlocks; ++b) {
        if (b > 0)
            require(starts[b] > starts[b - 1], op, "block_starts must be strictly increasing (block " + std::to_string(b - 1) + " is empty)");
        out.s[b] = starts[b];
    }
}

} // namespace blocklens::kernels::detail
