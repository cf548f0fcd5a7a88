#pragma once
// Counts shown by `blocklens-cli info` and the app's document panel.
#include "document/document.hpp"

#include <cstddef>

namespace blocklens {

struct DocumentStats {
    std::size_t bytes = 0;
    std::size_t codePoints = 0;
    std::size_t lines = 0;      // as text.split('\n') counts them
    std::size_t paragraphs = 0; // runs of non-blank lines
    std::size_t words = 0;      // runs of non-space code points
    std::size_t nonAscii = 0;   // code points above U+007F
};

DocumentStats computeStats(const Document& doc);

} // namespace blocklens
