#pragma once
// Block sizes are measured in tokens, and a block boundary may only fall where it cuts no token.
// A TokenGrid holds the code-point span of every token of one document, either from a real
// tokenizer's Encoding or from the built-in approximate counter used when no tokenizer is given.
//
// The approximate unit is called "approx-tokens" everywhere it is shown: a run of letters, digits
// and '_' is one token, every other non-space code point is one token, whitespace belongs to no
// token. For English prose this lands within some tens of percent of a BPE vocabulary's count; it
// is a size unit, not a tokenizer.
#include "tokenizer/tokenizer.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens {
class Document;
}

namespace blocklens::segment {

inline constexpr std::string_view kApproxTokenUnit = "approx-tokens";
// The unit of a grid built from a model's own tokenizer, as the app shows it.
inline constexpr std::string_view kModelTokenUnit = "tokens";

// "1 token", "270 tokens", "1 approx-token", "0 approx-tokens": a count in a plural unit, singular
// for exactly one. A unit that does not end in 's' (a tokenizer's description) is kept as given.
std::string formatTokenCount(std::size_t count, std::string_view pluralUnit);

class TokenGrid {
public:
    TokenGrid() = default;

    static TokenGrid approximate(const Document& doc);
    static TokenGrid approximate(std::string_view utf8Text);
    // Tokens with an empty span (special tokens a template added) are left out: they cover no
    // text, so they neither constrain cuts nor belong to a block. `textLength` in code points.
    static TokenGrid fromEncoding(const Encoding& encoding, std::size_t textLength, std::string unit);

    const std::string& unit() const noexcept { return unit_; }
    std::size_t size() const noexcept { return begins_.size(); }      // number of tokens
    std::size_t textLength() const noexcept { return length_; }       // code points
    TokenSpan span(std::size_t index) const { return {begins_[index], ends_[index]}; }

    // Number of tokens that begin before `offset`: a block [a, b) holds tokensBefore(b) -
    // tokensBefore(a) tokens, and every token lies in exactly one block when all cuts are valid.
    std::size_t tokensBefore(std::size_t offset) const noexcept;
    std::size_t count(std::size_t begin, std::size_t end) const noexcept
    {
        return tokensBefore(end) - tokensBefore(begin);
    }
    // Code-point offset where token `index` begins; textLength() for index == size().
    std::size_t tokenBegin(std::size_t index) const noexcept
    {
        return index < begins_.size() ? begins_[index] : length_;
    }

    // True when no token has begin < offset < end (0 and textLength() always are).
    bool isCutPoint(std::size_t offset) const noexcept;
    // `offset` when it is a cut point, otherwise the start of the token that straddles it
    // (repeated while overlapping tokens straddle that one), so a snapped cut never moves right.
    std::size_t snap(std::size_t offset) const noexcept;

private:
    std::string unit_{kApproxTokenUnit};
    std::size_t length_ = 0;
    std::vector<std::uint32_t> begins_; // ascending (non-decreasing)
    std::vector<std::uint32_t> ends_;
    std::vector<std::uint32_t> maxEnd_; // max(ends_[0..i]): lets isCutPoint look at one token
};

} // namespace blocklens::segment
