#pragma once
// JSONL datasets of documents with author-set boundaries (the record format of
// shared/data/README.md), plus the common {"chunks": [...]} form.
#include "document/document.hpp"
#include "util/progress.hpp"

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace blocklens {

struct Dataset {
    std::string path;
    std::vector<Document> documents;
};

struct DatasetLoadOptions : LoadOptions {
    DatasetLoadOptions() { maxBytes = 1ull << 30; }
};

// Parses one JSONL line (record or chunks form). `lineNumber` is 1-based, for messages.
Document parseDatasetRecord(std::string_view line, std::int64_t lineNumber, const std::string& fileName,
                            const LoadOptions& options = {});

// Loads every non-blank line; the first malformed line aborts with an Error naming its line
// number and what is wrong. Reports progress in bytes.
Dataset loadDataset(const std::filesystem::path& path, const DatasetLoadOptions& options = {},
                    const Progress& progress = {});

// The same for any JSONL format whose lines `parse` turns into documents (each one the line's
// text without its newline, its 1-based number and the file name); the file checks (size, UTF-8,
// empty file, no records) are loadDataset's.
using RecordParser = std::function<Document(std::string_view line, std::int64_t lineNumber, const std::string& fileName)>;
Dataset loadDatasetWith(const std::filesystem::path& path, const RecordParser& parse,
                        const DatasetLoadOptions& options = {}, const Progress& progress = {});

enum class RecordForm { Record, Chunks };

// One JSON object (no trailing newline). `boundaries` replaces the document's reference.
std::string formatDatasetRecord(const Document& doc, const std::vector<Boundary>& boundaries,
                                RecordForm form = RecordForm::Record);

} // namespace blocklens
