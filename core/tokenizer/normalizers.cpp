#include "tokenizer/normalizers.hpp"

#include "util/utf8.hpp"

namespace blocklens::tok {

Piece SequenceNormalizer::normalize(const Piece& p, Arena& arena) const
{
    Piece cur = p;
    for (const auto& s : steps_)
        cur = s->normalize(cur, arena);
    return cur;
}

Piece UnicodeNormalizer::normalize(const Piece& p, Arena& arena) const
{
    if (unicode::isUnchanged(p.text, form_))
        return p;
    std::vector<CharChange> changes;
    changes.reserve(p.text.size());
    unicode::normalize(p.text, form_, changes);
    return transform(p, changes, 0, arena);
}

Piece replaceMatches(const Piece& p, const Regex& pattern, std::string_view content, Arena& arena)
{
    if (p.text.empty())
        return p;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> matches;
    pattern.findAll(p.text, matches);
    if (matches.empty())
        return p;
    std::string& text = arena.text();
    std::vector<Align>& al = arena.aligns();
    text.reserve(p.text.size() + matches.size() * content.size());
    al.reserve(text.capacity());
    auto copy = [&](std::size_t b, std::size_t e) {
        text.append(p.text.substr(b, e - b));
        appendAligns(p, b, e, al);
    };
    std::size_t prev = 0;
    for (const auto& [b, e] : matches) {
        copy(prev, b);
        const Align a = e >= 1 ? p.alignAt(e - 1) : Align{p.origBegin, p.origBegin};
        text.append(content);
        al.insert(al.end(), content.size(), a);
        prev = e;
    }
    copy(prev, p.text.size());
    Piece r = p;
    r.text = text;
    r.align = al.data();
    return r;
}

Piece StripNormalizer::normalize(const Piece& p, Arena& arena) const
{
    const std::u32string chars = utf8::toUtf32(p.text);
    std::size_t leading = 0, trailing = 0;
    if (left_)
        while (leading < chars.size() && isWhiteSpace(chars[leading]))
            ++leading;
    if (right_)
        while (trailing < chars.size() - leading && isWhiteSpace(chars[chars.size() - 1 - trailing]))
            ++trailing;
    if (leading == 0 && trailing == 0)
        return p;
    // As NormalizedString::lrstrip, which compares character indices with the BYTE length.
    const std::size_t bytes = p.text.size();
    std::vector<CharChange> dest;
    for (std::size_t i = 0; i < chars.size(); ++i) {
        if (i < leading || i >= bytes - trailing)
            continue;
        dest.push_back({chars[i], i == bytes - trailing - 1 ? -static_cast<int>(trailing) : 0});
    }
    return transform(p, dest, leading, arena);
}

} // namespace blocklens::tok
