#include "tokenizer/unicode_normalize.hpp"

#include "tokenizer/unicode_tables.hpp"
#include "util/utf8.hpp"

#include <algorithm>
#include <span>

namespace blocklens::tok::unicode {
namespace {

namespace ud = unicode_data;

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

std::span<const char32_t> lookupDecomposition(char32_t c, bool compat)
{
    auto find = [c](const ud::DecompEntry* index, std::size_t n, const char32_t* pool) -> std::span<const char32_t> {
        const auto* end = index + n;
        const auto* it = std::lower_bound(index, end, c, [](const ud::DecompEntry& e, char32_t v) { return e.cp < v; });
        if (it != end && it->cp == c)
            return {pool + it->offset, it->length};
        return {};
    };
    if (compat) {
        auto k = find(ud::kCompatIndex, ud::kCompatIndexSize, ud::kCompatPool);
        if (!k.empty())
            return k;
    }
    return find(ud::kCanonicalIndex, ud::kCanonicalIndexSize, ud::kCanonicalPool);
}

// Emits the full decomposition of c (or c itself) in mapping order.
template <class F>
void decompose(char32_t c, bool compat, F&& emit)
{
    if (c < 0xC0) {
        emit(c);
        return;
    }
    if (c >= kSBase && c < kSBase + kSCount) {
        const char32_t s = c - kSBase;
        emit(kLBase + s / kNCount);
        emit(kVBase + (s % kNCount) / kTCount);
        if (s % kTCount != 0)
            emit(kTBase + s % kTCount);
        return;
    }
    const auto d = lookupDecomposition(c, compat);
    if (d.empty()) {
        emit(c);
        return;
    }
    for (char32_t x : d)
        emit(x);
}

struct Pending {
    std::uint8_t ccc;
    char32_t c;
    int change;
};

// The decomposition stage: full decompositions, canonically reordered (stable sort by combining
// class within each run that follows a starter), changes travelling with their characters.
void decomposeAll(std::string_view text, bool compat, std::vector<CharChange>& out)
{
    std::vector<Pending> pending;
    auto flush = [&] {
        std::stable_sort(pending.begin(), pending.end(),
                         [](const Pending& a, const Pending& b) { return a.ccc < b.ccc; });
        for (const auto& p : pending)
            out.push_back({p.c, p.change});
        pending.clear();
    };
    std::size_t i = 0;
    while (i < text.size()) {
        const char32_t c = utf8::decodeAt(text, i);
        bool first = true;
        decompose(c, compat, [&](char32_t d) {
            const std::uint8_t cls = combiningClass(d);
            if (cls == 0)
                flush();
            pending.push_back({cls, d, first ? 0 : 1});
            first = false;
        });
    }
    flush();
}

// The recomposition stage, a transcription of the crate's state machine (including the order in
// which it emits a composed starter and the marks it could not absorb).
void recompose(const std::vector<CharChange>& in, std::vector<CharChange>& out)
{
    std::vector<CharChange> buffer;
    std::optional<CharChange> composee;
    std::optional<std::uint8_t> lastCcc;
    for (const CharChange& item : in) {
        const std::uint8_t cls = combiningClass(item.c);
        if (!composee) {
            if (cls != 0) {
                out.push_back(item);
                continue;
            }
            composee = item;
            continue;
        }
        const CharChange k = *composee;
        if (!lastCcc) {
            if (auto r = compose(k.c, item.c)) {
                composee = CharChange{*r, k.change + item.change - 1};
                continue;
            }
            if (cls == 0) {
                composee = item;
                out.push_back(k);
                continue;
            }
            buffer.push_back(item);
            lastCcc = cls;
            continue;
        }
        if (*lastCcc >= cls) {
            if (cls == 0) { // blocked starter: emit the composee and the marks it kept
                composee = item;
                lastCcc.reset();
                out.push_back(k);
                out.insert(out.end(), buffer.begin(), buffer.end());
                buffer.clear();
                continue;
            }
            buffer.push_back(item);
            lastCcc = cls;
            continue;
        }
        if (auto r = compose(k.c, item.c)) {
            composee = CharChange{*r, k.change + item.change - 1};
            continue;
        }
        buffer.push_back(item);
        lastCcc = cls;
    }
    if (composee)
        out.push_back(*composee);
    out.insert(out.end(), buffer.begin(), buffer.end());
}

bool inRanges(char32_t c, const ud::CodePointRange* r, std::size_t n)
{
    const auto* end = r + n;
    const auto* it = std::upper_bound(r, end, c, [](char32_t v, const ud::CodePointRange& x) { return v < x.first; });
    return it != r && (it - 1)->last >= c;
}

} // namespace

std::uint8_t combiningClass(char32_t c) noexcept
{
    if (c < 0x300)
        return 0;
    const auto* end = ud::kCccRanges + ud::kCccRangesSize;
    const auto* it = std::upper_bound(ud::kCccRanges, end, c,
                                      [](char32_t v, const ud::CccRange& r) { return v < r.first; });
    if (it == ud::kCccRanges)
        return 0;
    --it;
    return c <= it->last ? it->ccc : 0;
}

std::optional<char32_t> compose(char32_t a, char32_t b) noexcept
{
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && b > kTBase && b < kTBase + kTCount && (a - kSBase) % kTCount == 0)
        return a + (b - kTBase);
    const auto* end = ud::kCompositions + ud::kCompositionsSize;
    const auto* it = std::lower_bound(ud::kCompositions, end, std::pair{a, b},
                                      [](const ud::Composition& x, const std::pair<char32_t, char32_t>& v) {
                                          return x.first != v.first ? x.first < v.first : x.second < v.second;
                                      });
    if (it != end && it->first == a && it->second == b)
        return it->composite;
    return std::nullopt;
}

bool isUnchanged(std::string_view text, Form form) noexcept
{
    std::size_t i = 0;
    if (form == Form::NFC) {
        while (i < text.size()) {
            if (static_cast<unsigned char>(text[i]) < 0x80) {
                ++i;
                continue;
            }
            const char32_t c = utf8::decodeAt(text, i);
            if (c >= 0x300 && inRanges(c, ud::kNfcUnsafeRanges, ud::kNfcUnsafeRangesSize))
                return false;
        }
        return true;
    }
    // Other forms: only pure ASCII is known to be left alone.
    for (char ch : text)
        if (static_cast<unsigned char>(ch) >= 0x80)
            return false;
    return true;
}

void normalize(std::string_view text, Form form, std::vector<CharChange>& out)
{
    const bool compat = form == Form::NFKC || form == Form::NFKD;
    if (form == Form::NFD || form == Form::NFKD) {
        decomposeAll(text, compat, out);
        return;
    }
    std::vector<CharChange> decomposed;
    decomposeAll(text, compat, decomposed);
    recompose(decomposed, out);
}

const char* unicodeVersion() noexcept { return ud::kUnicodeVersion; }

} // namespace blocklens::tok::unicode
