#include "cli/input.hpp"

#include "cli/progress_printer.hpp"

#include <algorithm>
#include <ostream>

namespace blocklens::cli {

bool isDatasetPath(const std::filesystem::path& path)
{
    auto ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == ".jsonl" || ext == ".ndjson";
}

Document loadInputDocument(const std::filesystem::path& path, const InputOptions& options, std::ostream& err)
{
    LoadOptions lo;
    lo.replaceInvalidUtf8 = options.replaceInvalid;
    LoadReport report;
    Document doc = loadDocument(path, lo, &report);
    if (!report.replacedByteOffsets.empty()) {
        err << "warning: " << path.string() << ": replaced " << report.replacedByteOffsets.size()
            << " invalid UTF-8 sequence(s) with U+FFFD; first at byte " << report.replacedByteOffsets.front() << "\n";
    }
    return doc;
}

Dataset loadInputDataset(const std::filesystem::path& path, const InputOptions& options, std::ostream& err)
{
    DatasetLoadOptions lo;
    lo.replaceInvalidUtf8 = options.replaceInvalid;
    ProgressPrinter printer(err, "loading " + path.filename().string());
    return loadDataset(path, lo, printer.progress());
}

std::optional<Tokenizer> loadOptionalTokenizer(const std::optional<std::string>& path)
{
    if (!path || path->empty())
        return std::nullopt;
    return Tokenizer::fromFile(*path);
}

store::Store openWorkspace(const ArgSpec::Parsed& a, store::OpenMode mode)
{
    store::OpenOptions o;
    o.mode = mode;
    return store::Store::open(store::resolveWorkspacePath(a.optional("db")), o);
}

} // namespace blocklens::cli
