#include "util/utf8.hpp"

#include "util/error.hpp"

#include <algorithm>

namespace blocklens::utf8 {
namespace {

// Length of the valid sequence at bytes[i], or 0 if it is invalid (Unicode Table 3-7).
std::size_t validSequenceAt(std::string_view bytes, std::size_t i) noexcept
{
    const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    const unsigned char b0 = s[i];
    if (b0 < 0x80)
        return 1;
    auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
        return i + k < n && s[i + k] >= lo && s[i + k] <= hi;
    };
    if (b0 >= 0xC2 && b0 <= 0xDF)
        return cont(1) ? 2 : 0;
    if (b0 == 0xE0)
        return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF)
        return cont(1) && cont(2) ? 3 : 0;
    if (b0 == 0xED)
        return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (b0 == 0xF0)
        return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (b0 >= 0xF1 && b0 <= 0xF3)
        return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (b0 == 0xF4)
        return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

// Length of the maximal invalid subpart starting at i (WHATWG / Python "replace" semantics):
// the lead byte plus the continuation bytes that could still have completed it.
std::size_t invalidSubpartAt(std::string_view bytes, std::size_t i) noexcept
{
    const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    const unsigned char b0 = s[i];
    unsigned char lo = 0x80, hi = 0xBF;
    std::size_t need = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
    else if (b0 == 0xE0) { need = 2; lo = 0xA0; }
    else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) need = 2;
    else if (b0 == 0xED) { need = 2; hi = 0x9F; }
    else if (b0 == 0xF0) { need = 3; lo = 0x90; }
    else if (b0 >= 0xF1 && b0 <= 0xF3) need = 3;
    else if (b0 == 0xF4) { need = 3; hi = 0x8F; }
    else return 1;
    std::size_t k = 1;
    if (i + k < n && s[i + k] >= lo && s[i + k] <= hi) {
        ++k;
        while (k <= need && i + k < n && s[i + k] >= 0x80 && s[i + k] <= 0xBF)
            ++k;
    }
    return k;
}

} // namespace

std::size_t findInvalid(std::string_view bytes) noexcept
{
    std::size_t i = 0;
    const std::size_t n = bytes.size();
    while (i < n) {
        // Fast path: skip 8 ASCII bytes at a time.
        while (i + 8 <= n) {
            std::uint64_t w;
            std::copy_n(bytes.data() + i, 8, reinterpret_cast<char*>(&w));
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        const std::size_t len = validSequenceAt(bytes, i);
        if (len == 0)
            return i;
        i += len;
    }
    return std::string_view::npos;
}

Repair replaceInvalid(std::string_view bytes)
{
    Repair r;
    r.text.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const std::size_t len = validSequenceAt(bytes, i);
        if (len) {
            r.text.append(bytes.data() + i, len);
            i += len;
        } else {
            r.invalidOffsets.push_back(i);
            r.text += "\xEF\xBF\xBD";
            i += invalidSubpartAt(bytes, i);
        }
    }
    return r;
}

std::size_t countCodePoints(std::string_view valid) noexcept
{
    std::size_t n = 0;
    for (unsigned char c : valid)
        n += (c & 0xC0) != 0x80;
    return n;
}

char32_t decodeAt(std::string_view s, std::size_t& i) noexcept
{
    const auto b0 = static_cast<unsigned char>(s[i]);
    const int len = sequenceLength(b0);
    char32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int k = 1; k < len && i + k < s.size(); ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    return cp;
}

void append(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::u32string toUtf32(std::string_view valid)
{
    std::u32string out;
    out.reserve(valid.size());
    for (std::size_t i = 0; i < valid.size();)
        out += decodeAt(valid, i);
    return out;
}

std::string fromUtf32(std::u32string_view cps)
{
    std::string out;
    out.reserve(cps.size());
    for (char32_t c : cps)
        append(out, c);
    return out;
}

CodePointIndex::CodePointIndex(std::string_view text)
{
    if (text.size() > 0xFFFFFFFFu)
        throw Error("text larger than 4 GiB is not supported");
    std::size_t cp = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) == 0x80)
            continue;
        if (c >= 0x80)
            ascii_ = false;
        if (cp % kStride == 0)
            checkpoints_.push_back(static_cast<std::uint32_t>(i));
        ++cp;
    }
    codePoints_ = cp;
    if (ascii_)
        checkpoints_.clear();
}

std::size_t CodePointIndex::byteOffset(std::string_view text, std::size_t codePoint) const
{
    if (codePoint > codePoints_)
        throw Error("code point offset " + std::to_string(codePoint) + " is past the end of the text (" +
                    std::to_string(codePoints_) + " code points)");
    if (ascii_)
        return codePoint;
    if (codePoint == codePoints_)
        return text.size();
    std::size_t i = checkpoints_[codePoint / kStride];
    for (std::size_t k = codePoint % kStride; k > 0; --k)
        i += sequenceLength(static_cast<unsigned char>(text[i]));
    return i;
}

std::size_t CodePointIndex::codePointOffset(std::string_view text, std::size_t byte) const
{
    if (byte > text.size())
        throw Error("byte offset " + std::to_string(byte) + " is past the end of the text");
    if (ascii_)
        return byte;
    // Last checkpoint at or before `byte`, then count lead bytes up to it.
    const auto it = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), static_cast<std::uint32_t>(byte));
    const std::size_t k = static_cast<std::size_t>(it - checkpoints_.begin()) - 1;
    std::size_t cp = k * kStride;
    for (std::size_t i = checkpoints_[k]; i < byte; ++i)
        cp += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    return cp;
}

} // namespace blocklens::utf8
