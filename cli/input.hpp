#pragma once
// Loading what a CLI command was pointed at: a document file, a JSONL dataset, literal text, or
// the workspace.
#include "cli/args.hpp"
#include "document/dataset.hpp"
#include "document/document.hpp"
#include "store/store.hpp"
#include "tokenizer/tokenizer.hpp"

#include <filesystem>
#include <optional>

namespace blocklens::cli {

bool isDatasetPath(const std::filesystem::path& path); // .jsonl / .ndjson


struct InputOptions {
    bool replaceInvalid = false;
};

Document loadInputDocument(const std::filesystem::path& path, const InputOptions& options, std::ostream& err);
Dataset loadInputDataset(const std::filesystem::path& path, const InputOptions& options, std::ostream& err);
std::optional<Tokenizer> loadOptionalTokenizer(const std::optional<std::string>& path);
// The workspace of --db PATH, else $BLOCKLENS_DB, else the default (store::resolveWorkspacePath),
// opened in `mode`.
store::Store openWorkspace(const ArgSpec::Parsed& a, store::OpenMode mode);

} // namespace blocklens::cli
