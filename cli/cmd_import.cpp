// blocklens-cli import DATASET.jsonl: a JSONL dataset into the experiment store.
#include "cli/command.hpp"
#include "cli/exchange_args.hpp"
#include "cli/json_output.hpp"
#include "cli/input.hpp"
#include "cli/progress_printer.hpp"
#include "document/exchange_formats.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <ostream>

namespace blocklens::cli {

Command importCommand()
{
    ArgSpec spec("DATASET.jsonl [--db PATH] [--name NAME] [--format F [--separator S] [--offsets U]] [--tokenizer PATH] "
                 "[--json]",
                 "Import a JSONL dataset (record or chunks form, or one of the ecosystem's block formats) into the "
                 "workspace, in one transaction.");
    spec.positional("DATASET", "the dataset (.jsonl)")
        .option("db", "PATH", "workspace database file (default: $BLOCKLENS_DB, else the user's data directory)")
        .option("name", "NAME", "dataset name (default: the file name without extension)")
        .option("format", "F",
                "record (also reads the chunks form), block-attention, block-attention-request, cacheblend or "
                "chunk-offsets",
                "record");
    addExchangeOptions(spec)
        .option("tokenizer", "PATH", "tokenizer.json: also store each document's token count")
        .flag("replace-invalid", "replace invalid UTF-8 with U+FFFD instead of failing")
        .flag("json", "print JSON");
    return {"import", spec, [](const ArgSpec::Parsed& a, Io& io) {
                using clock = std::chrono::steady_clock;
                const auto start = clock::now();
                const auto option = a.optional("db");
                const bool isDefault = (!option || option->empty()) && !std::getenv("BLOCKLENS_DB");
                const auto path = store::resolveWorkspacePath(option);
                // An existing workspace is opened (and checked) before the slow load; a new one is
                // only created once the dataset has loaded, so a bad dataset leaves no empty file.
                store::OpenOptions o;
                o.createDirectories = isDefault;
                std::error_code ec;
                std::optional<store::Store> st;
                if (std::filesystem::exists(path, ec))
                    st.emplace(store::Store::open(path, o));
                const ExchangeFormat format = parseExchangeFormat(a.value("format"));
                const ExchangeOptions exchange = readExchangeOptions(a);
                Dataset ds;
                if (format == ExchangeFormat::Record || format == ExchangeFormat::Chunks) {
                    ds = loadInputDataset(a.positionals[0], {a.flag("replace-invalid")}, io.err);
                } else {
                    DatasetLoadOptions lo;
                    lo.replaceInvalidUtf8 = a.flag("replace-invalid");
                    ProgressPrinter printer(io.err, "loading " + std::filesystem::path(a.positionals[0]).filename().string());
                    ds = loadExchangeDataset(a.positionals[0], format, exchange, lo, printer.progress());
                }
                if (!st)
                    st.emplace(store::Store::open(path, o));
                store::ImportOptions opt;
                opt.name = a.value("name");
                const auto tokenizer = loadOptionalTokenizer(a.optional("tokenizer"));
                if (tokenizer) {
                    opt.tokenizerHash = tokenizer->contentHash();
                    opt.tokenizerName = a.value("tokenizer");
                    opt.countTokens = [&](const Document& d) { return tokenizer->encode(d.text()).ids.size(); };
                }
                store::ImportResult r;
                {
                    ProgressPrinter printer(io.err, "importing");
                    r = st->importDataset(ds, opt, printer.progress());
                }
                const double seconds = std::chrono::duration<double>(clock::now() - start).count();
                std::string name;
                for (const auto& info : st->listDatasets())
                    if (info.id == r.datasetId)
                        name = info.name;
                if (a.flag("json")) {
                    nlohmann::ordered_json j;
                    j["db"] = path.string();
                    j["dataset"] = name;
                    j["dataset_id"] = r.datasetId;
                    j["rows"] = r.rows;
                    j["new_documents"] = r.newDocuments;
                    j["boundaries"] = r.boundaries;
                    j["seconds"] = seconds;
                    io.out << jsonText(j) << "\n";
                } else {
                    io.out << "imported " << r.rows << " rows (" << r.newDocuments << " new documents, " << r.boundaries
                           << " boundaries) as dataset '" << name << "' (id " << r.datasetId << ") into "
                           << path.string() << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
