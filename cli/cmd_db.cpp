// blocklens-cli db init|info|check|export: the experiment store (one SQLite file per workspace).
#include "cli/command.hpp"
#include "cli/exchange_args.hpp"
#include "cli/json_output.hpp"
#include "document/exchange_formats.hpp"
#include "store/store.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/signals.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ostream>

#include <unistd.h>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

struct Workspace {
    fs::path path;
    bool isDefault = false;
};

Workspace workspaceFrom(const ArgSpec::Parsed& a)
{
    const auto option = a.optional("db");
    const bool isDefault = (!option || option->empty()) && !std::getenv("BLOCKLENS_DB");
    return {store::resolveWorkspacePath(option), isDefault};
}

json infoJson(const store::StoreInfo& s)
{
    json j;
    j["path"] = s.path;
    j["schema_version"] = s.schemaVersion;
    j["supported_schema_version"] = store::kSchemaVersion;
    j["created_with"] = s.createdWith;
    j["journal_mode"] = s.journalMode;
    j["file_bytes"] = s.fileBytes;
    j["documents"] = s.documents;
    j["datasets"] = s.datasets;
    j["segmentations"] = s.segmentations;
    j["annotation_events"] = s.annotationEvents;
    j["evaluations"] = s.evaluations;
    j["runs"] = s.runs;
    j["tags"] = s.tags;
    j["notes"] = s.notes;
    json migrations = json::array();
    for (const auto& [version, at] : s.migrations)
        migrations.push_back({{"version", version}, {"applied_at", at}});
    j["migrations"] = std::move(migrations);
    if (!s.upgradedFrom.empty())
        j["upgraded_from"] = s.upgradedFrom;
    return j;
}

void printInfo(std::ostream& out, const store::StoreInfo& s)
{
    auto row = [&](const char* label, const std::string& v) {
        out << "  " << label << std::string(20 - std::string(label).size(), ' ') << v << "\n";
    };
    out << s.path << "\n";
    row("schema version", std::to_string(s.schemaVersion)
                              + (s.schemaVersion < store::kSchemaVersion
                                     ? " (upgraded to " + std::to_string(store::kSchemaVersion) + " when opened for writing)"
                                     : ""));
    if (!s.upgradedFrom.empty())
        row("upgraded from", s.upgradedFrom);
    row("created with", "BlockLens " + s.createdWith);
    row("journal mode", s.journalMode);
    row("file size", std::to_string(s.fileBytes) + " bytes");
    row("documents", std::to_string(s.documents));
    row("datasets", std::to_string(s.datasets));
    row("segmentations", std::to_string(s.segmentations));
    row("annotation events", std::to_string(s.annotationEvents));
    row("evaluations", std::to_string(s.evaluations));
    row("inference runs", std::to_string(s.runs));
    row("tags / notes", std::to_string(s.tags) + " / " + std::to_string(s.notes));
}

int runInit(const ArgSpec::Parsed& a, Io& io)
{
    const Workspace ws = workspaceFrom(a);
    std::error_code ec;
    const bool existed = fs::exists(ws.path, ec) && fs::file_size(ws.path, ec) > 0;
    store::OpenOptions o;
    o.mode = store::OpenMode::OpenOrCreate;
    o.createDirectories = true;
    auto st = store::Store::open(ws.path, o);
    const auto info = st.info();
    if (a.flag("json")) {
        json j = infoJson(info);
        j["created"] = !existed;
        io.out << jsonText(j) << "\n";
    } else if (existed) {
        io.out << "workspace " << ws.path.string() << " already exists (schema version " << info.schemaVersion << ")\n";
        if (!info.upgradedFrom.empty())
            io.out << "upgraded from schema version " << info.upgradedFrom << "\n";
    } else {
        io.out << "created workspace " << ws.path.string() << " (schema version " << info.schemaVersion << ")\n";
    }
    return 0;
}

// Read-only unless the file is writable, in which case an older schema is upgraded (with a
// backup) as any writing BlockLens would.
store::Store openForReading(const Workspace& ws)
{
    store::OpenOptions o;
    o.mode = ::access(ws.path.c_str(), W_OK) == 0 ? store::OpenMode::Existing : store::OpenMode::ReadOnly;
    return store::Store::open(ws.path, o);
}

