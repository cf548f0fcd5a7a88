#include "segment/line_shape.hpp"

#include "segment/char_class.hpp"

#include <array>

namespace blocklens::segment {
namespace {

bool isAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80; }

int atxLevel(std::string_view t, const LineInfo& info)
{
    if (info.fence || info.indent > 3)
        return 0;
    std::size_t i = 0;
    while (i < t.size() && t[i] == ' ')
        ++i;
    std::size_t hashes = 0;
    while (i + hashes < t.size() && t[i + hashes] == '#')
        ++hashes;
    if (hashes == 0 || hashes > 6 || i + hashes >= t.size())
        return 0;
    const char after = t[i + hashes];
    if (after != ' ' && after != '\t')
        return 0;
    // "# " followed by nothing is an empty heading: not worth a block.
    for (std::size_t k = i + hashes; k < t.size(); ++k)
        if (t[k] != ' ' && t[k] != '\t' && t[k] != '#')
            return static_cast<int>(hashes);
    return 0;
}

bool isUnderline(std::string_view trimmed)
{
    if (trimmed.size() < 2)
        return false;
    const char c = trimmed.front();
    if (c != '=' && c != '-')
        return false;
    for (char x : trimmed)
        if (x != c)
            return false;
    return true;
}

// "7.1.5 Title", "7.1.5. Title", "7. Title", "12) Title": number of numeric parts, 0 if none.
int numbering(std::string_view t)
{
    std::size_t i = 0;
    int parts = 0;
    while (i < t.size()) {
        std::size_t d = 0;
        while (i + d < t.size() && isAsciiDigit(t[i + d]) && d < 4)
            ++d;
        if (d == 0)
            break;
        ++parts;
        i += d;
        if (i < t.size() && t[i] == '.' && i + 1 < t.size() && isAsciiDigit(t[i + 1])) {
            ++i;
            continue;
        }
        break;
    }
    if (parts == 0)
        return 0;
    if (i < t.size() && (t[i] == '.' || t[i] == ')'))
        ++i;
    else if (parts == 1)
        return 0; // a bare number ("2021 was ...") is not a section number
    // Then a space (ASCII or U+00A0) and text.
    std::size_t spaces = 0;
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) {
        ++i;
        ++spaces;
    }
    if (spaces == 0 && t.substr(i).starts_with("\xC2\xA0")) {
        i += 2;
        spaces = 1;
    }
    return spaces > 0 && i < t.size() ? parts : 0;
}

bool allCaps(std::string_view t)
{
    std::size_t i = 0;
    int upper = 0;
    while (i < t.size()) {
        const char32_t c = nextCodePoint(t, i);
        if (isLower(c))
            return false;
        if (isUpper(c))
            ++upper;
    }
    return upper >= 2;
}

// Keywords that open a definition in common languages, and modifiers that may precede them.
constexpr std::array<std::string_view, 16> kDefinitionKeywords = {
    "def", "class", "function", "func", "fn", "struct", "enum", "interface",
    "impl", "trait", "module", "namespace", "sub", "procedure", "union", "object"};
constexpr std::array<std::string_view, 14> kModifiers = {
    "export", "public", "private", "protected", "static", "async", "pub",
    "inline", "virtual", "abstract", "final", "default", "extern", "unsafe"};

std::string_view nextWord(std::string_view t, std::size_t& i)
{
    const std::size_t start = i;
    while (i < t.size() && (isIdentStart(t[i]) || isAsciiDigit(t[i])))
        ++i;
    return t.substr(start, i - start);
}

