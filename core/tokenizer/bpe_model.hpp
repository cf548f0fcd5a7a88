#pragma once
// The BPE model of tokenizer.json: vocabulary, merge ranks, and the merge loop of the
// `tokenizers` library (a min-heap of (rank, position) with the same stale-entry rule), so words
// split exactly as it splits them. Options: unk_token, fuse_unk, byte_fallback (<0xXX> tokens),
// continuing_subword_prefix, end_of_word_suffix, ignore_merges.
//
// Words that went through the ByteLevel pre-tokenizer are tokenized straight from their raw bytes
// (one symbol per byte) when the vocabulary holds all 256 byte characters. A bounded per-thread
// word cache remembers recent words; encode() stays const and thread-safe.
#include "tokenizer/flat_map.hpp"
#include "tokenizer/piece.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace blocklens::tok {

struct BpeOptions {
    std::optional<std::string> unkToken;
    std::optional<std::string> continuingSubwordPrefix;
    std::optional<std::string> endOfWordSuffix;
    bool fuseUnk = false;
    bool byteFallback = false;
    bool ignoreMerges = false;
};

// A token of one word: id and [begin, end) in bytes of the word's text.
struct WordToken {
    std::int32_t id;
    std::uint32_t begin;
    std::uint32_t end;
};

class BpeModel {
public:
    // `vocab` in file order; `merges` in rank order. Throws Error naming `source` and the field
    // (model.vocab / model.merges[i]) when a merge names an unknown token.
    BpeModel(const std::vector<std::pair<std::string, std::int32_t>>& vocab,
             const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
             const std::string& source);

    // True when all 256 byte-level characters are tokens, so byte-level words can be tokenized
    // from their raw bytes.
    bool byteLevelReady() const noexcept { return byteLevelReady_; }

    // Appends the tokens of one word (a non-empty pre-tokenized piece).
    void tokenize(const Piece& word, std::vector<WordToken>& out) const;

    std::optional<std::int32_t> tokenToId(std::string_view token) const;
    const std::string* idToToken(std::int32_t id) const;
    std::size_t size() const noexcept { return vocab_.size(); }
    std::int32_t maxId() const noexcept { return static_cast<std::int32_t>(idToToken_.size()) - 1; }
    const BpeOptions& options() const noexcept { return options_; }
    std::size_t mergeCount() const noexcept { return merges_.size(); }

private:
    struct MergeValue {
        std::uint32_t rank;
        std::int32_t newId;
    };
    struct Symbol {
        std::int32_t id;
        std::int32_t prev;
        std::int32_t next;
        std::uint32_t len;
    };
    struct Scratch;
    static Scratch& scratch();

    void tokenizeBytes(std::string_view bytes, std::vector<WordToken>& out) const;
    void tokenizeChars(std::string_view text, std::vector<WordToken>& out) const;
    void tokenizeCharsChunk(std::string_view text, std::vector<WordToken>& out) const;
    void buildCharSymbols(std::string_view text, Scratch& s) const;
    void mergeAll(Scratch& s) const;
    void emit(const Scratch& s, std::vector<WordToken>& out) const;

    BpeOptions options_;
    FlatStringMap<std::int32_t> vocab_;     // token -> id
    FlatStringMap<std::int32_t> rawVocab_;  // raw bytes of byte-level tokens -> id
    std::vector<std::string> idToToken_;
    PairMap<MergeValue> merges_;
    std::array<std::int32_t, 256> byteIds_{};         // byte-level char of each byte -> id
    std::array<std::int32_t, 256> byteFallbackIds_{}; // <0xXX> -> id, -1 if absent
    std::optional<std::int32_t> unkId_;
    // Long words (no pre-tokenizer, e.g. Llama 2) are cut before each "▁" that follows another
    // character when no merge can join across such a cut (checked at load), which gives the same
    // tokens as one merge loop over the whole word, without its huge heap.
    std::string cutBefore_;
    bool byteLevelReady_ = false;
    std::uint64_t serial_ = 0; // identifies this model's per-thread word caches
};

} // namespace blocklens::tok
