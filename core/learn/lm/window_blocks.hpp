#pragma once
// The attention layout of one training window: where its blocks start. One block is ordinary
// causal attention; several are the engine's `block` mode (runner.hpp): each block attends
// causally within itself, the last block to the whole window, positions the window's own
// (0..T-1). With sink tokens, every block but the first and the last also attends to the window's
// first `sinkTokens` tokens (the document's start, BOS first).
#include <cstdint>
#include <vector>

namespace blocklens::lm {

struct WindowBlocks {
    std::vector<std::int64_t> starts{0}; // ascending, first 0, each < the window length
    std::int64_t sinkTokens = 0;         // at most the first block's length

    bool full() const { return starts.size() <= 1; }
};

} // namespace blocklens::lm
