#pragma once
// Unicode data for normalization, generated into unicode_tables.cpp by gen_unicode_tables.py from
// Python's unicodedata. Hangul syllables are not in the tables (handled algorithmically).
#include <cstddef>
#include <cstdint>

namespace blocklens::tok::unicode_data {

struct CccRange {
    char32_t first, last;
    std::uint8_t ccc; // canonical combining class, non-zero
};
struct DecompEntry {
    char32_t cp;
    std::uint32_t offset; // into the pool
    std::uint32_t length;
};
struct Composition {
    char32_t first, second, composite;
};
struct CodePointRange {
    char32_t first, last;
};

extern const char* const kUnicodeVersion;
extern const CccRange kCccRanges[];             // sorted, disjoint
extern const std::size_t kCccRangesSize;
extern const DecompEntry kCanonicalIndex[];     // sorted by cp: full canonical decomposition
extern const std::size_t kCanonicalIndexSize;
extern const char32_t kCanonicalPool[];
extern const std::size_t kCanonicalPoolSize;
extern const DecompEntry kCompatIndex[];        // sorted by cp: full compatibility decomposition,
extern const std::size_t kCompatIndexSize;      // only where it differs from the canonical one
extern const char32_t kCompatPool[];
extern const std::size_t kCompatPoolSize;
extern const Composition kCompositions[];       // sorted by (first, second)
extern const std::size_t kCompositionsSize;
extern const CodePointRange kNfcUnsafeRanges[]; // code points NFC may change or join to the previous one
extern const std::size_t kNfcUnsafeRangesSize;

} // namespace blocklens::tok::unicode_data
