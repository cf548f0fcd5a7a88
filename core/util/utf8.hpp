#pragma once
// UTF-8 validation and code-point arithmetic. Offsets everywhere in BlockLens are Unicode code
// points (what Python's len() counts); text is stored as UTF-8 bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::utf8 {

// Byte offset of the first invalid sequence (overlong, surrogate, > U+10FFFF, truncated), or
// std::string_view::npos when the whole input is valid UTF-8.
std::size_t findInvalid(std::string_view bytes) noexcept;

struct Repair {
    std::string text;                        // valid UTF-8
    std::vector<std::size_t> invalidOffsets; // byte offsets (in the input) that were replaced
};
// Replaces each maximal invalid subpart with U+FFFD, as Python's errors="replace" does.
Repair replaceInvalid(std::string_view bytes);

// Number of code points in valid UTF-8.
std::size_t countCodePoints(std::string_view valid) noexcept;

// Length in bytes of the sequence starting with lead byte b (1 for continuation/invalid bytes).
inline int sequenceLength(unsigned char b) noexcept
{
    return b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
}

// Decodes the code point at byte position i of valid UTF-8 and advances i past it.
char32_t decodeAt(std::string_view valid, std::size_t& i) noexcept;
void append(std::string& out, char32_t cp);
std::u32string toUtf32(std::string_view valid);
std::string fromUtf32(std::u32string_view cps);

// Maps code-point offsets to byte offsets and back in O(stride) time using checkpoints every
// `stride` code points (8 bytes per checkpoint instead of 4 per code point), with an identity
// fast path for pure ASCII text.
class CodePointIndex {
public:
    CodePointIndex() = default;
    explicit CodePointIndex(std::string_view valid);

    std::size_t size() const noexcept { return codePoints_; } // number of code points
    bool isAscii() const noexcept { return ascii_; }
    // `text` must be the string the index was built from (the index keeps no pointer to it,
    // so the owner may move).
    std::size_t byteOffset(std::string_view text, std::size_t codePoint) const; // codePoint in [0, size()]
    std::size_t codePointOffset(std::string_view text, std::size_t byteOffset) const; // a sequence boundary

private:
    static constexpr std::size_t kStride = 64;
    std::size_t codePoints_ = 0;
    bool ascii_ = true;
    std::vector<std::uint32_t> checkpoints_; // byte offset of code point k*kStride
};

} // namespace blocklens::utf8
