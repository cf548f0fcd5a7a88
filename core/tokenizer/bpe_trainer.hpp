#pragma once
// Training of a byte-level BPE tokenizer (GPT-2 style) whose tokenizer.json the project's
// Tokenizer (and Hugging Face `tokenizers`) load:
//
//   BpeWordCounts counts;
//   counts.add(text);                        // any number of texts, any thread count
//   const std::string json = trainByteLevelBpe(counts, {.vocabSize = 8192});
//
// Words are what the ByteLevel pre-tokenizer (use_regex, no prefix space) cuts: the GPT-2 regex
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ over the raw text.
// Merges are learned inside words only, most frequent pair first (ties: the smaller pair of ids),
// as the `tokenizers` BpeTrainer does. The vocabulary: the special tokens (ids 0..), the 256
// byte tokens in byte order, then one token per merge (a merge whose result already exists
// reuses its id). The file adds the first special token in front of every encoding
// (TemplateProcessing, like Llama 3) and decodes with the ByteLevel decoder.
#include "util/progress.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace blocklens {

class BpeWordCounts {
public:
    BpeWordCounts();
    // Pre-tokenizes `text` (valid UTF-8; invalid sequences are still counted byte by byte) and
    // counts its words. Uses up to `threads` threads on large texts (0: hardware concurrency).
    void add(std::string_view text, unsigned threads = 1);
    void merge(const BpeWordCounts& other);

    const std::unordered_map<std::string, std::int64_t>& words() const { return words_; }
    std::int64_t totalWords() const { return total_; }

private:
    std::unordered_map<std::string, std::int64_t> words_; // raw bytes of a word -> occurrences
    std::int64_t total_ = 0;
};

struct BpeTrainerOptions {
    std::size_t vocabSize = 8192;       // specials + 256 bytes + merges (at most)
    std::int64_t minFrequency = 2;      // a pair seen fewer times is never merged
    std::vector<std::string> specialTokens = {"<|begin_of_text|>", "<|end_of_text|>"};
    bool prependFirstSpecial = true;    // post-processor: the first special token before each text
};

struct BpeTrainResult {
    std::string json;                   // tokenizer.json
    std::size_t vocabSize = 0;
    std::size_t merges = 0;
};

// Throws Error when the vocabulary cannot hold the special tokens and the 256 bytes, or a special
// token is empty or repeated. Progress in merges; a stop request ends training early (the result
// holds the merges learned so far).
BpeTrainResult trainByteLevelBpe(const BpeWordCounts& counts, const BpeTrainerOptions& options,
                                 const Progress& progress = {});

} // namespace blocklens
