#pragma once
// Post-processors of tokenizer.json, applied to a finished encoding (spans in code points):
// TemplateProcessing (special tokens around the sequence when add_special_tokens), ByteLevel
// (optional offset trimming), BertProcessing, RobertaProcessing, Sequence.
#include "tokenizer/tokenizer.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace blocklens::tok {

using TokenText = std::function<std::string(std::int32_t)>;

class PostProcessor {
public:
    virtual ~PostProcessor() = default;
    virtual void process(Encoding& enc, bool addSpecialTokens, const TokenText& tokenText) const = 0;
};

class SequencePostProcessor final : public PostProcessor {
public:
    explicit SequencePostProcessor(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
    void process(Encoding& enc, bool addSpecialTokens, const TokenText& tokenText) const override;

private:
    std::vector<std::unique_ptr<PostProcessor>> steps_;
};

// ByteLevel's process_offsets: spans lose the leading/trailing spaces of their token.
void trimByteLevelOffsets(Encoding& enc, bool addPrefixSpace, const TokenText& tokenText);

class ByteLevelPostProcessor final : public PostProcessor {
public:
    ByteLevelPostProcessor(bool trimOffsets, bool addPrefixSpace) : trim_(trimOffsets), addPrefixSpace_(addPrefixSpace) {}
    void process(Encoding& enc, bool addSpecialTokens, const TokenText& tokenText) const override;

private:
    bool trim_, addPrefixSpace_;
};

// The single-sequence template: special tokens (each possibly several ids) around "$A".
class TemplatePostProcessor final : public PostProcessor {
public:
    struct Item {
        bool isSequence = false;
        std::vector<std::int32_t> ids; // the special token's ids
    };
    explicit TemplatePostProcessor(std::vector<Item> single) : single_(std::move(single)) {}
    void process(Encoding& enc, bool addSpecialTokens, const TokenText& tokenText) const override;

private:
    std::vector<Item> single_;
};

} // namespace blocklens::tok
