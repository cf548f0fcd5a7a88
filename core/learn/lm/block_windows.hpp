#pragma once
// Training and evaluation windows for block attention: a document's tokens cut into windows of a
// fixed length, each with the blocks its segmentation gives. Plain C++ (no torch).
//
// A window is [BOS] + `tokens` consecutive tokens of one document (from token 0, then every
// `tokens` tokens: windows do not overlap), so every window starts as a document does; its blocks
// are the segmentation's token blocks that start inside it, shifted to the window (the first block
// starts at 0, at BOS, and holds the part of a block cut by the window's start). The last block
// is the one the `block` mode lets attend to everything (runner.hpp).
#include "document/document.hpp"
#include "segment/segmenter.hpp"
#include "tokenizer/tokenizer.hpp"

#include <cstdint>
#include <vector>

namespace blocklens::lm {

struct BlockWindow {
    std::vector<std::int32_t> ids;         // BOS + tokens: `tokens` + 1 ids (the inputs are all but the last,
                                           // the next-token targets all but the first)
    std::vector<std::int64_t> blockStarts; // over the inputs: ascending, first 0
    std::int64_t document = 0;             // index of its document in the caller's list
};

struct WindowOptions {
    std::int64_t tokens = 512;            // inputs per window, BOS included
    std::int64_t maxWindowsPerDocument = 0; // 0: every full window of the document
};

// The full windows of one document (a tail shorter than a window is dropped). `grid`-free: the
// document is encoded here with `tokenizer` and segmented by `segmenter` on that encoding.
std::vector<BlockWindow> blockWindows(const Document& doc, std::int64_t documentIndex, const Tokenizer& tokenizer, std::int32_t bos,
                                      const segment::Segmenter& segmenter, const segment::SegmentOptions& segmentOptions,
                                      const WindowOptions& options);

} // namespace blocklens::lm
