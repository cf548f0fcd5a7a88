#include "segment/candidates.hpp"

#include "document/document.hpp"
#include "segment/char_class.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace blocklens::segment {
namespace {

constexpr std::array<std::pair<std::string_view, Rule>, 6> kRuleNames = {{
    {"line", Rule::Line},
    {"paragraph", Rule::Paragraph},
    {"sentence", Rule::Sentence},
    {"heading", Rule::Heading},
    {"code", Rule::Code},
    {"regex", Rule::Regex},
}};

struct Collector {
    const TextLayout& layout;
    std::vector<Candidate> out;
    void add(std::size_t offset, Rule rule)
    {
        if (offset == 0 || offset >= layout.document().length())
            return;
        out.push_back({offset, static_cast<std::uint32_t>(layout.lineOf(offset)), static_cast<RuleSet>(rule)});
    }
    void addLine(std::size_t line, Rule rule) { add(layout[line].begin, rule); }
};

bool isClosing(char32_t c)
{
    return c == U'"' || c == U'\'' || c == U')' || c == U']' || c == U'\u201D' || c == U'\u2019' || c == U'\u00BB';
}
bool isSentenceOpener(char32_t c)
{
    return isUpper(c) || isDigit(c) || c == U'"' || c == U'\u201C' || c == U'\u00AB' || c == U'(' || c == U'\'';
}

// Sentence starts: a terminator (. ! ? …), optional closing quotes/brackets, whitespace, then a
// capital letter, digit or opening quote. When the whitespace crosses a line break the block
// starts at that line's beginning (keeping its indentation); paragraph starts are sentences too.
void sentenceStarts(Collector& c)
{
    const TextLayout& layout = c.layout;
    for (std::size_t l = 1; l < layout.size(); ++l)
        if (!layout[l].blank && layout[l].blankBefore > 0)
            c.addLine(l, Rule::Sentence);
    for (std::size_t l = 0; l < layout.size(); ++l) {
        const LineInfo& info = layout[l];
        if (info.blank || info.fence)
            continue;
        const std::string_view t = layout.text(l);
        std::size_t i = 0, cp = info.begin;
        while (i < t.size()) {
            const char32_t ch = nextCodePoint(t, i);
            ++cp;
            if (ch != U'.' && ch != U'!' && ch != U'?' && ch != U'\u2026')
                continue;
            std::size_t j = i, jcp = cp;
            while (j < t.size()) {
                std::size_t k = j;
                const char32_t q = nextCodePoint(t, k);
                if (!isClosing(q))
                    break;
                j = k;
                ++jcp;
            }
            if (j >= t.size()) {
                // Terminator at the end of the line: a directly following line starts a
                // sentence when it opens like one (after blank lines it is a paragraph start,
                // added above).
                const std::size_t next = l + 1;
                if (next < layout.size() && !layout[next].blank && !layout[next].fence) {
                    const std::string_view nt = layout.trimmed(next);
                    std::size_t k = 0;
                    if (!nt.empty() && isSentenceOpener(nextCodePoint(nt, k)))
                        c.addLine(next, Rule::Sentence);
                }
                continue;
            }
            std::size_t k = j;
            const char32_t sp = nextCodePoint(t, k);
            if (!isSpace(sp))
                continue;
            std::size_t spaces = 1;
            std::size_t m = k;
            while (m < t.size()) {
                std::size_t n = m;
                if (!isSpace(nextCodePoint(t, n)))
                    break;
                m = n;
                ++spaces;
            }
            if (m >= t.size())
                continue;
            std::size_t n = m;
            if (isSentenceOpener(nextCodePoint(t, n)))
                c.add(jcp + spaces, Rule::Sentence);
        }
    }
}

// A definition line, moved up over comment and decorator lines directly above it at the same
// indentation: "@decorator\ndef f():" and "// doc\nfn f()" start their block at the first of them.
void definitionStarts(Collector& c, const std::vector<LineShape>& shapes)
{
    const TextLayout& layout = c.layout;
    for (std::size_t l = 0; l < layout.size(); ++l) {
        if (shapes[l].definitionIndent < 0 || layout[l].fence)
            continue;
        std::size_t start = l;
        while (start > 0 && !layout[start - 1].blank && shapes[start - 1].attachable
               && layout[start - 1].indent == layout[l].indent && shapes[start - 1].definitionIndent < 0)
            --start;
        c.addLine(start, Rule::Code);
    }
}

} // namespace

std::vector<Candidate> findCandidates(const TextLayout& layout, const std::vector<LineShape>& shapes,
                                      const CandidateOptions& options)
{
    Collector c{layout, {}};
    const RuleSet rules = options.rules;
    for (std::size_t l = 1; l < layout.size(); ++l) {
        const LineInfo& info = layout[l];
        if (info.blank)
            continue;
        if (has(rules, Rule::Line))
            c.addLine(l, Rule::Line);
        if (has(rules, Rule::Paragraph) && info.blankBefore > 0)
            c.addLine(l, Rule::Paragraph);
        if (has(rules, Rule::Heading) && looksLikeHeading(layout, shapes[l], l))
            c.addLine(l, Rule::Heading);
    }
    if (has(rules, Rule::Sentence))
        sentenceStarts(c);
    if (has(rules, Rule::Code))
        definitionStarts(c, shapes);
    if (has(rules, Rule::Regex)) {
        if (options.regex.empty())
            throw Error("the regex candidate rule needs a pattern (--regex PATTERN)");
        for (std::size_t o : regexMatchStarts(layout.document(), options.regex))
            c.add(o, Rule::Regex);
    }
    auto& v = c.out;
    std::sort(v.begin(), v.end(), [](const Candidate& a, const Candidate& b) { return a.offset < b.offset; });
    std::vector<Candidate> merged;
    merged.reserve(v.size());
    for (const auto& x : v) {
        if (!merged.empty() && merged.back().offset == x.offset)
            merged.back().rules |= x.rules;
        else
            merged.push_back(x);
    }
    return merged;
}

RuleSet parseRules(std::string_view list)
{
    RuleSet rules = 0;
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::string_view name = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        while (!name.empty() && name.front() == ' ')
            name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ')
            name.remove_suffix(1);
        if (name.empty())
            continue;
        bool found = false;
        for (const auto& [n, r] : kRuleNames)
            if (n == name) {
                rules |= static_cast<RuleSet>(r);
                found = true;
            }
        if (!found)
            throw Error("unknown candidate rule '" + std::string(name)
                        + "' (known: line, paragraph, sentence, heading, code, regex)");
    }
    if (rules == 0)
        throw Error("no candidate rule given (known: line, paragraph, sentence, heading, code, regex)");
    return rules;
}

std::string rulesToString(RuleSet rules)
{
    std::string out;
    for (const auto& [n, r] : kRuleNames)
        if (has(rules, r)) {
            if (!out.empty())
                out += ',';
            out += n;
        }
    return out;
}

} // namespace blocklens::segment
