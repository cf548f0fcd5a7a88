#pragma once
// The line structure of a document, computed once and shared by candidate rules and scorers:
// where each line starts (code points and bytes), its indentation, whether it is blank, how many
// blank lines precede it, and whether it lies inside a Markdown code fence (where '#' lines are
// comments, not headings). Lines follow Python's text.split('\n'), like Document::lineStarts().
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace blocklens {
class Document;
}

namespace blocklens::segment {

struct LineInfo {
    std::size_t begin = 0, end = 0;         // code points [begin, end), without the '\n'
    std::size_t byteBegin = 0, byteEnd = 0; // the same in bytes
    std::uint32_t indent = 0;               // leading columns (a tab counts 4)
    std::uint32_t width = 0;                // code points from the first to the last non-space
    std::uint32_t blankBefore = 0;          // blank lines directly above this one
    bool blank = false;                     // only whitespace
    bool fence = false;                     // a ``` or ~~~ line, or inside such a fence
};

class TextLayout {
public:
    explicit TextLayout(const Document& doc);

    const Document& document() const noexcept { return *doc_; }
    const std::vector<LineInfo>& lines() const noexcept { return lines_; }
    std::size_t size() const noexcept { return lines_.size(); }
    const LineInfo& operator[](std::size_t i) const { return lines_[i]; }

    std::string_view text(std::size_t line) const;    // the line's bytes, without '\n'
    std::string_view trimmed(std::size_t line) const; // without leading/trailing whitespace
    // Line containing code point `offset` (the last line for offset == length).
    std::size_t lineOf(std::size_t offset) const;
    // Index of the nearest non-blank line above `line`, or npos.
    std::size_t previousNonBlank(std::size_t line) const;

private:
    const Document* doc_;
    std::vector<LineInfo> lines_;
};

} // namespace blocklens::segment