bool definitionLine(std::string_view t)
{
    std::size_t i = 0;
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t'))
        ++i;
    for (int words = 0; words < 4; ++words) {
        const std::string_view w = nextWord(t, i);
        if (w.empty())
            return false;
        bool isModifier = false;
        for (auto m : kModifiers)
            isModifier |= (w == m);
        bool isKeyword = false;
        for (auto k : kDefinitionKeywords)
            isKeyword |= (w == k);
        if (isKeyword) {
            // Keyword, space, a name; and the line must look like code, not prose that happens
            // to start with "function" or "class": an opening parenthesis, or ending in ':' or '{'.
            if (i >= t.size() || (t[i] != ' ' && t[i] != '\t' && t[i] != '(' && t[i] != '<'))
                return false;
            std::string_view rest = t.substr(i);
            while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t' || rest.back() == '\r'))
                rest.remove_suffix(1);
            return rest.find('(') != std::string_view::npos || rest.ends_with(":") || rest.ends_with("{");
        }
        if (!isModifier)
            return false;
        while (i < t.size() && (t[i] == ' ' || t[i] == '\t'))
            ++i;
    }
    return false;
}

bool attachableLine(std::string_view trimmed)
{
    return trimmed.starts_with("@") || (trimmed.starts_with("#") && !trimmed.starts_with("#!"))
        || trimmed.starts_with("//") || trimmed.starts_with("/*") || trimmed.starts_with("*")
        || trimmed.starts_with("--") || trimmed.starts_with(";");
}

// Whether `line` is wrapped prose whose sentence goes on in the next line: a long enough line of
// a paragraph, neither numbered nor a heading, that does not end a sentence or a clause. A number
// at the start of the next line ("... as described in section\n7. ...") is then part of that
// sentence, not a section number (issue 15: GPL-3 got a block starting mid-sentence there).
bool sentenceGoesOn(const TextLayout& layout, std::size_t line)
{
    const LineInfo& info = layout[line];
    if (info.blank || info.fence || info.width < 40)
        return false;
    const std::string_view tr = layout.trimmed(line);
    if (numbering(tr) > 0 || atxLevel(layout.text(line), info) > 0 || isUnderline(tr))
        return false;
    const char last = tr.back();
    return last != '.' && last != ':' && last != ';' && last != '!' && last != '?' && last != ')';
}

} // namespace

LineShape lineShape(const TextLayout& layout, std::size_t line)
{
    LineShape s;
    const LineInfo& info = layout[line];
    if (info.blank)
        return s;
    const std::string_view t = layout.text(line);
    const std::string_view tr = layout.trimmed(line);
    s.atxLevel = atxLevel(t, info);
    s.underline = !info.fence && isUnderline(tr);
    if (!info.fence && !s.underline && line + 1 < layout.size() && !layout[line + 1].blank && !layout[line + 1].fence)
        s.setext = isUnderline(layout.trimmed(line + 1)) && info.width <= 80;
    s.numbering = numbering(tr);
    if (s.numbering > 0 && line > 0 && sentenceGoesOn(layout, line - 1))
        s.numbering = 0;
    s.allCaps = allCaps(tr);
    const char last = tr.empty() ? ' ' : tr.back();
    s.terminalPunct = last == '.' || last == ',' || last == ';' || last == ':' || last == '!' || last == '?';
    if (definitionLine(t))
        s.definitionIndent = static_cast<int>(info.indent);
    s.attachable = attachableLine(tr);
    return s;
}

bool isIsolated(const TextLayout& layout, std::size_t line)
{
    const bool above = line == 0 || layout[line - 1].blank;
    const bool below = line + 1 >= layout.size() || layout[line + 1].blank;
    return above && below;
}

bool looksLikeHeading(const TextLayout& layout, const LineShape& shape, std::size_t line)
{
    const LineInfo& info = layout[line];
    if (info.blank || info.fence)
        return false;
    if (shape.atxLevel > 0 || shape.setext)
        return true;
    if (shape.numbering > 0 && info.width <= 100 && !shape.terminalPunct)
        return true;
    return shape.allCaps && info.width <= 60 && isIsolated(layout, line);
}

std::vector<LineShape> lineShapes(const TextLayout& layout)
{
    std::vector<LineShape> out;
    out.reserve(layout.size());
    for (std::size_t i = 0; i < layout.size(); ++i)
        out.push_back(lineShape(layout, i));
    return out;
}

} // namespace blocklens::segment
