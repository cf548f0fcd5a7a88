#pragma once
// Hugging Face tokenizer.json, encoded exactly as the `tokenizers` library does, with each
// token's span in the original text in code points.
//
// Supported: BPE models with byte-level pre-tokenization and regex splits (Llama 3, Qwen2/3,
// GPT-2 style) and BPE with metaspace / Prepend+Replace normalization and byte fallback
// (Llama 2, Mistral style); NFC normalization; added and special tokens; decoding.
//
// Components: normalizers Sequence, NFC, NFD, NFKC, NFKD, Prepend, Append, Replace, Strip;
// pre-tokenizers Sequence, Split, ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit;
// post-processors TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence;
// decoders Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, BPEDecoder.
// Anything else (WordPiece/Unigram/WordLevel models, Lowercase, Precompiled...) is refused with
// an Error naming it. The file's "truncation" and "padding" settings are ignored (encode() always
// returns the whole text). Normalization data is Unicode 14 (core/tokenizer/gen_unicode_tables.py).
// Regex classes follow Oniguruma, which `tokenizers` uses (see tokenizer/regex.hpp).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens {

struct TokenSpan {
    std::size_t begin = 0; // code points, [begin, end) in the text given to encode()
    std::size_t end = 0;
    friend bool operator==(const TokenSpan&, const TokenSpan&) = default;
};

struct Encoding {
    std::vector<std::int32_t> ids;
    std::vector<TokenSpan> spans; // one per id; special tokens added by the template get {0,0}
};

class Tokenizer {
public:
    // Throws Error naming the file and the field that is wrong or unsupported.
    static Tokenizer fromFile(const std::filesystem::path& path);
    static Tokenizer fromJson(std::string_view json, const std::string& sourceName = "tokenizer.json");

    Tokenizer(const Tokenizer&) = default; // cheap: the vocabulary is shared and immutable
    Tokenizer& operator=(const Tokenizer&) = default;
    Tokenizer(Tokenizer&&) noexcept = default;
    Tokenizer& operator=(Tokenizer&&) noexcept = default;
    ~Tokenizer();

    // `text` must be valid UTF-8. Thread-safe.
    Encoding encode(std::string_view text, bool addSpecialTokens = false) const;
    std::string decode(std::span<const std::int32_t> ids, bool skipSpecialTokens = false) const;

    std::size_t vocabSize() const;   // model vocabulary plus added tokens (max id + 1)
    std::optional<std::int32_t> tokenToId(std::string_view token) const;
    std::string idToToken(std::int32_t id) const; // empty for an unknown id
    const std::string& contentHash() const;       // SHA-256 of the tokenizer.json bytes
    std::string describe() const;                 // e.g. "byte-level BPE, 128256 tokens"

    struct Impl;

private:
    explicit Tokenizer(std::shared_ptr<const Impl> impl);
    std::shared_ptr<const Impl> impl_;
};

} // namespace blocklens
