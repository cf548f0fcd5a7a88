#pragma once
// A piece of the input on its way through normalization and pre-tokenization: the equivalent of
// the `tokenizers` library's NormalizedString. `text` is the normalized form; every byte of it is
// aligned to a range of bytes of the ORIGINAL input (absolute offsets), the character it came
// from, so that token spans can be mapped back exactly as the library maps them.
//
// Pieces are cheap views: the text and alignments live in the input or in an Arena owned by the
// encode() call. A piece without an alignment array is an unmodified slice of the input (identity).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/unicode_normalize.hpp"

namespace blocklens::tok {

struct Align {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
};

struct Piece {
    std::string_view text;
    const Align* align = nullptr;  // one per byte of text; null: text is input[origBegin, origEnd)
    std::uint32_t origBegin = 0;   // the original range this piece came from (offsets_original)
    std::uint32_t origEnd = 0;
    std::int32_t addedId = -1;     // an added token recognized in the input (spans the whole piece)
    bool byteLevel = false;        // ByteLevel applied: each byte of text is one byte-level char

    bool isToken() const noexcept { return addedId >= 0; }
    bool identity() const noexcept { return align == nullptr; }

    // Alignment of byte i of text (i < text.size()).
    Align alignAt(std::size_t i) const noexcept;
    // The original byte range of normalized bytes [s, e), s < e (convert_offsets).
    Align originalRange(std::size_t s, std::size_t e) const noexcept;
    // Sub-piece of normalized bytes [s, e), s < e.
    Piece slice(std::size_t s, std::size_t e) const noexcept;
};

// Storage for texts and alignments made by transformations during one encode() call. encode()
// reuses one arena per thread (reset() between calls keeps the buffers, so large texts do not pay
// for fresh pages every time, up to a cap on the memory kept).
class Arena {
public:
    std::string& text();
    std::vector<Align>& aligns();
    // Forgets the contents (all pieces pointing into the arena become invalid); keeps at most
    // `keepBytes` of buffer capacity for the next call.
    void reset(std::size_t keepBytes = std::size_t{64} << 20);

private:
    std::vector<std::unique_ptr<std::string>> texts_;
    std::vector<std::unique_ptr<std::vector<Align>>> aligns_;
    std::size_t textsUsed_ = 0;
    std::size_t alignsUsed_ = 0;
};

using unicode::CharChange;

// Appends the alignments of bytes [b, e) of p (b on a character boundary) to out.
void appendAligns(const Piece& p, std::size_t b, std::size_t e, std::vector<Align>& out);

// NormalizedString::transform over the whole piece: `dest` are the new characters with their
// change (0 replaces a character, 1 inserts, -N replaces and removes N more); `initialRemoved`
// characters are dropped from the start first.
Piece transform(const Piece& p, std::span<const CharChange> dest, std::size_t initialRemoved, Arena& arena);

// NormalizedString::prepend / append (no-ops on an empty piece).
Piece prepend(const Piece& p, std::string_view s, Arena& arena);
Piece append(const Piece& p, std::string_view s, Arena& arena);

// One element of Pattern::find_matches: a byte range of the piece's text and whether it matched.
struct MatchRange {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    bool isMatch = false;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// NormalizedString::split followed by PreTokenizedString's dropping of empty pieces: appends the
// non-empty sub-pieces to `out`. `ranges` must cover the text in order.
void splitPiece(const Piece& p, std::span<const MatchRange> ranges, SplitBehavior behavior, std::vector<Piece>& out);

// Turns a list of match [begin,end) pairs into the covering list find_matches returns.
void coverMatches(std::size_t length, std::span<const std::pair<std::uint32_t, std::uint32_t>> matches,
                  std::vector<MatchRange>& out, bool invert = false);

} // namespace blocklens::tok
