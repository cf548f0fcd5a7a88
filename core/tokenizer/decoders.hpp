#pragma once
// Decoders of tokenizer.json: they turn token strings back into text, each working on the whole
// list of tokens (decode_chain) as in the `tokenizers` library: Sequence, ByteLevel, Replace,
// ByteFallback, Fuse, Strip, Metaspace, BPEDecoder.
#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/regex.hpp"

#include <memory>
#include <string>
#include <vector>

namespace blocklens::tok {

class Decoder {
public:
    virtual ~Decoder() = default;
    virtual void decodeChain(std::vector<std::string>& tokens) const = 0;
};

class SequenceDecoder final : public Decoder {
public:
    explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
    void decodeChain(std::vector<std::string>& tokens) const override;

private:
    std::vector<std::unique_ptr<Decoder>> steps_;
};

// Byte-level characters back to bytes; all tokens joined into one (invalid UTF-8 becomes U+FFFD).
class ByteLevelDecoder final : public Decoder {
public:
    void decodeChain(std::vector<std::string>& tokens) const override;
};

class ReplaceDecoder final : public Decoder {
public:
    ReplaceDecoder(Regex pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
    void decodeChain(std::vector<std::string>& tokens) const override;

private:
    Regex pattern_;
    std::string content_;
};

// Runs of <0xXX> tokens become the bytes they spell (one U+FFFD per byte if not valid UTF-8).
class ByteFallbackDecoder final : public Decoder {
public:
    void decodeChain(std::vector<std::string>& tokens) const override;
};

class FuseDecoder final : public Decoder {
public:
    void decodeChain(std::vector<std::string>& tokens) const override;
};

class StripDecoder final : public Decoder {
public:
    StripDecoder(char32_t content, std::size_t start, std::size_t stop) : content_(content), start_(start), stop_(stop) {}
    void decodeChain(std::vector<std::string>& tokens) const override;

private:
    char32_t content_;
    std::size_t start_, stop_;
};

class MetaspaceDecoder final : public Decoder {
public:
    MetaspaceDecoder(char32_t replacement, PrependScheme scheme) : replacement_(replacement), scheme_(scheme) {}
    void decodeChain(std::vector<std::string>& tokens) const override;

private:
    char32_t replacement_;
    PrependScheme scheme_;
};

class BpeSuffixDecoder final : public Decoder {
public:
    explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
    void decodeChain(std::vector<std::string>& tokens) const override;

private:
    std::string suffix_;
};

} // namespace blocklens::tok