int runInfo(const ArgSpec::Parsed& a, Io& io)
{
    store::OpenOptions o;
    o.mode = store::OpenMode::ReadOnly;
    o.allowOlderSchema = true;
    auto st = store::Store::open(workspaceFrom(a).path, o);
    const auto info = st.info();
    if (a.flag("json"))
        io.out << jsonText(infoJson(info)) << "\n";
    else
        printInfo(io.out, info);
    return 0;
}

int runCheck(const ArgSpec::Parsed& a, Io& io)
{
    const Workspace ws = workspaceFrom(a);
    store::OpenOptions o;
    o.mode = store::OpenMode::ReadOnly;
    o.allowOlderSchema = true;
    o.quickCheck = false; // the full check below reports every problem
    auto st = store::Store::open(ws.path, o);
    const auto r = st.check(!a.flag("quick"));
    if (a.flag("json")) {
        json j;
        j["path"] = ws.path.string();
        j["ok"] = r.ok;
        j["problems"] = r.problems;
        io.out << jsonText(j) << "\n";
    } else if (r.ok) {
        io.out << ws.path.string() << ": ok (" << (a.flag("quick") ? "quick_check" : "integrity_check")
               << ", foreign keys)\n";
    } else {
        io.out << ws.path.string() << ": " << r.problems.size() << " problem(s)\n";
        for (const auto& p : r.problems)
            io.out << "  " << p << "\n";
    }
    return r.ok ? 0 : 1;
}

bool writesToFile(const ArgSpec::Parsed& a) { return a.has("out") && a.value("out") != "-"; }

// Writes to --out FILE (through FILE.part, renamed when complete; see OutputFile) or to stdout.
template <class Write>
void writeOutput(const ArgSpec::Parsed& a, Io& io, Write&& write)
{
    if (!writesToFile(a)) {
        write(io.out);
        return;
    }
    OutputFile file(a.value("out"), a.flag("force"));
    write(file.stream());
    file.commit();
}

int runExport(const ArgSpec::Parsed& a, Io& io)
{
    const int modes = int(a.has("dataset")) + int(a.has("query")) + int(a.has("sql"));
    if (modes != 1)
        throw UsageError{"db export needs exactly one of --dataset NAME|ID, --query NAME or --sql QUERY"};
    // Refuse a bad --out before any work (OutputFile checks again when it creates the file).
    if (writesToFile(a))
        requireOutputTarget(a.value("out"), a.flag("force"));
    store::QueryLimits limits;
    const double timeout = a.number("timeout");
    if (timeout < 0)
        throw UsageError{"--timeout must be 0 (no limit) or more seconds"};
    limits.timeLimit = std::chrono::milliseconds(static_cast<std::int64_t>(std::min(timeout, 1e9) * 1000.0));
    limits.cancelled = [] { return interruptRequested(); };
    auto st = openForReading(workspaceFrom(a));
    json summary;
    if (a.has("dataset")) {
        // --format names any exchange format; --form (record or chunks) is its older, narrower name.
        if (a.has("format") && a.has("form"))
            throw UsageError{"give --format or --form, not both (--form record|chunks is --format record|chunks)"};
        const std::string form = a.has("format") ? a.value("format") : a.value("form");
        if (!a.has("format") && form != "record" && form != "chunks")
            throw UsageError{"--form must be record or chunks, not '" + form + "'"};
        ExchangeFormat format;
        try {
            format = parseExchangeFormat(form);
        } catch (const Error& e) {
            throw UsageError{"--format with --dataset: " + e.message()};
        }
        const ExchangeOptions exchange = readExchangeOptions(a);
        const auto id = st.findDataset(a.value("dataset"));
        if (!id)
            throw Error("no dataset named '" + a.value("dataset") + "' in this workspace (see 'blocklens-cli db info')",
                        {.file = st.path().string()});
        if (a.flag("adjudicated") && (a.flag("original") || a.flag("reviewed-only")))
            throw UsageError{"--adjudicated writes the adjudicated versions: give it without --original or --reviewed-only"};
        const auto formatter = [&](const Document& doc, const std::vector<Boundary>& boundaries) {
            return formatExchangeRecord(doc, boundaries, format, exchange);
        };
        std::size_t rows = 0;
        writeOutput(a, io, [&](std::ostream& out) {
            rows = a.flag("adjudicated") ? st.exportAdjudicated(*id, out, formatter)
                                         : st.exportDataset(*id, out, formatter, a.flag("original"), a.flag("reviewed-only"));
        });
        if (a.flag("adjudicated"))
            summary["adjudicated"] = true;
        summary["dataset_id"] = *id;
        summary["rows"] = rows;
        summary["form"] = form;
    } else {
        const std::string format = a.value("format");
        if (format != "csv" && format != "jsonl")
            throw UsageError{"--format must be csv or jsonl, not '" + format + "'"};
        const InterruptScope ctrlC; // Ctrl+C stops a long query cleanly
        const store::Table t = a.has("query") ? st.queryTable(a.value("query")) : st.select(a.value("sql"), limits);
        writeOutput(a, io, [&](std::ostream& out) {
            store::writeTable(t, format == "csv" ? store::TableFormat::Csv : store::TableFormat::Jsonl, out);
        });
        summary["rows"] = t.rows.size();
        summary["format"] = format;
    }
    if (writesToFile(a)) {
        summary["out"] = a.value("out");
        if (a.flag("json"))
            io.out << jsonText(summary) << "\n";
        else
            io.out << "wrote " << summary["rows"].dump() << " rows to " << a.value("out") << "\n";
    }
    return 0;
}

} // namespace

