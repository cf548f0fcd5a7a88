#pragma once
// Freed host memory kept for the next pass instead of handed back to the system.
//
// Why: glibc's malloc serves a buffer above its mmap threshold (moving, up to 32 MiB) with fresh
// pages and unmaps it when freed, and gives the top of the heap back once more than its trim
// threshold is free there. Every forward pass on the CPU allocates and frees the same score,
// activation and MLP buffers (MBs each) layer after layer, so under the defaults a pass keeps
// faulting in fresh pages: in the sandboxed dev VM a page fault costs far more than the CPU time it
// shows, and how many a pass pays depends on what ran before it (issue 18: the first layer of a
// full prefill took twice as long as the others; recompute-frac's probe layer, run after a block-
// cached assembly that allocates little, paid the same, so the variant cost more than its FLOPs).
// With the thresholds fixed, buffers up to 32 MiB come from the heap and stay there between
// passes: each pass reuses memory already faulted in. The price: up to kKeptFreeBytes of freed
// heap stay resident after a run (larger buffers, e.g. a long document's activations, are still
// mapped and unmapped as before), and heap memory freed in pieces cannot hold a larger buffer
// later, so a long run's peak address space grows: with it on by default, test_capture_memory's
// 12,000-token run no longer fit its address-space limit (also with 8 MiB / 64 MiB). So it is
// opt-in, BLOCKLENS_KEEP_HOST_MEMORY=1, until the engine reuses its own buffers instead.
#include <cstdint>

namespace blocklens::engine {

inline constexpr std::uint64_t kKeptFreeBytes = std::uint64_t(256) << 20;

// Fixes malloc's mmap threshold at 32 MiB and its trim threshold at kKeptFreeBytes, once per
// process (later calls do nothing), when BLOCKLENS_KEEP_HOST_MEMORY=1 is in the environment.
// Called when a model is loaded. No effect where malloc is not glibc's. Returns whether the
// thresholds are (now) fixed.
bool keepFreedHostMemory();

} // namespace blocklens::engine
