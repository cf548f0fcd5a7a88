#pragma once
// Pre-tokenizers of tokenizer.json: they cut each piece (not yet a token) into words and may
// rewrite them: Sequence, Split (regex or string), ByteLevel, Metaspace, Digits, Whitespace,
// WhitespaceSplit. Semantics follow the `tokenizers` library (PreTokenizedString::split drops
// empty pieces).
#include "tokenizer/piece.hpp"
#include "tokenizer/regex.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::tok {

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Rewrites `pieces` in place; pieces that are tokens already pass through untouched.
    virtual void apply(std::vector<Piece>& pieces, Arena& arena) const = 0;
};

class SequencePreTokenizer final : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
    void apply(std::vector<Piece>& pieces, Arena& arena) const override;

private:
    std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class SplitPreTokenizer final : public PreTokenizer {
public:
    SplitPreTokenizer(Regex pattern, SplitBehavior behavior, bool invert)
        : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
    void apply(std::vector<Piece>& pieces, Arena& arena) const override;

private:
    Regex pattern_;
    SplitBehavior behavior_;
    bool invert_;
};

class ByteLevelPreTokenizer final : public PreTokenizer {
public:
    // `rawBytes`: the model tokenizes byte-level words from their raw bytes (else the byte-level
    // characters are written out).
    ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, bool rawBytes);
    void apply(std::vector<Piece>& pieces, Arena& arena) const override;

private:
    bool addPrefixSpace_, useRegex_, rawBytes_;
    std::optional<Regex> gpt2_;
};

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer final : public PreTokenizer {
public:
    MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split);
    void apply(std::vector<Piece>& pieces, Arena& arena) const override;

private:
    std::string replacement_;
    PrependScheme scheme_;
    bool split_;
    Regex space_, replacementPattern_;
};

class DigitsPreTokenizer final : public PreTokenizer {
public:
    explicit DigitsPreTokenizer(bool individual) : individual_(individual) {}
    void apply(std::vector<Piece>& pieces, Arena& arena) const override;

private:
    bool individual_;
};

// Whitespace: words of \w+ or [^\w\s]+ (Rust regex classes); WhitespaceSplit: split on whitespace.
class WhitespacePreTokenizer final : public PreTokenizer {
public:
    explicit WhitespacePreTokenizer(bool splitOnly);
    void apply(std::vector<Piece>& pieces, Arena& arena) const override;

private:
    bool splitOnly_;
    std::optional<Regex> words_;
};

// Piece buffers larger than this are freed after use instead of kept for the next call.
inline constexpr std::size_t kKeepPieceBufferBytes = std::size_t{128} << 20;

// Keeps v's buffer for reuse on this thread unless it is larger than kKeepPieceBufferBytes.
inline void releaseIfLarge(std::vector<Piece>& v)
{
    v.clear();
    if (v.capacity() * sizeof(Piece) > kKeepPieceBufferBytes)
        std::vector<Piece>().swap(v);
}

// Splits every piece that is not a token with f(piece, out). The output buffer is kept per
// thread (the input's buffer becomes the next output's): a text of a few MB has millions of
// pieces, and fresh buffers that size (above malloc's mmap threshold, 32 MB) cost page faults on
// every step of every call, which made encoding time jump between 2 and 4 MB of text.
template <class F>
void splitEach(std::vector<Piece>& pieces, F&& f)
{
    thread_local std::vector<Piece> out;
    out.clear();
    out.reserve(pieces.size() * 2);
    for (const Piece& p : pieces) {
        if (p.isToken())
            out.push_back(p);
        else
            f(p, out);
    }
    pieces.swap(out);
    releaseIfLarge(out);
}

} // namespace blocklens::tok