Command dbCommand()
{
    ArgSpec spec("(init | info | check | export) [--db PATH] [options] [--json]",
                 "The experiment store: create, describe, check or export a workspace database.");
    const std::string indent(24, ' ');
    spec.positional("ACTION", "one of:\n" + indent + "init    create the workspace (parent directories too)\n" + indent
                                  + "info    schema version, sizes and counts\n" + indent
                                  + "check   integrity_check + foreign_key_check (exit 1 on problems)\n" + indent
                                  + "export  --dataset NAME|ID [--format F] [--original]\n" + indent
                                  + "        [--reviewed-only | --adjudicated], or --query NAME /\n" + indent
                                  + "        --sql Q\n" + indent
                                  + "        [--format F]\n"
                                  + indent + "The workspace is --db PATH, else $BLOCKLENS_DB, else\n" + indent
                                  + "$XDG_DATA_HOME/blocklens/workspace.db (~/.local/share/...).")
        .option("db", "PATH", "workspace database file")
        .option("dataset", "NAME|ID", "export: the dataset to write")
        .option("form", "FORM", "export --dataset: record or chunks (older name of --format)", "record")
        .flag("original", "export --dataset: the boundaries as imported, not the corrected ones")
        .flag("reviewed-only", "export --dataset: only the rows marked as reviewed")
        .flag("adjudicated", "export --dataset: only the adjudicated rows, with their adjudicated boundaries")
        .option("query", "NAME", "export: runs, evaluations, segmentations, documents, datasets, rows, events or metrics")
        .option("sql", "QUERY", "export: any read-only SQL query")
        .option("format", "FORMAT",
                "export --query/--sql: csv or jsonl; export --dataset: record, chunks, block-attention, "
                "block-attention-request, cacheblend or chunk-offsets",
                "csv");
    addExchangeOptions(spec, "export --format ")
        .option("timeout", "SECONDS", "export --sql: stop the query after this long (0: no limit); Ctrl+C stops it too",
                "30")
        .option("out", "FILE", "export: write here instead of standard output (a new file; never a device, a "
                               "directory or a symbolic link)")
        .flag("force", "export: replace an existing --out file")
        .flag("quick", "check: PRAGMA quick_check instead of the full integrity_check")
        .flag("json", "print JSON");
    return {"db", spec, [](const ArgSpec::Parsed& a, Io& io) {
                const std::string action = a.positionals[0];
                if (action == "init")
                    return runInit(a, io);
                if (action == "info")
                    return runInfo(a, io);
                if (action == "check")
                    return runCheck(a, io);
                if (action == "export")
                    return runExport(a, io);
                throw UsageError{"unknown action '" + action + "' (init, info, check or export)"};
            }};
}

} // namespace blocklens::cli
