#pragma once
// Candidates: the places a block may start, each proposed by one or more rules (like the regex of
// the paper's segmenter, but named and combinable). A scorer then rates each candidate and a
// decoder picks among them; nothing else can become a boundary, except the fixed-size fallback
// that keeps the hard maximum block size when a stretch of text has no candidate at all.
#include "segment/line_shape.hpp"
#include "segment/text_layout.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include <utility>

namespace blocklens::segment {

enum class Rule : std::uint32_t {
    Line = 1u << 0,      // start of every non-blank line
    Paragraph = 1u << 1, // start of a non-blank line after one or more blank lines
    Sentence = 1u << 2,  // after . ! ? (and closing quotes) and whitespace, before a capital or digit
    Heading = 1u << 3,   // Markdown/setext headings, numbered titles, isolated capitalised lines
    Code = 1u << 4,      // definitions (def, class, fn ...), moved up over their comments/decorators
    Regex = 1u << 5,     // start of each match of a user PCRE2 pattern (multiline, UTF)
};
using RuleSet = std::uint32_t;
constexpr RuleSet operator|(Rule a, Rule b) { return static_cast<RuleSet>(a) | static_cast<RuleSet>(b); }
constexpr RuleSet operator|(RuleSet a, Rule b) { return a | static_cast<RuleSet>(b); }
constexpr RuleSet& operator|=(RuleSet& a, Rule b) { return a |= static_cast<RuleSet>(b); }
constexpr bool has(RuleSet set, Rule r) { return (set & static_cast<RuleSet>(r)) != 0; }

struct Candidate {
    std::size_t offset = 0; // code points; always inside (0, length)
    std::uint32_t line = 0; // line containing offset
    RuleSet rules = 0;      // every rule that proposed it
    friend bool operator==(const Candidate&, const Candidate&) = default;
};

struct CandidateOptions {
    RuleSet rules = static_cast<RuleSet>(Rule::Line);
    std::string regex; // required when rules include Regex
};

// Sorted by offset, one entry per offset. Throws Error for a regex that does not compile.
std::vector<Candidate> findCandidates(const TextLayout& layout, const std::vector<LineShape>& shapes,
                                      const CandidateOptions& options);

// "line,paragraph,sentence,heading,code,regex" <-> RuleSet. Throws Error naming an unknown rule.
RuleSet parseRules(std::string_view commaSeparated);
std::string rulesToString(RuleSet rules);

// Start offsets (code points) of every match of `pattern` in `text`; used by Rule::Regex.
// Throws Error with the PCRE2 message and the offset in the pattern where compiling failed.
std::vector<std::size_t> regexMatchStarts(const Document& doc, const std::string& pattern);
// [start, end) of each match in code points, non-overlapping, left to right (as Python's
// re.finditer): the paper's segmenter puts its markers at the match ends.
std::vector<std::pair<std::size_t, std::size_t>> regexMatchSpans(const Document& doc, const std::string& pattern);

} // namespace blocklens::segment
