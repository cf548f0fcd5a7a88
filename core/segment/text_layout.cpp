#include "segment/text_layout.hpp"

#include "document/document.hpp"
#include "segment/char_class.hpp"

#include <algorithm>

namespace blocklens::segment {
namespace {

bool isFenceLine(std::string_view t)
{
    std::size_t i = 0;
    while (i < t.size() && i < 4 && t[i] == ' ')
        ++i;
    return t.substr(i).starts_with("```") || t.substr(i).starts_with("~~~");
}

} // namespace

TextLayout::TextLayout(const Document& doc) : doc_(&doc)
{
    const std::string_view text = doc.text();
    std::size_t i = 0, cp = 0;
    std::uint32_t blankRun = 0;
    bool inFence = false;
    while (true) {
        LineInfo line;
        line.begin = cp;
        line.byteBegin = i;
        bool leading = true, sawText = false;
        std::size_t firstText = 0, lastText = 0;
        while (i < text.size() && text[i] != '\n') {
            const char32_t c = nextCodePoint(text, i);
            if (isSpace(c)) {
                if (leading)
                    line.indent += (c == U'\t') ? 4 : 1;
            } else {
                if (!sawText)
                    firstText = cp;
                lastText = cp;
                sawText = true;
                leading = false;
            }
            ++cp;
        }
        line.end = cp;
        line.byteEnd = i;
        line.blank = !sawText;
        line.width = sawText ? static_cast<std::uint32_t>(lastText - firstText + 1) : 0;
        line.blankBefore = blankRun;
        blankRun = line.blank ? blankRun + 1 : 0;
        const bool fenceLine = !line.blank && isFenceLine(text.substr(line.byteBegin, line.byteEnd - line.byteBegin));
        line.fence = inFence || fenceLine;
        if (fenceLine)
            inFence = !inFence;
        lines_.push_back(line);
        if (i >= text.size())
            break;
        ++i; // the '\n'
        ++cp;
    }
}

std::string_view TextLayout::text(std::size_t line) const
{
    const auto& l = lines_[line];
    return std::string_view(doc_->text()).substr(l.byteBegin, l.byteEnd - l.byteBegin);
}

std::string_view TextLayout::trimmed(std::size_t line) const
{
    std::string_view t = text(line);
    // ASCII whitespace and the UTF-8 forms of U+00A0 are enough here: trimming only feeds
    // shape tests (first/last character), which treat other spaces as text harmlessly.
    auto isWs = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; };
    while (!t.empty() && isWs(t.front()))
        t.remove_prefix(1);
    while (!t.empty() && isWs(t.back()))
        t.remove_suffix(1);
    return t;
}

std::size_t TextLayout::lineOf(std::size_t offset) const
{
    const auto it = std::upper_bound(lines_.begin(), lines_.end(), offset,
                                     [](std::size_t o, const LineInfo& l) { return o < l.begin; });
    return static_cast<std::size_t>(it - lines_.begin()) - 1;
}

std::size_t TextLayout::previousNonBlank(std::size_t line) const
{
    while (line > 0) {
        --line;
        if (!lines_[line].blank)
            return line;
    }
    return static_cast<std::size_t>(-1);
}

} // namespace blocklens::segment
