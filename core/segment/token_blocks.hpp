#pragma once
// From blocks of text to blocks of tokens: the token index where each block starts, as the engine
// takes them (engine::RunRequest::blocks), and a query appended as the last (global) block. Shared
// by `blocklens-cli compare` and the desktop app's side-by-side view so both cut the same way.
#include "segment/segmentation.hpp"
#include "segment/token_grid.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace blocklens::segment {

// Start token of every block that holds at least one token, ascending; the first is 0 (a
// segmentation whose first block is empty still starts at token 0).
std::vector<std::int64_t> tokenBlockStarts(const Segmentation& segmentation);

// The same for cuts given in code points (an annotator's boundaries). The grid must come from the
// tokenizer the ids will be fed with. A cut inside a token moves to that token's start (it belongs
// to the block it starts); cuts that leave a block without tokens are dropped.
std::vector<std::int64_t> tokenBlockStarts(const TokenGrid& grid, std::span<const std::size_t> cuts);

// Appends `query` to `ids` as a new last block (its start pushed onto `blocks`). Empty queries add
// nothing. `blocks` must already describe `ids`.
void appendQueryBlock(std::vector<std::int32_t>& ids, std::vector<std::int64_t>& blocks, std::span<const std::int32_t> query);

} // namespace blocklens::segment
