#pragma once
// Tokenizer::Impl: the immutable pipeline built from a tokenizer.json, shared by copies of a
// Tokenizer and used concurrently by encode()/decode() (all per-call state is local or per thread).
#include "tokenizer/added_vocabulary.hpp"
#include "tokenizer/bpe_model.hpp"
#include "tokenizer/decoders.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/post_processors.hpp"
#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/tokenizer.hpp"

#include <memory>
#include <string>

namespace blocklens {

struct Tokenizer::Impl {
    std::string source;      // file name for messages
    std::string contentHash; // SHA-256 of the JSON bytes
    std::string description;
    std::unique_ptr<tok::Normalizer> normalizer;
    std::unique_ptr<tok::PreTokenizer> preTokenizer;
    std::unique_ptr<tok::BpeModel> model;
    tok::AddedVocabulary added;
    std::unique_ptr<tok::PostProcessor> postProcessor;
    std::unique_ptr<tok::Decoder> decoder;

    // The normalized form of an added token's content (for `normalized` added tokens).
    std::string normalizeText(std::string_view text) const;
    std::string tokenText(std::int32_t id) const;
};

namespace tok {
// Builds the pipeline from tokenizer.json text; throws Error naming `source` and the field.
std::shared_ptr<const Tokenizer::Impl> loadTokenizerJson(std::string_view json, const std::string& source);
} // namespace tok

} // namespace blocklens
