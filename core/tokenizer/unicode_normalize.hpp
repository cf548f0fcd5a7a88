#pragma once
// Unicode normalization forms (NFC, NFD, NFKC, NFKD) that also report, for every output
// character, how it relates to the input, exactly as the `unicode-normalization-alignments`
// crate used by `tokenizers` does: `change` is 0 when the character replaces one input character,
// 1 when it is inserted, -N when it replaces one character and removes N more. NormalizedString's
// transform() turns these changes into alignments with the original text.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace blocklens::tok::unicode {

enum class Form { NFC, NFD, NFKC, NFKD };

struct CharChange {
    char32_t c;
    int change;
};

std::uint8_t combiningClass(char32_t c) noexcept;
std::optional<char32_t> compose(char32_t a, char32_t b) noexcept; // primary composites and Hangul

// True when `form` provably leaves `text` and its alignments unchanged (a fast pre-check; false
// means "run the algorithm", not "changes").
bool isUnchanged(std::string_view text, Form form) noexcept;

// Appends the normalized characters of `text` (valid UTF-8) with their changes to `out`.
void normalize(std::string_view text, Form form, std::vector<CharChange>& out);

const char* unicodeVersion() noexcept;

} // namespace blocklens::tok::unicode
