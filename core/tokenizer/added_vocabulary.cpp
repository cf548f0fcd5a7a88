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
    for (auto it = pattern.rbegin(); it != pattern.rend(); ++it) { // reversed: see the header
        const auto b = static_cast<unsigned char>(*it);
        std::int32_t c = child(node, b);
        if (c < 0) {
            c = static_cast<std::int32_t>(nodes_.size());
            const std::uint32_t depth = nodes_[static_cast<std::size_t>(node)].depth + 1;
            nodes_.emplace_back();
            nodes_.back().depth = depth;
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
    ++patterns_;
}

void LiteralMatcher::finish()
{
    for (int b = 0; b < 256; ++b)
        rootNext_[b] = std::max(child(0, static_cast<unsigned char>(b)), 0);
    // Breadth first, so that a node's failure target (shallower) is complete before the node.
    std::vector<std::int32_t> queue{0};
    for (std::size_t q = 0; q < queue.size(); ++q) {
        const std::int32_t u = queue[q];
        Node& nu = nodes_[static_cast<std::size_t>(u)];
        if (u != 0) {
            const Node& f = nodes_[static_cast<std::size_t>(nu.fail)];
            nu.outLength = nu.value >= 0 ? nu.depth : f.outLength;
            nu.outValue = nu.value >= 0 ? nu.value : f.outValue;
        }
        for (const auto& [b, v] : nodes_[static_cast<std::size_t>(u)].next) {
            std::int32_t f = 0;
            if (u != 0) {
                f = nodes_[static_cast<std::size_t>(u)].fail;
                while (f != 0 && child(f, b) < 0)
                    f = nodes_[static_cast<std::size_t>(f)].fail;
                f = std::max(child(f, b), 0);
            }
            nodes_[static_cast<std::size_t>(v)].fail = f;
            queue.push_back(v);
        }
    }
}

void LiteralMatcher::findAll(std::string_view text, std::vector<Hit>& out) const
{
    if (patterns_ == 0 || text.empty())
        return;
    // Backwards: the longest pattern starting at each position (only positions that have one).
    thread_local std::vector<Hit> starts;
    starts.clear();
    std::int32_t state = 0;
    for (std::size_t j = text.size(); j-- > 0;) {
        const auto b = static_cast<unsigned char>(text[j]);
        std::int32_t next = -1;
        while (state != 0 && (next = child(state, b)) < 0)
            state = nodes_[static_cast<std::size_t>(state)].fail;
        state = state == 0 ? rootNext_[b] : next;
        const Node& n = nodes_[static_cast<std::size_t>(state)];
        if (n.outLength > 0)
            starts.push_back({static_cast<std::uint32_t>(j), static_cast<std::uint32_t>(j + n.outLength), n.outValue});
    }
    // Forwards: leftmost first, skipping candidates that overlap the previous hit.
    std::size_t end = 0;
    for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
        if (it->begin < end)
            continue;
        out.push_back(*it);
        end = it->end;
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
    // The whitespace run found by the last rstrip, [runFrom, runEnd): hits inside it (a token
    // of whitespace, say) reuse its end instead of scanning the run again for each.
    std::size_t runFrom = std::string_view::npos, runEnd = 0;
    for (const auto& hit : hits) {
        std::size_t start = hit.begin, stop = hit.end;
        const AddedToken& t = tokens_[static_cast<std::size_t>(hit.value)];
        if (t.singleWord) {
            const bool startSpace = start == 0 || !isRustWordChar(lastChar(s.substr(0, start)));
            const bool stopSpace = stop == s.size() || !isRustWordChar(firstChar(s.substr(stop)));
            if (!startSpace || !stopSpace)
                continue;
        }
        // lstrip: the whitespace before the token, not reaching back past the previous piece
        // (scanning only [startOffset, start) keeps this linear).
        if (t.lstrip && start > startOffset)
            start = startOffset + trailingSpaceStart(s.substr(startOffset, start - startOffset));
        else if (t.lstrip)
            start = std::max(start, startOffset);
        if (t.rstrip) {
            if (runFrom != std::string_view::npos && stop >= runFrom && stop <= runEnd) {
                stop = runEnd;
            } else {
                runFrom = stop;
                runEnd = stop + leadingSpaceEnd(s.substr(stop));
                stop = runEnd;
            }
        }
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
