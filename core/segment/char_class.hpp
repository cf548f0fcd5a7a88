#pragma once
// Character classes the segmenters need (letters, digits, spaces, case) for any script, without
// ICU. Exact for ASCII and Latin-1; elsewhere an approximation that is good enough for counting
// words and spotting capitalised lines: every code point outside the known punctuation, symbol
// and space blocks counts as a letter; case is known for Latin, Greek and Cyrillic.
#include <string_view>

namespace blocklens::segment {

bool isSpace(char32_t c) noexcept;  // Unicode White_Space (incl. U+00A0, U+2000..U+200A, U+3000)
bool isDigit(char32_t c) noexcept;  // ASCII 0-9
bool isLetter(char32_t c) noexcept; // see above
bool isUpper(char32_t c) noexcept;
bool isLower(char32_t c) noexcept;
char32_t toLower(char32_t c) noexcept;
inline bool isWordChar(char32_t c) noexcept { return isLetter(c) || isDigit(c) || c == U'_'; }

// Decodes the code point at byte i of valid UTF-8 and advances i.
char32_t nextCodePoint(std::string_view text, std::size_t& i) noexcept;

} // namespace blocklens::segment
