#include "document/document.hpp"

#include "util/error.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <map>

namespace blocklens {

std::string_view toString(DocumentKind kind)
{
    switch (kind) {
    case DocumentKind::PlainText: return "text";
    case DocumentKind::Markdown: return "markdown";
    case DocumentKind::SourceCode: return "code";
    }
    return "text";
}

Document::Document(std::string text, DocumentMeta meta, std::vector<Boundary> reference)
    : text_(std::move(text)), meta_(std::move(meta))
{
    if (const auto bad = utf8::findInvalid(text_); bad != std::string_view::npos)
        throw Error("invalid UTF-8", {.file = meta_.source, .byteOffset = static_cast<std::int64_t>(bad)});
    index_ = utf8::CodePointIndex(text_);
    hash_ = Sha256::hex(text_);
    if (meta_.id.empty())
        meta_.id = hash_.substr(0, 12);
    setReference(std::move(reference));
}

std::string_view Document::slice(std::size_t cpBegin, std::size_t cpEnd) const
{
    if (cpBegin > cpEnd)
        throw Error("slice [" + std::to_string(cpBegin) + ", " + std::to_string(cpEnd) + ") is reversed");
    const std::size_t b = byteOffset(cpBegin);
    return std::string_view(text_).substr(b, byteOffset(cpEnd) - b);
}

void Document::setReference(std::vector<Boundary> boundaries)
{
    validateBoundaries(boundaries, length());
    reference_ = std::move(boundaries);
}

std::vector<std::size_t> Document::lineStarts() const
{
    std::vector<std::size_t> starts{0};
    std::size_t cp = 0;
    for (unsigned char c : text_) {
        if ((c & 0xC0) == 0x80)
            continue;
        ++cp;
        if (c == '\n')
            starts.push_back(cp);
    }
    return starts;
}

void validateBoundaries(const std::vector<Boundary>& boundaries, std::size_t length)
{
    std::size_t previous = 0;
    for (std::size_t i = 0; i < boundaries.size(); ++i) {
        const auto& b = boundaries[i];
        const std::string where = "boundary " + std::to_string(i) + " (offset " + std::to_string(b.offset) + ")";
        if (b.offset == 0)
            throw Error(where + ": a boundary at offset 0 is not allowed (the first block always starts there)");
        if (b.offset >= length)
            throw Error(where + ": offset is not inside the text (" + std::to_string(length) + " code points)");
        if (b.offset <= previous && i > 0)
            throw Error(where + ": offsets must be strictly ascending (previous " + std::to_string(previous) + ")");
        if (b.level < 1 || b.level > 9)
            throw Error(where + ": level " + std::to_string(b.level) + " is outside 1..9");
        previous = b.offset;
    }
}

std::string readFileBytes(const std::filesystem::path& path, std::uintmax_t maxBytes, std::string_view role)
{
    requireRegularFile(path, role);
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > maxBytes)
        throw Error("file is " + formatByteCount(size) + "; the limit is " + formatByteCount(maxBytes),
                    {.file = path.string()});
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot open for reading (permission denied?)", {.file = path.string()});
    std::string bytes;
    bytes.resize(static_cast<std::size_t>(ec ? 0 : size));
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad())
        throw Error("read error", {.file = path.string()});
    return bytes;
}

std::string validatedUtf8(std::string bytes, const std::string& sourceName, const LoadOptions& options,
                          LoadReport* report)
{
    const auto bad = utf8::findInvalid(bytes);
    if (bad == std::string_view::npos)
        return bytes;
    if (!options.replaceInvalidUtf8)
        throw Error("invalid UTF-8 (use the replace option to substitute U+FFFD and continue)",
                    {.file = sourceName, .byteOffset = static_cast<std::int64_t>(bad)});
    auto repaired = utf8::replaceInvalid(bytes);
    if (report)
        report->replacedByteOffsets = std::move(repaired.invalidOffsets);
    return std::move(repaired.text);
}

namespace {

struct KindInfo {
    DocumentKind kind;
    std::string_view codeLanguage;
};

KindInfo kindFromExtension(std::string ext)
{
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    static const std::map<std::string, KindInfo, std::less<>> table = {
        {".md", {DocumentKind::Markdown, ""}},      {".markdown", {DocumentKind::Markdown, ""}},
        {".py", {DocumentKind::SourceCode, "python"}}, {".c", {DocumentKind::SourceCode, "c"}},
        {".h", {DocumentKind::SourceCode, "c"}},     {".cc", {DocumentKind::SourceCode, "cpp"}},
        {".cpp", {DocumentKind::SourceCode, "cpp"}}, {".cxx", {DocumentKind::SourceCode, "cpp"}},
        {".hpp", {DocumentKind::SourceCode, "cpp"}}, {".cu", {DocumentKind::SourceCode, "cpp"}},
        {".js", {DocumentKind::SourceCode, "javascript"}}, {".ts", {DocumentKind::SourceCode, "typescript"}},
        {".rs", {DocumentKind::SourceCode, "rust"}}, {".go", {DocumentKind::SourceCode, "go"}},
        {".java", {DocumentKind::SourceCode, "java"}}, {".sh", {DocumentKind::SourceCode, "shell"}},
        {".rb", {DocumentKind::SourceCode, "ruby"}},
    };
    if (auto it = table.find(ext); it != table.end())
        return it->second;
    return {DocumentKind::PlainText, ""};
}

} // namespace

Document loadDocument(const std::filesystem::path& path, const LoadOptions& options, LoadReport* report)
{
    std::string bytes = readFileBytes(path, options.maxBytes);
    const std::string name = path.string();
    // A byte-order mark alone is no text either (the mark is dropped below).
    if (bytes.empty() || bytes == "\xEF\xBB\xBF")
        throw Error("file is empty: there is no text to work on", {.file = name});
    // A NUL byte never occurs in text files; it marks binary data (images, archives, models).
    if (const auto nul = bytes.find('\0'); nul != std::string::npos)
        throw Error("looks like a binary file, not text (NUL byte)", {.file = name, .byteOffset = static_cast<std::int64_t>(nul)});
    std::string text = validatedUtf8(std::move(bytes), name, options, report);
    if (text.starts_with("\xEF\xBB\xBF"))
        text.erase(0, 3); // a UTF-8 byte-order mark is not part of the text
    const auto info = kindFromExtension(path.extension().string());
    DocumentMeta meta;
    meta.source = name;
    meta.kind = info.kind;
    meta.codeLanguage = std::string(info.codeLanguage);
    return Document(std::move(text), std::move(meta));
}

} // namespace blocklens
