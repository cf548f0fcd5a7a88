#pragma once
// Added tokens (tokenizer.json "added_tokens"): recognized in the text before the model sees it,
// as the `tokenizers` library's AddedVocabulary does: leftmost-longest matching of the token
// contents (raw ones on the input, `normalized` ones on the normalized text), with the
// single_word / lstrip / rstrip rules.
#include "tokenizer/piece.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace blocklens::tok {

struct AddedToken {
    std::int32_t id = 0;
    std::string content;
    bool singleWord = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = false;
    bool special = false;
};

// Leftmost-longest, non-overlapping matching of a set of byte strings, in time linear in the text
// whatever the patterns: an Aho-Corasick automaton over the REVERSED patterns, run from the end
// of the text to its start, gives at each position the longest pattern that starts there (the
// longest pattern that is a suffix of the automaton's state); a forward greedy pass then takes
// the leftmost, longest, non-overlapping ones. (A trie walk from every position costs text
// length x pattern length on text like "aaaa..." and a 20,000-byte token "aaa...ab".)
class LiteralMatcher {
public:
    void add(std::string_view pattern, std::int32_t value);
    // Computes the failure links; call once after the last add() and before findAll().
    void finish();
    bool empty() const noexcept { return patterns_ == 0; }
    struct Hit {
        std::uint32_t begin, end;
        std::int32_t value;
    };
    void findAll(std::string_view text, std::vector<Hit>& out) const;

private:
    struct Node {
        std::vector<std::pair<unsigned char, std::int32_t>> next; // sorted by byte
        std::int32_t value = -1;   // a pattern ends here (the first added of identical ones)
        std::int32_t fail = 0;     // longest proper suffix that is also a trie node
        std::uint32_t depth = 0;
        std::uint32_t outLength = 0; // longest pattern that is a suffix of this node (0: none)
        std::int32_t outValue = -1;
    };
    std::int32_t child(std::int32_t node, unsigned char b) const noexcept;
    std::vector<Node> nodes_{Node{}};
    std::int32_t rootNext_[256] = {}; // root transitions (0: stay at the root)
    std::size_t patterns_ = 0;
};

class AddedVocabulary {
public:
    // `normalizeContent` gives the normalized form of a `normalized` token's content.
    template <class Normalize>
    void build(std::vector<AddedToken> tokens, Normalize&& normalizeContent)
    {
        tokens_ = std::move(tokens);
        // The library matches special tokens first, then the others (the order only matters for
        // identical contents).
        for (int pass = 0; pass < 2; ++pass) {
            for (std::size_t i = 0; i < tokens_.size(); ++i) {
                const AddedToken& t = tokens_[i];
                if (t.special != (pass == 0) || t.content.empty())
                    continue;
                if (t.normalized)
                    normalizedMatcher_.add(normalizeContent(t.content), static_cast<std::int32_t>(i));
                else
                    rawMatcher_.add(t.content, static_cast<std::int32_t>(i));
            }
        }
        rawMatcher_.finish();
        normalizedMatcher_.finish();
        for (std::size_t i = 0; i < tokens_.size(); ++i) {
            byContent_.emplace(tokens_[i].content, i);
            byId_[tokens_[i].id] = i;
            if (tokens_[i].special)
                specialContents_.insert(tokens_[i].content);
        }
    }

    // Splits p around the added tokens found in it (raw ones when `normalizedPass` is false),
    // appending non-empty pieces; matched pieces carry the token id.
    void split(const Piece& p, bool normalizedPass, std::vector<Piece>& out) const;
    bool hasNormalizedTokens() const noexcept { return !normalizedMatcher_.empty(); }

    const std::vector<AddedToken>& tokens() const noexcept { return tokens_; }
    std::optional<std::int32_t> idOf(std::string_view content) const;
    const AddedToken* byId(std::int32_t id) const;
    bool isSpecialContent(std::string_view content) const;

private:
    std::vector<AddedToken> tokens_;
    LiteralMatcher rawMatcher_, normalizedMatcher_;
    std::unordered_map<std::string, std::size_t> byContent_;
    std::unordered_map<std::int32_t, std::size_t> byId_;
    std::unordered_set<std::string> specialContents_;
};

} // namespace blocklens::tok
