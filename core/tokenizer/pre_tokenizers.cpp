#include "tokenizer/pre_tokenizers.hpp"

#include "tokenizer/byte_level.hpp"
#include "tokenizer/normalizers.hpp"
#include "util/utf8.hpp"

namespace blocklens::tok {
namespace {

// Pattern::find_matches of a char predicate: each matching character is a match of its own.
template <class Pred>
void charMatches(std::string_view text, Pred&& pred, std::vector<MatchRange>& out)
{
    out.clear();
    if (text.empty()) {
        out.push_back({0, 0, false});
        return;
    }
    std::uint32_t lastOffset = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<std::uint32_t>(i);
        const char32_t c = utf8::decodeAt(text, i);
        if (pred(c)) {
            if (lastOffset < b)
                out.push_back({lastOffset, b, false});
            out.push_back({b, static_cast<std::uint32_t>(i), true});
            lastOffset = static_cast<std::uint32_t>(i);
        }
    }
    if (text.size() > lastOffset)
        out.push_back({lastOffset, static_cast<std::uint32_t>(text.size()), false});
}

void regexSplit(const Regex& re, const Piece& p, SplitBehavior behavior, bool invert, std::vector<Piece>& out)
{
    thread_local std::vector<std::pair<std::uint32_t, std::uint32_t>> matches;
    thread_local std::vector<MatchRange> ranges;
    matches.clear();
    re.findAll(p.text, matches);
    coverMatches(p.text.size(), matches, ranges, invert);
    splitPiece(p, ranges, behavior, out);
}

// The ByteLevel mapping written out: each byte becomes its byte-level character, all the
// characters of one input character keep that character's alignment.
Piece writeByteLevel(const Piece& p, Arena& arena)
{
    std::vector<CharChange> dest;
    dest.reserve(p.text.size());
    std::size_t i = 0;
    while (i < p.text.size()) {
        const std::size_t len = static_cast<std::size_t>(utf8::sequenceLength(static_cast<unsigned char>(p.text[i])));
        for (std::size_t k = 0; k < len && i + k < p.text.size(); ++k)
            dest.push_back({byte_level::charOf(static_cast<std::uint8_t>(p.text[i + k])), k > 0 ? 1 : 0});
        i += len;
    }
    return transform(p, dest, 0, arena);
}

} // namespace

void SequencePreTokenizer::apply(std::vector<Piece>& pieces, Arena& arena) const
{
    for (const auto& s : steps_)
        s->apply(pieces, arena);
}

void SplitPreTokenizer::apply(std::vector<Piece>& pieces, Arena&) const
{
    splitEach(pieces, [&](const Piece& p, std::vector<Piece>& out) { regexSplit(pattern_, p, behavior_, invert_, out); });
}

ByteLevelPreTokenizer::ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, bool rawBytes)
    : addPrefixSpace_(addPrefixSpace), useRegex_(useRegex), rawBytes_(rawBytes)
{
    if (useRegex_)
        gpt2_ = Regex::compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                               "ByteLevel");
}

void ByteLevelPreTokenizer::apply(std::vector<Piece>& pieces, Arena& arena) const
{
    splitEach(pieces, [&](const Piece& in, std::vector<Piece>& out) {
        Piece p = in;
        if (addPrefixSpace_ && (p.text.empty() || p.text.front() != ' '))
            p = prepend(p, " ", arena);
        const std::size_t first = out.size();
        if (useRegex_)
            regexSplit(*gpt2_, p, SplitBehavior::Isolated, false, out);
        else if (!p.text.empty())
            out.push_back(p);
        for (std::size_t k = first; k < out.size(); ++k) {
            if (rawBytes_)
                out[k].byteLevel = true;
            else
                out[k] = writeByteLevel(out[k], arena);
        }
    });
}

MetaspacePreTokenizer::MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
    : scheme_(scheme), split_(split), space_(Regex::literal(" ", "Metaspace")),
      replacementPattern_(Regex::literal([&] {
          std::string s;
          utf8::append(s, replacement);
          return s;
      }(), "Metaspace"))
{
    utf8::append(replacement_, replacement);
}

void MetaspacePreTokenizer::apply(std::vector<Piece>& pieces, Arena& arena) const
{
    splitEach(pieces, [&](const Piece& in, std::vector<Piece>& out) {
        Piece p = replaceMatches(in, space_, replacement_, arena);
        const bool startsWith = p.text.substr(0, replacement_.size()) == replacement_;
        if ((scheme_ == PrependScheme::Always && !startsWith) ||
            (scheme_ == PrependScheme::First && !startsWith && p.origBegin == 0))
            p = prepend(p, replacement_, arena);
        if (!split_) {
            if (!p.text.empty())
                out.push_back(p);
            return;
        }
        thread_local std::vector<std::pair<std::uint32_t, std::uint32_t>> matches;
        thread_local std::vector<MatchRange> ranges;
        matches.clear();
        replacementPattern_.findAll(p.text, matches);
        coverMatches(p.text.size(), matches, ranges);
        splitPiece(p, ranges, SplitBehavior::MergedWithNext, out);
    });
}

void DigitsPreTokenizer::apply(std::vector<Piece>& pieces, Arena&) const
{
    splitEach(pieces, [&](const Piece& p, std::vector<Piece>& out) {
        thread_local std::vector<MatchRange> ranges;
        charMatches(p.text, [](char32_t c) { return c >= '0' && c <= '9'; }, ranges);
        splitPiece(p, ranges, individual_ ? SplitBehavior::Isolated : SplitBehavior::Contiguous, out);
    });
}

WhitespacePreTokenizer::WhitespacePreTokenizer(bool splitOnly) : splitOnly_(splitOnly)
{
    if (!splitOnly_)
        words_ = Regex::compilePcre("[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]+|"
                                    "[^\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}\\t-\\r\\x{20}\\x{85}\\p{Z}]+",
                                    "Whitespace");
}

void WhitespacePreTokenizer::apply(std::vector<Piece>& pieces, Arena&) const
{
    splitEach(pieces, [&](const Piece& p, std::vector<Piece>& out) {
        if (splitOnly_) {
            thread_local std::vector<MatchRange> ranges;
            charMatches(p.text, [](char32_t c) { return isWhiteSpace(c); }, ranges);
            splitPiece(p, ranges, SplitBehavior::Removed, out);
        } else {
            regexSplit(*words_, p, SplitBehavior::Removed, /*invert=*/true, out);
        }
    });
}

} // namespace blocklens::tok
