#pragma once
// A document: UTF-8 text with code-point offsets, provenance and a stable content hash.
#include "util/utf8.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens {

// Where a new block starts: a code-point offset into the text (never 0) and its level
// (1 = coarsest: chapter, page, top-level definition; 2 and 3 finer).
struct Boundary {
    std::size_t offset = 0;
    int level = 1;
    friend bool operator==(const Boundary&, const Boundary&) = default;
};

enum class DocumentKind { PlainText, Markdown, SourceCode };
std::string_view toString(DocumentKind kind);

struct DocumentMeta {
    std::string id;       // dataset id, or the first 12 hex digits of the content hash
    std::string category; // dataset metadata (book, code, manual, ...); may be empty
    std::string variant;  // structured | plain | empty
    std::string lang;     // natural language (en, fr, ...)
    std::string source;   // file path or the dataset's source field
    DocumentKind kind = DocumentKind::PlainText;
    std::string codeLanguage; // for source code: python, cpp, ... (from the extension)
};

class Document {
public:
    Document() = default;
    // `text` must be valid UTF-8 (throws Error naming the byte offset otherwise).
    explicit Document(std::string text, DocumentMeta meta = {}, std::vector<Boundary> reference = {});

    const std::string& text() const noexcept { return text_; }
    std::size_t length() const noexcept { return index_.size(); } // in code points
    std::size_t byteOffset(std::size_t codePoint) const { return index_.byteOffset(text_, codePoint); }
    std::size_t codePointOffset(std::size_t byte) const { return index_.codePointOffset(text_, byte); }
    std::string_view slice(std::size_t cpBegin, std::size_t cpEnd) const; // [cpBegin, cpEnd)

    const std::string& contentHash() const noexcept { return hash_; } // SHA-256 of the UTF-8 text
    const DocumentMeta& meta() const noexcept { return meta_; }
    DocumentMeta& meta() noexcept { return meta_; }

    // Author-set boundaries (from a dataset), ascending, each inside (0, length()).
    const std::vector<Boundary>& reference() const noexcept { return reference_; }
    void setReference(std::vector<Boundary> boundaries); // validates

    // Code-point offset of the start of every line, as Python's text.split('\n') counts lines
    // (a final '\n' opens an empty last line); the first is 0.
    std::vector<std::size_t> lineStarts() const;

private:
    std::string text_;
    utf8::CodePointIndex index_;
    std::string hash_;
    DocumentMeta meta_;
    std::vector<Boundary> reference_;
};

// Checks that boundaries are ascending, unique, inside (0, length) and have levels 1..9;
// throws Error naming the first bad one.
void validateBoundaries(const std::vector<Boundary>& boundaries, std::size_t length);

struct LoadOptions {
    bool replaceInvalidUtf8 = false;            // replace invalid bytes with U+FFFD and report them
    std::uintmax_t maxBytes = 64ull << 20;      // larger files are refused with a clear error
};

struct LoadReport {
    std::vector<std::size_t> replacedByteOffsets; // where invalid UTF-8 was replaced (input bytes)
};

// Loads a plain-text, Markdown or source-code file (kind from the extension). Refuses binary
// files, invalid UTF-8 (unless replacing), empty files and files over maxBytes, naming the file
// and the byte offset.
Document loadDocument(const std::filesystem::path& path, const LoadOptions& options = {},
                      LoadReport* report = nullptr);

// Reads a whole file into memory with a size limit; throws Error naming the file.
// `role` names what the file is read as ("document", "dataset"...) in errors; a FIFO, a device
// or anything else that is not a regular file is refused before it is opened.
std::string readFileBytes(const std::filesystem::path& path, std::uintmax_t maxBytes,
                          std::string_view role = "document");

// Validates (or repairs) UTF-8 bytes; errors name `sourceName` and the byte offset.
std::string validatedUtf8(std::string bytes, const std::string& sourceName, const LoadOptions& options,
                          LoadReport* report);

} // namespace blocklens
