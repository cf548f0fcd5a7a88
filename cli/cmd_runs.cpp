// blocklens-cli runs: inference runs recorded in the experiment store.
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "store/store.hpp"
#include "util/error.hpp"
#include "util/json_input.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ostream>

#include <unistd.h>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

template <class T>
json optionalJson(const std::optional<T>& v)
{
    return v ? json(*v) : json(nullptr);
}

json parsedOrString(const std::string& text)
{
    // Stored parameters are JSON the store checked; anything else (or too deep) shows as text.
    if (findExcessiveJsonNesting(text))
        return json(text);
    const auto j = json::parse(text, nullptr, false);
    return j.is_discarded() ? json(text) : j;
}

json runJson(const store::RunRecord& r)
{
    json j;
    j["id"] = r.id;
    j["created_at"] = r.createdAt;
    j["model_name"] = r.modelName;
    j["model_hash"] = r.modelHash;
    j["model_config"] = parsedOrString(r.modelConfig);
    j["tokenizer_hash"] = r.tokenizerHash;
    j["attention_mode"] = r.attentionMode;
    j["device"] = r.device;
    j["dtype"] = r.dtype;
    j["software"] = parsedOrString(r.software);
    j["document_id"] = optionalJson(r.documentId);
    j["segmentation_id"] = optionalJson(r.segmentationId);
    j["tokens"] = optionalJson(r.tokens);
    j["blocks"] = optionalJson(r.blocks);
    j["ttft_ms"] = optionalJson(r.ttftMs);
    j["prefill_ms"] = optionalJson(r.prefillMs);
    j["flops"] = optionalJson(r.flops);
    j["kv_bytes"] = optionalJson(r.kvBytes);
    j["cache_hits"] = optionalJson(r.cacheHits);
    j["cache_misses"] = optionalJson(r.cacheMisses);
    j["logit_kl"] = optionalJson(r.logitKl);
    j["top1_agreement"] = optionalJson(r.top1Agreement);
    j["divergence"] = parsedOrString(r.divergence);
    return j;
}

std::string cell(const std::optional<double>& v, const char* format = "%.2f")
{
    if (!v)
        return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, format, *v);
    return buf;
}

std::string cell(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "-"; }

} // namespace

Command runsCommand()
{
    ArgSpec spec("[--db PATH] [--model NAME|HASH] [--document ID|HASH] [--limit N] [--json]",
                 "List the inference runs recorded in the workspace, newest first.");
    spec.option("db", "PATH", "workspace database file (default: $BLOCKLENS_DB, else the user's data directory)")
        .option("model", "NAME|HASH", "only runs of this model (name, or a hash prefix of 4+ digits)")
        .option("document", "ID|HASH", "only runs on this document (dataset id, hash prefix or number)")
        .option("limit", "N", "at most N runs (0: all)", "0")
        .flag("json", "print JSON (one array)");
    return {"runs", spec, [](const ArgSpec::Parsed& a, Io& io) {
                // Read-only unless the file is writable (then an older schema is upgraded, with a backup).
                const auto path = store::resolveWorkspacePath(a.optional("db"));
                store::OpenOptions o;
                o.mode = ::access(path.c_str(), W_OK) == 0 ? store::OpenMode::Existing : store::OpenMode::ReadOnly;
                auto st = store::Store::open(path, o);
                store::RunFilter filter;
                filter.model = a.value("model");
                const auto limit = a.integer("limit");
                if (limit < 0)
                    throw UsageError{"--limit must be 0 or more"};
                filter.limit = static_cast<std::size_t>(limit);
                if (a.has("document")) {
                    filter.documentId = st.findDocument(a.value("document"));
                    if (!filter.documentId) {
                        const std::string key = a.value("document");
                        std::int64_t id = 0;
                        const bool digits = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
                        if (digits && std::from_chars(key.data(), key.data() + key.size(), id).ec == std::errc::result_out_of_range)
                            throw UsageError{"--document: " + key + " is out of range (document ids go up to "
                                             + std::to_string(INT64_MAX) + ") and is no document's hash or id"};
                        throw Error("no document '" + key + "' in this workspace", {.file = st.path().string()});
                    }
                }
                const auto runs = st.listRuns(filter);
                if (a.flag("json")) {
                    json list = json::array();
                    for (const auto& r : runs)
                        list.push_back(runJson(r));
                    io.out << jsonText(list) << "\n";
                    return 0;
                }
                if (runs.empty()) {
                    io.out << "no inference runs in " << st.path().string() << "\n";
                    return 0;
                }
                io.out << "id\tcreated\tmodel\tmode\tdevice\tdtype\tdocument\ttokens\tttft_ms\tprefill_ms\tkv_bytes\t"
                          "hits/misses\tlogit_kl\n";
                for (const auto& r : runs) {
                    const std::string model = r.modelName.empty() ? r.modelHash.substr(0, 12) : r.modelName;
                    io.out << r.id << "\t" << r.createdAt << "\t" << model << "\t" << r.attentionMode << "\t" << r.device
                           << "\t" << r.dtype << "\t" << cell(r.documentId) << "\t" << cell(r.tokens) << "\t"
                           << cell(r.ttftMs) << "\t" << cell(r.prefillMs) << "\t" << cell(r.kvBytes) << "\t"
                           << cell(r.cacheHits) << "/" << cell(r.cacheMisses) << "\t" << cell(r.logitKl, "%.4g") << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
