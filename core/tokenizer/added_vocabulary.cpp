#include "tokenizer/added_vocabulary.hpp"

#include "tokenizer/regex.hpp"
#include "util/utf8.hpp"

#include <algorithm>

namespace blocklens::tok {

std::int32_t LiteralMatcher::child(std::int32_t node, unsigned char b) const noexcept
{
    const auto& next = nodes_[static_cast<std::size_t>(node)].next;
    auto it = std::lower_bound(next.begin(), next.end(), b,
                               [](const std::pair<unsigned char, std::int32_t>& e, unsigned char v) { return e.first < v; });
    return it != next.end() && it->first == b ? it->second : -1;
}

void LiteralMatcher::add(std::string_view pattern, std::int32_t value)
{
    if (pattern.empty())
        return;
    std::int32_t node = 0;
    for (char ch : pattern) {
        const auto b = static_cast<unsigned char>(ch);
        std::int32_t c = child(node, b);
        if (c < 0) {
            c = static_cast<std::int32_t>(nodes_.size());
            nodes_.emplace_back();
            auto& next = nodes_[static_cast<std::size_t>(node)].next;
            next.insert(std::lower_bound(next.begin(), next.end(), b,
                                         [](const std::pair<unsigned char, std::int32_t>& e, unsigned char v) {
                                             return e.first < v;
                                         }),
                        {b, c});
        }
        node = c;
    }
    if (nodes_[static_cast<std::size_t>(node)].value < 0) // the first of identical patterns wins
        nodes_[static_cast<std::size_t>(node)].value = value;
    firstByte_[static_cast<unsigned char>(pattern[0])] = true;
    ++patterns_;
}

void LiteralMatcher::findAll(std::string_view text, std::vector<Hit>& out) const
{
    if (patterns_ == 0)
        return;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!firstByte_[static_cast<unsigned char>(text[i])]) {
            ++i;
            continue;
        }
        std::int32_t node = 0;
        std::int32_t bestValue = -1;
        std::size_t bestEnd = 0;
        for (std::size_t j = i; j < text.size(); ++j) {
            node = child(node, static_cast<unsigned char>(text[j]));
            if (node < 0)
                break;
            if (nodes_[static_cast<std::size_t>(node)].value >= 0) {
                bestValue = nodes_[static_cast<std::size_t>(node)].value;
                bestEnd = j + 1;
            }
        }
        if (bestValue >= 0) {
            out.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(bestEnd), bestValue});
            i = bestEnd;
        } else {
            ++i;
        }
    }
}

namespace {

char32_t lastChar(std::string_view s)
{
    std::size_t i = s.size() - 1;
    while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
        --i;
    return utf8::decodeAt(s, i);
}

char32_t firstChar(std::string_view s)
{
    std::size_t i = 0;
    return utf8::decodeAt(s, i);
}

// Start of the trailing run of whitespace of s (`\s*$`).
std::size_t trailingSpaceStart(std::string_view s)
{
    std::size_t end = s.size();
    while (end > 0) {
        std::size_t i = end - 1;
        while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80)
            --i;
        std::size_t k = i;
        if (!isWhiteSpace(utf8::decodeAt(s, k)))
            break;
        end = i;
    }
    return end;
}

// End of the leading run of whitespace of s (`^\s*`).
std::size_t leadingSpaceEnd(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t k = i;
        if (!isWhiteSpace(utf8::decodeAt(s, k)))
            break;
        i = k;
    }
    return i;
}

} // namespace

void AddedVocabulary::split(const Piece& p, bool normalizedPass, std::vector<Piece>& out) const
{
    const LiteralMatcher& matcher = normalizedPass ? normalizedMatcher_ : rawMatcher_;
    if (p.text.empty())
        return;
    if (matcher.empty()) {
        out.push_back(p);
        return;
    }
    thread_local std::vector<LiteralMatcher::Hit> hits;
    hits.clear();
    matcher.findAll(p.text, hits);
    const std::string_view s = p.text;
    std::size_t startOffset = 0;
    auto push = [&](std::size_t b, std::size_t e, std::int32_t id) {
        if (e <= b)
            return;
        Piece piece = p.slice(b, e);
        piece.addedId = id;
        out.push_back(piece);
    };
    for (const auto& hit : hits) {
        std::size_t start = hit.begin, stop = hit.end;
        const AddedToken& t = tokens_[static_cast<std::size_t>(hit.value)];
        if (t.singleWord) {
            const bool startSpace = start == 0 || !isRustWordChar(lastChar(s.substr(0, start)));
            const bool stopSpace = stop == s.size() || !isRustWordChar(firstChar(s.substr(stop)));
            if (!startSpace || !stopSpace)
                continue;
        }
        if (t.lstrip)
            start = std::max(trailingSpaceStart(s.substr(0, start)), startOffset);
        if (t.rstrip)
            stop += leadingSpaceEnd(s.substr(stop));
        if (startOffset < start)
            push(startOffset, start, -1);
        push(start, stop, t.id);
        startOffset = stop;
    }
    if (startOffset != s.size())
        push(startOffset, s.size(), -1);
}

std::optional<std::int32_t> AddedVocabulary::idOf(std::string_view content) const
{
    auto it = byContent_.find(std::string(content));
    if (it == byContent_.end())
        return std::nullopt;
    return tokens_[it->second].id;
}

const AddedToken* AddedVocabulary::byId(std::int32_t id) const
{
    auto it = byId_.find(id);
    return it == byId_.end() ? nullptr : &tokens_[it->second];
}

bool AddedVocabulary::isSpecialContent(std::string_view content) const
{
    return specialContents_.count(std::string(content)) != 0;
}

} // namespace blocklens::tok
