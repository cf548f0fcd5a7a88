#pragma once
// The demo model's corpus files (tools/demo_model/make_corpus.py) and their tokenized form.
//
// Text corpus: UTF-8 documents separated by a line holding only U+001E (record separator).
// Token file (.u16): the documents encoded with a tokenizer of at most 65536 tokens, each as
// [BOS] ids... [EOS], concatenated, as little-endian uint16 after a 16-byte header
// "BLTOK16\0" + uint64 token count -- what train-lm samples windows from.
#include "tokenizer/tokenizer.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::lm {

// The documents of a corpus text (views into `text`); empty documents are dropped.
std::vector<std::string_view> splitDocuments(std::string_view text);

// Reads a whole file; Error naming it when it cannot be read.
std::string readFile(const std::filesystem::path& path);

struct TokenizeStats {
    std::int64_t documents = 0, tokens = 0, bytes = 0;
};

// Encodes the documents (in parallel, order kept) as [bos] ids [eos] each. Error when the
// tokenizer has more than 65536 tokens or lacks the special tokens.
std::vector<std::uint16_t> tokenizeDocuments(const Tokenizer& tokenizer, const std::vector<std::string_view>& documents,
                                             std::int32_t bos, std::int32_t eos, unsigned threads = 0,
                                             TokenizeStats* stats = nullptr, const Progress& progress = {});

void writeTokenFile(const std::filesystem::path& path, const std::vector<std::uint16_t>& tokens);
// Error naming the file for a wrong magic, a size that does not match the count, or a short read.
std::vector<std::uint16_t> readTokenFile(const std::filesystem::path& path);

} // namespace blocklens::lm
