#pragma once
// The engine's own pool of large host buffers, libtorch's CPU allocator once a model is loaded.
//
// Why (issue 18): every forward pass on the CPU allocates and frees the same score, activation and
// MLP buffers (MBs each) layer after layer and pass after pass. Through glibc's malloc a buffer
// above its (moving) mmap threshold is mapped fresh and unmapped when freed, and the top of the heap
// goes back to the system once enough of it is free, so a pass kept faulting in fresh pages (up to
// 18,000 per run; in the sandboxed dev VM a fault costs far more than the CPU time it shows), and
// how many depended on what ran before: recompute-frac cost 1.1-1.5x its FLOPs. Fixing glibc's
// thresholds instead (mallopt) kept the pages but let the heap fragment: a 12,000-token run's peak
// address space grew past test_capture_memory's limit.
//
// The pool keeps freed buffers of kMinPooledBytes and more mapped (their pages stay faulted in) and
// hands them out again: the smallest cached buffer that fits, if at most twice the size asked for
// (a pass asks for the same sizes layer after layer, a pass of another length for sizes near
// them), else a fresh mapping. Its bound: the pool's mapped bytes (buffers in use + cached) stay
// within the most bytes its buffers in use ever held at once plus 1/kPeakSlack of that: before
// mapping more it unmaps the cached buffers freed longest ago. Idle, it holds at most
// kMaxCachedBytes. Smaller buffers go to libtorch's default allocation. The attention's score
// chunks, whose sizes change chunk by chunk, share one buffer: per forward pass in fp32
// (torch/cpu_attention.hpp, kept in AttentionCache), per call otherwise (torch/score_buffer.hpp),
// so that a pass's sizes repeat. Not installed under AddressSanitizer (whose allocator must see
// every buffer to find overflows) nor off Linux.
#include <cstdint>

namespace blocklens::engine {

inline constexpr std::uint64_t kMinPooledBytes = std::uint64_t(128) << 10; // glibc maps fresh pages from 128 KiB up (M_MMAP_THRESHOLD)
inline constexpr std::uint64_t kMaxCachedBytes = std::uint64_t(128) << 20;
// The pool's mapped bytes stay within the peak in use plus 1/kPeakSlack of it. Without slack a pass
// whose buffers in use come close to its peak twice per layer (attention, then the MLP) unmapped
// the previous layer's largest buffer before it was asked for again: a fresh MLP buffer per layer.
inline constexpr std::uint64_t kPeakSlack = 4;

// Installs the pool as libtorch's CPU allocator, once per process (later calls do nothing); called
// when a model is loaded. Tensors allocated before keep their own deleter. Returns whether the pool
// is installed.
bool reuseHostBuffers();

// What the pool holds now and has done since it was installed (all zero when it is not).
struct HostBufferStats {
    std::uint64_t liveBytes = 0;     // mapped for buffers in use
    std::uint64_t cachedBytes = 0;   // mapped for freed buffers kept for reuse
    std::uint64_t peakLiveBytes = 0; // the most liveBytes ever: liveBytes + cachedBytes stay within it + 1/kPeakSlack
    std::uint64_t freshBytes = 0;    // mapped fresh from the system (new pages), in total
    std::uint64_t reusedBytes = 0;   // handed out again from cached buffers, in total
};
HostBufferStats hostBufferStats();

} // namespace blocklens::engine
