#pragma once
// Normalizers of tokenizer.json, each transforming a piece with the alignment rules of the
// `tokenizers` library's NormalizedString: Sequence, NFC, NFD, NFKC, NFKD, Prepend, Append,
// Replace, Strip.
#include "tokenizer/piece.hpp"
#include "tokenizer/regex.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::tok {

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual Piece normalize(const Piece& p, Arena& arena) const = 0;
};

class SequenceNormalizer final : public Normalizer {
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
    Piece normalize(const Piece& p, Arena& arena) const override;

private:
    std::vector<std::unique_ptr<Normalizer>> steps_;
};

class UnicodeNormalizer final : public Normalizer {
public:
    explicit UnicodeNormalizer(unicode::Form form) : form_(form) {}
    Piece normalize(const Piece& p, Arena& arena) const override;

private:
    unicode::Form form_;
};

class PrependNormalizer final : public Normalizer {
public:
    explicit PrependNormalizer(std::string s) : s_(std::move(s)) {}
    Piece normalize(const Piece& p, Arena& arena) const override { return prepend(p, s_, arena); }

private:
    std::string s_;
};

class AppendNormalizer final : public Normalizer {
public:
    explicit AppendNormalizer(std::string s) : s_(std::move(s)) {}
    Piece normalize(const Piece& p, Arena& arena) const override { return append(p, s_, arena); }

private:
    std::string s_;
};

// NormalizedString::replace: every match becomes `content`, whose characters all take the
// alignment of the last byte of the match.
Piece replaceMatches(const Piece& p, const Regex& pattern, std::string_view content, Arena& arena);

class ReplaceNormalizer final : public Normalizer {
public:
    ReplaceNormalizer(Regex pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
    Piece normalize(const Piece& p, Arena& arena) const override { return replaceMatches(p, pattern_, content_, arena); }

private:
    Regex pattern_;
    std::string content_;
};

class StripNormalizer final : public Normalizer {
public:
    StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
    Piece normalize(const Piece& p, Arena& arena) const override;

private:
    bool left_, right_;
};

} // namespace blocklens::tok
