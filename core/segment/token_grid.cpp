#include "segment/token_grid.hpp"

#include "document/document.hpp"
#include "segment/char_class.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <numeric>

namespace blocklens::segment {
namespace {

void buildMaxEnd(const std::vector<std::uint32_t>& ends, std::vector<std::uint32_t>& maxEnd)
{
    maxEnd.resize(ends.size());
    std::uint32_t m = 0;
    for (std::size_t i = 0; i < ends.size(); ++i)
        maxEnd[i] = m = std::max(m, ends[i]);
}

} // namespace

TokenGrid TokenGrid::approximate(const Document& doc) { return approximate(doc.text()); }

TokenGrid TokenGrid::approximate(std::string_view text)
{
    TokenGrid g;
    g.begins_.reserve(text.size() / 4);
    g.ends_.reserve(text.size() / 4);
    std::size_t i = 0, cp = 0;
    bool inWord = false;
    while (i < text.size()) {
        const char32_t c = nextCodePoint(text, i);
        if (isWordChar(c)) {
            if (!inWord) {
                g.begins_.push_back(static_cast<std::uint32_t>(cp));
                g.ends_.push_back(static_cast<std::uint32_t>(cp + 1));
                inWord = true;
            } else {
                g.ends_.back() = static_cast<std::uint32_t>(cp + 1);
            }
        } else {
            inWord = false;
            if (!isSpace(c)) {
                g.begins_.push_back(static_cast<std::uint32_t>(cp));
                g.ends_.push_back(static_cast<std::uint32_t>(cp + 1));
            }
        }
        ++cp;
    }
    g.length_ = cp;
    buildMaxEnd(g.ends_, g.maxEnd_);
    return g;
}

TokenGrid TokenGrid::fromEncoding(const Encoding& encoding, std::size_t textLength, std::string unit)
{
    if (encoding.spans.size() != encoding.ids.size())
        throw Error("token spans and ids differ in number (" + std::to_string(encoding.spans.size()) + " vs "
                    + std::to_string(encoding.ids.size()) + ")");
    std::vector<TokenSpan> spans;
    spans.reserve(encoding.spans.size());
    for (const auto& s : encoding.spans) {
        if (s.end <= s.begin)
            continue;
        if (s.end > textLength)
            throw Error("token span [" + std::to_string(s.begin) + ", " + std::to_string(s.end)
                        + ") lies outside the text (" + std::to_string(textLength) + " code points)");
        spans.push_back(s);
    }
    // Encodings are in text order already; a stable sort keeps it so for odd normalisers too.
    std::stable_sort(spans.begin(), spans.end(), [](const TokenSpan& a, const TokenSpan& b) { return a.begin < b.begin; });
    TokenGrid g;
    g.unit_ = std::move(unit);
    g.length_ = textLength;
    g.begins_.reserve(spans.size());
    g.ends_.reserve(spans.size());
    for (const auto& s : spans) {
        g.begins_.push_back(static_cast<std::uint32_t>(s.begin));
        g.ends_.push_back(static_cast<std::uint32_t>(s.end));
    }
    buildMaxEnd(g.ends_, g.maxEnd_);
    return g;
}

std::size_t TokenGrid::tokensBefore(std::size_t offset) const noexcept
{
    return static_cast<std::size_t>(std::lower_bound(begins_.begin(), begins_.end(), offset) - begins_.begin());
}

bool TokenGrid::isCutPoint(std::size_t offset) const noexcept
{
    const std::size_t before = tokensBefore(offset);
    return before == 0 || maxEnd_[before - 1] <= offset;
}

std::size_t TokenGrid::snap(std::size_t offset) const noexcept
{
    offset = std::min(offset, length_);
    while (!isCutPoint(offset)) {
        // The straddling token is the last one beginning before `offset` whose end passes it.
        std::size_t i = tokensBefore(offset);
        while (i > 0 && ends_[i - 1] <= offset)
            --i;
        offset = begins_[i - 1];
    }
    return offset;
}

} // namespace blocklens::segment

namespace blocklens::segment {

std::string formatTokenCount(std::size_t count, std::string_view pluralUnit)
{
    std::string unit(pluralUnit);
    if (count == 1 && unit.size() > 1 && unit.back() == 's')
        unit.pop_back();
    return std::to_string(count) + " " + unit;
}

} // namespace blocklens::segment
