#include "tokenizer/piece.hpp"

#include "util/utf8.hpp"

namespace blocklens::tok {
namespace {

bool isContinuation(char c) noexcept { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Alignment of every byte of p as an explicit array.
std::vector<Align> materialize(const Piece& p)
{
    std::vector<Align> a;
    a.reserve(p.text.size());
    appendAligns(p, 0, p.text.size(), a);
    return a;
}

std::size_t charLenAt(std::string_view s, std::size_t i) noexcept
{
    std::size_t len = static_cast<std::size_t>(utf8::sequenceLength(static_cast<unsigned char>(s[i])));
    return i + len > s.size() ? s.size() - i : len;
}

} // namespace

void appendAligns(const Piece& p, std::size_t b, std::size_t e, std::vector<Align>& out)
{
    if (!p.identity()) {
        out.insert(out.end(), p.align + b, p.align + e);
        return;
    }
    std::size_t i = b;
    while (i < e) {
        const auto c = static_cast<unsigned char>(p.text[i]);
        if (c < 0x80) {
            const std::uint32_t o = p.origBegin + static_cast<std::uint32_t>(i);
            out.push_back({o, o + 1});
            ++i;
            continue;
        }
        std::size_t len = static_cast<std::size_t>(utf8::sequenceLength(c));
        len = std::min(len, p.text.size() - i);
        const Align al{p.origBegin + static_cast<std::uint32_t>(i), p.origBegin + static_cast<std::uint32_t>(i + len)};
        for (std::size_t k = 0; k < len && i + k < e; ++k)
            out.push_back(al);
        i += len;
    }
}

std::string& Arena::text()
{
    if (textsUsed_ == texts_.size())
        texts_.push_back(std::make_unique<std::string>());
    std::string& s = *texts_[textsUsed_++];
    s.clear();
    return s;
}

std::vector<Align>& Arena::aligns()
{
    if (alignsUsed_ == aligns_.size())
        aligns_.push_back(std::make_unique<std::vector<Align>>());
    std::vector<Align>& a = *aligns_[alignsUsed_++];
    a.clear();
    return a;
}

void Arena::reset(std::size_t keepBytes)
{
    std::size_t kept = 0;
    for (auto& t : texts_)
        kept += t->capacity();
    for (auto& a : aligns_)
        kept += a->capacity() * sizeof(Align);
    if (kept > keepBytes) {
        texts_.clear();
        aligns_.clear();
    }
    textsUsed_ = 0;
    alignsUsed_ = 0;
}

Align Piece::alignAt(std::size_t i) const noexcept
{
    if (align)
        return align[i];
    std::size_t s = i;
    while (s > 0 && isContinuation(text[s]))
        --s;
    const std::size_t e = s + charLenAt(text, s);
    return {origBegin + static_cast<std::uint32_t>(s), origBegin + static_cast<std::uint32_t>(e)};
}

Align Piece::originalRange(std::size_t s, std::size_t e) const noexcept
{
    return {alignAt(s).begin, alignAt(e - 1).end};
}

Piece Piece::slice(std::size_t s, std::size_t e) const noexcept
{
    Piece r = *this;
    r.text = text.substr(s, e - s);
    if (align) {
        r.align = align + s;
        r.origBegin = align[s].begin;
        r.origEnd = align[e - 1].end;
    } else {
        r.origBegin = origBegin + static_cast<std::uint32_t>(s);
        r.origEnd = origBegin + static_cast<std::uint32_t>(e);
    }
    return r;
}

Piece transform(const Piece& p, std::span<const CharChange> dest, std::size_t initialRemoved, Arena& arena)
{
    const std::vector<Align> old = materialize(p);
    std::string& text = arena.text();
    std::vector<Align>& al = arena.aligns();
    text.reserve(p.text.size());
    al.reserve(p.text.size());

    // `offset` walks the old text as the replaced characters are consumed.
    std::size_t offset = 0;
    for (std::size_t k = 0; k < initialRemoved && offset < p.text.size(); ++k)
        offset += charLenAt(p.text, offset);

    for (const CharChange& d : dest) {
        Align a;
        if (d.change > 0)
            a = offset < 1 ? Align{p.origBegin, p.origBegin} : old[offset - 1]; // inserted: like its left neighbour
        else
            a = offset < old.size() ? old[offset] : (old.empty() ? Align{p.origBegin, p.origBegin} : old.back());
        if (d.change <= 0 && offset < p.text.size())
            offset += charLenAt(p.text, offset); // the replaced character
        for (int r = 0; r < -d.change && offset < p.text.size(); ++r)
            offset += charLenAt(p.text, offset); // removed characters
        const std::size_t before = text.size();
        utf8::append(text, d.c);
        al.insert(al.end(), text.size() - before, a);
    }
    Piece r = p;
    r.text = text;
    r.align = al.data();
    return r;
}

Piece prepend(const Piece& p, std::string_view s, Arena& arena)
{
    if (p.text.empty() || s.empty())
        return p;
    // The new characters and the first character all take the first character's alignment.
    const std::size_t first = charLenAt(p.text, 0);
    const Align a = p.alignAt(0);
    std::string& text = arena.text();
    std::vector<Align>& al = arena.aligns();
    text.reserve(s.size() + p.text.size());
    text.append(s);
    text.append(p.text);
    al.reserve(text.size());
    al.insert(al.end(), s.size() + first, a);
    appendAligns(p, first, p.text.size(), al);
    Piece r = p;
    r.text = text;
    r.align = al.data();
    return r;
}

Piece append(const Piece& p, std::string_view s, Arena& arena)
{
    if (p.text.empty() || s.empty())
        return p;
    // The appended characters take the alignment of the last character.
    const Align a = p.alignAt(p.text.size() - 1);
    std::string& text = arena.text();
    std::vector<Align>& al = arena.aligns();
    text.reserve(s.size() + p.text.size());
    text.append(p.text);
    text.append(s);
    al.reserve(text.size());
    appendAligns(p, 0, p.text.size(), al);
    al.insert(al.end(), s.size(), a);
    Piece r = p;
    r.text = text;
    r.align = al.data();
    return r;
}

void splitPiece(const Piece& p, std::span<const MatchRange> ranges, SplitBehavior behavior, std::vector<Piece>& out)
{
    auto emit = [&](std::uint32_t b, std::uint32_t e) {
        if (e > b)
            out.push_back(p.slice(b, e));
    };
    switch (behavior) {
    case SplitBehavior::Isolated:
        for (const auto& r : ranges)
            emit(r.begin, r.end);
        return;
    case SplitBehavior::Removed:
        for (const auto& r : ranges)
            if (!r.isMatch)
                emit(r.begin, r.end);
        return;
    case SplitBehavior::Contiguous:
    case SplitBehavior::MergedWithPrevious: {
        // Accumulate (begin, end) then emit; a pending range is open until the next one starts.
        bool havePending = false, previousMatch = false;
        std::uint32_t pb = 0, pe = 0;
        for (const auto& r : ranges) {
            const bool extend = behavior == SplitBehavior::Contiguous ? (r.isMatch == previousMatch)
                                                                      : (r.isMatch && !previousMatch);
            if (extend && havePending) {
                pe = r.end;
            } else {
                if (havePending)
                    emit(pb, pe);
                pb = r.begin;
                pe = r.end;
                havePending = true;
            }
            previousMatch = r.isMatch;
        }
        if (havePending)
            emit(pb, pe);
        return;
    }
    case SplitBehavior::MergedWithNext: {
        // Walk backwards: a match glues onto the range that follows it.
        std::vector<std::pair<std::uint32_t, std::uint32_t>> acc;
        bool previousMatch = false;
        for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
            if (it->isMatch && !previousMatch && !acc.empty())
                acc.back().first = it->begin;
            else
                acc.emplace_back(it->begin, it->end);
            previousMatch = it->isMatch;
        }
        for (auto it = acc.rbegin(); it != acc.rend(); ++it)
            emit(it->first, it->second);
        return;
    }
    }
}

void coverMatches(std::size_t length, std::span<const std::pair<std::uint32_t, std::uint32_t>> matches,
                  std::vector<MatchRange>& out, bool invert)
{
    out.clear();
    if (length == 0) {
        out.push_back({0, 0, invert});
        return;
    }
    std::uint32_t prev = 0;
    for (const auto& [b, e] : matches) {
        if (prev != b)
            out.push_back({prev, b, invert});
        out.push_back({b, e, !invert});
        prev = e;
    }
    if (prev != length)
        out.push_back({prev, static_cast<std::uint32_t>(length), invert});
}

} // namespace blocklens::tok
