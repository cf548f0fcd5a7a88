#include "segment/char_class.hpp"

#include "util/utf8.hpp"

namespace blocklens::segment {

bool isSpace(char32_t c) noexcept
{
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029
        || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool isDigit(char32_t c) noexcept { return c >= U'0' && c <= U'9'; }

bool isLetter(char32_t c) noexcept
{
    if (c < 0x80)
        return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
    if (c < 0xC0) // Latin-1 punctuation and symbols, except ª µ º
        return c == 0xAA || c == 0xB5 || c == 0xBA;
    if (c == 0xD7 || c == 0xF7) // × ÷
        return false;
    if (isSpace(c))
        return false;
    // Punctuation, symbol, arrow, maths, box-drawing, dingbat and emoji blocks.
    if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x2E00 && c <= 0x2E7F) || (c >= 0x3000 && c <= 0x303F)
        || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20)
        || (c >= 0xFFF0 && c <= 0xFFFF) || (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0xE000 && c <= 0xF8FF))
        return false;
    return true;
}

bool isUpper(char32_t c) noexcept
{
    if (c < 0x80)
        return c >= U'A' && c <= U'Z';
    if (c >= 0xC0 && c <= 0xDE)
        return c != 0xD7;
    if (c >= 0x100 && c <= 0x17F) // Latin Extended-A alternates upper/lower, with a parity shift
        return (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E) ? (c % 2 == 1) : (c % 2 == 0 && c != 0x138);
    if (c >= 0x391 && c <= 0x3AB)
        return c != 0x3A2;
    if (c >= 0x400 && c <= 0x42F)
        return true;
    return false;
}

bool isLower(char32_t c) noexcept
{
    if (c < 0x80)
        return c >= U'a' && c <= U'z';
    if (c >= 0xDF && c <= 0xFF)
        return c != 0xF7;
    if (c >= 0x100 && c <= 0x17F)
        return !isUpper(c);
    if (c >= 0x3AC && c <= 0x3CE)
        return true;
    if (c >= 0x430 && c <= 0x45F)
        return true;
    return false;
}

char32_t toLower(char32_t c) noexcept
{
    if (c < 0x80)
        return (c >= U'A' && c <= U'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c >= 0x100 && c <= 0x17F && isUpper(c))
        return c + 1;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

char32_t nextCodePoint(std::string_view text, std::size_t& i) noexcept { return utf8::decodeAt(text, i); }

} // namespace blocklens::segment
