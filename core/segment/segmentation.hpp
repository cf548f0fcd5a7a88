#pragma once
// The result of segmenting one document: its blocks as code-point spans with their token spans
// under the grid they were measured with, and where they came from (segmenter, parameters,
// version, token unit), so a stored or exported segmentation can be reproduced and compared.
#include "segment/scorer.hpp" // Params
#include "segment/token_grid.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace blocklens::segment {

struct Block {
    std::size_t begin = 0, end = 0;           // code points [begin, end)
    std::size_t tokenBegin = 0, tokenEnd = 0; // token indices [tokenBegin, tokenEnd) in the grid
    std::size_t tokens() const noexcept { return tokenEnd - tokenBegin; }
    friend bool operator==(const Block&, const Block&) = default;
};

struct Provenance {
    std::string segmenter;  // e.g. "hybrid"
    Params parameters;      // every value that decided the result, in a stable order
    std::string version;    // "blocklens 0.1.0, segment 1": changes when results may change
    std::string tokenUnit;  // "approx-tokens" or the tokenizer that measured sizes
};

struct Segmentation {
    std::vector<Block> blocks; // cover the text exactly, in order
    Provenance provenance;

    // Start offsets of every block but the first (what a dataset record calls boundaries).
    std::vector<std::size_t> boundaries() const;
    // Parameters as a JSON object string ({"name": "value", ...}) for stores and exports.
    std::string parametersJson() const;
};

// Bumped whenever a segmenter's output for the same input and parameters may change.
inline constexpr int kSegmentAlgorithmVersion = 1;
std::string segmentVersionString();

// Blocks from ascending cut offsets inside (0, grid.textLength()); each cut must be a cut point
// of the grid (throws Error otherwise: that would split a token).
Segmentation makeSegmentation(const TokenGrid& grid, const std::vector<std::size_t>& cuts, Provenance provenance);

// Shortest round-trip text of a number ("0.5", "1200", "1e-09"), used in provenance.
std::string formatNumber(double v);

} // namespace blocklens::segment
