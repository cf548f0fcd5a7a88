// blocklens-cli eval DATASET --segmenter NAME: line-level Pk, WindowDiff and boundary F1 of a
// segmenter against a dataset's author-set boundaries (shared/data/README.md protocol).
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "cli/input.hpp"
#include "cli/progress_printer.hpp"
#include "cli/segment_args.hpp"
#include "segment/evaluation.hpp"
#include "store/store.hpp"
#include "usecases/segmenters.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

json number(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

json groupJson(const segment::GroupResult& g)
{
    json j;
    j["category"] = g.category;
    j["variant"] = g.variant;
    j["documents"] = g.documents;
    j["pk"] = number(g.pk);
    j["windowdiff"] = number(g.windowDiff);
    j["f1_t0"] = g.exact.f1();
    j["precision_t0"] = g.exact.precision();
    j["recall_t0"] = g.exact.recall();
    j["f1_t1"] = g.tolerant.f1();
    j["precision_t1"] = g.tolerant.precision();
    j["recall_t1"] = g.tolerant.recall();
    j["reference_boundaries"] = g.exact.reference;
    j["predicted_boundaries"] = g.exact.hypothesis;
    j["count_mismatches"] = g.countMismatches;
    j["blocks"] = {{"count", g.blocks.blocks}, {"min_tokens", g.blocks.minTokens},
                   {"median_tokens", g.blocks.medianTokens}, {"mean_tokens", g.blocks.meanTokens},
                   {"p90_tokens", g.blocks.p90Tokens}, {"max_tokens", g.blocks.maxTokens},
                   {"over_max", g.blocks.overMax}};
    return j;
}

void printReport(std::ostream& out, const segment::EvaluationReport& r)
{
    out << "segmenter " << r.segmenter << ", protocol " << segment::toString(r.protocol) << ", level " << r.level
        << ", sizes in " << r.tokenUnit << " (max " << r.maxTokens << ")\n";
    char line[256];
    std::snprintf(line, sizeof line, "%-10s %-11s %5s %6s %6s %6s %6s %7s %8s %7s\n", "category", "variant", "docs",
                  "Pk", "WD", "F1@0", "F1@1", "blocks", "median", "max");
    out << line;
    for (const auto& g : r.groups) {
        std::snprintf(line, sizeof line, "%-10s %-11s %5zu %6.3f %6.3f %6.3f %6.3f %7zu %8zu %7zu\n",
                      g.category.c_str(), g.variant.c_str(), g.documents, g.pk, g.windowDiff, g.exact.f1(),
                      g.tolerant.f1(), g.blocks.blocks, g.blocks.medianTokens, g.blocks.maxTokens);
        out << line;
    }
    std::size_t mismatches = 0;
    for (const auto& g : r.groups)
        if (g.category == "all" && g.variant == "all")
            mismatches = g.countMismatches;
    if (r.protocol == segment::Protocol::OracleCount && mismatches > 0)
        out << mismatches << " document(s) got another number of boundary lines than asked "
            << "(the hard maximum forced more, or cuts shared a line)\n";
}

std::optional<double> stored(double v) { return std::isnan(v) ? std::nullopt : std::optional<double>(v); }

// The request each prediction answered (the segmenter's own provenance is not kept by evaluate()):
// protocol and level, the block count asked for (oracle-count), and the options given.
std::string predictionParams(const ArgSpec::Parsed& a, const segment::EvaluationReport& report,
                             const segment::DocumentResult& d)
{
    json p = json::object();
    p["protocol"] = std::string(segment::toString(report.protocol));
    p["level"] = std::to_string(report.level);
    if (d.requestedBlocks > 0)
        p["blocks"] = std::to_string(d.requestedBlocks);
    for (const char* name : {"target-tokens", "blocks", "threshold", "depth", "min-tokens", "max-tokens", "regex"})
        if (a.has(name)) {
            std::string key = name;
            for (char& c : key)
                if (c == '-')
                    c = '_';
            p[key] = a.value(name);
        }
    p["token_unit"] = report.tokenUnit;
    return p.dump();
}

struct Recorded {
    std::filesystem::path db;
    std::vector<store::Id> segmentationIds, evaluationIds;
};

// Every document's reference, prediction and evaluation, in one transaction: all or nothing.
Recorded record(store::Store& st, const ArgSpec::Parsed& a, const Dataset& dataset,
                const segment::EvaluationReport& report)
{
    const std::string author = recordAuthor();
    const std::string protocol(segment::toString(report.protocol));
    Recorded r{std::filesystem::absolute(st.path()), {}, {}};
    store::Store::Batch batch(st);
    for (std::size_t i = 0; i < report.documents.size(); ++i) {
        const Document& doc = dataset.documents[i];
        const auto& d = report.documents[i];
        const store::Id reference = st.ensureReference(doc);
        std::vector<Boundary> boundaries;
        for (std::size_t offset : d.boundaries)
            boundaries.push_back({offset, 1});
        const store::Id hypothesis =
            st.recordSegmentation(doc, report.segmenter, predictionParams(a, report, d), boundaries, author);
        store::EvaluationRecord e;
        e.segmentationId = hypothesis;
        e.referenceId = reference;
        e.protocol = protocol;
        e.granularity = report.level;
        e.pk = stored(d.pk);
        e.windowDiff = stored(d.windowDiff);
        e.precision = d.exact.precision();
        e.recall = d.exact.recall();
        e.f1 = d.exact.f1();
        e.f1Tolerant = d.tolerant.f1();
        e.metrics = json{{"k", d.k}, {"lines", d.lines},
                         {"reference_lines", d.referenceLines.size()}, {"predicted_lines", d.hypothesisLines.size()},
                         {"precision_t1", d.tolerant.precision()}, {"recall_t1", d.tolerant.recall()},
                         {"token_unit", report.tokenUnit}}
                        .dump();
        r.segmentationIds.push_back(hypothesis);
        r.evaluationIds.push_back(st.recordEvaluation(e));
    }
    batch.commit();
    return r;
}

} // namespace

Command evalCommand()
{
    ArgSpec spec("eval DATASET.jsonl --segmenter NAME [--level L] [--protocol oracle-count|free] "
                 "[--predictions OUT.jsonl] [--db PATH] [--json]",
                 "Evaluate a segmenter on a dataset: line-level Pk, WindowDiff, boundary F1 (tolerance 0 and 1).");
    spec.positional("DATASET", "a JSONL dataset with reference boundaries")
        .option("segmenter", "NAME", "see 'blocklens-cli segmenters' (required)")
        .option("level", "L", "reference granularity: boundaries with level <= L", "2")
        .option("protocol", "NAME", "oracle-count (told the number of boundaries) or free (own defaults)", "oracle-count")
        .option("predictions", "OUT.jsonl", "write {\"id\": ..., \"boundaries\": [offsets]} per document");
    addSegmentOptions(spec)
        .option("tokenizer", "PATH", "tokenizer.json: measure sizes in its tokens (default: approx-tokens)")
        .flag("replace-invalid", "replace invalid UTF-8 with U+FFFD instead of failing");
    addRecordOption(spec).flag("json", "print JSON: groups and per-document results");
    return {"eval", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (!a.has("segmenter"))
                    throw UsageError{"--segmenter NAME is required (see 'blocklens-cli segmenters')"};
                const auto& segmenter = segment::findSegmenter(a.value("segmenter"));
                const std::int64_t level = a.integer("level");
                if (level < 1 || level > 9)
                    throw UsageError{"--level must be between 1 and 9, got " + std::to_string(level)};
                segment::EvalOptions options;
                options.level = static_cast<int>(level);
                options.protocol = segment::parseProtocol(a.value("protocol"));
                if (options.protocol == segment::Protocol::OracleCount && hasGranularity(a))
                    throw UsageError{"--target-tokens, --blocks, --threshold and --depth apply to --protocol free"};
                options.segment = readSegmentOptions(a);
                const auto tokenizer = loadOptionalTokenizer(a.optional("tokenizer"));
                if (tokenizer)
                    options.tokenizer = &*tokenizer;
                const auto db = recordPath(a);
                // An existing workspace is opened (and checked) before the slow part; a new one is
                // only created once there is something to record.
                std::optional<store::Store> st;
                std::error_code ec;
                if (db && std::filesystem::exists(*db, ec))
                    st.emplace(store::Store::open(*db));
                const std::filesystem::path path = a.positionals[0];
                const Dataset dataset = loadInputDataset(path, {a.flag("replace-invalid")}, io.err);
                if (dataset.documents.empty())
                    throw Error("the dataset has no documents", {path.string()});
                std::ofstream predictions;
                if (a.has("predictions")) {
                    requireRegularOrNewFile(a.value("predictions"));
                    predictions.open(a.value("predictions"), std::ios::binary | std::ios::trunc);
                    if (!predictions)
                        throw Error("cannot write the predictions file", {a.value("predictions")});
                }
                segment::EvaluationReport report;
                {
                    ProgressPrinter printer(io.err, "evaluating " + segmenter.name());
                    report = segment::evaluate(dataset, segmenter, options, printer.progress());
                }
                if (predictions.is_open()) {
                    for (const auto& d : report.documents)
                        predictions << json{{"id", d.id}, {"boundaries", d.boundaries}}.dump() << "\n";
                    predictions.flush();
                    if (!predictions)
                        throw Error("writing the predictions failed", {a.value("predictions")});
                }
                std::optional<Recorded> recorded;
                if (db) {
                    if (!st)
                        st.emplace(store::Store::open(*db));
                    recorded = record(*st, a, dataset, report);
                    io.err << "recorded " << recorded->evaluationIds.size() << " evaluation"
                           << (recorded->evaluationIds.size() == 1 ? "" : "s") << " in " << recorded->db.string() << "\n";
                }
                if (a.flag("json")) {
                    json j;
                    j["dataset"] = path.string();
                    j["segmenter"] = report.segmenter;
                    j["protocol"] = std::string(segment::toString(report.protocol));
                    j["level"] = report.level;
                    j["token_unit"] = report.tokenUnit;
                    j["max_tokens"] = report.maxTokens;
                    json groups = json::array();
                    for (const auto& g : report.groups)
                        groups.push_back(groupJson(g));
                    j["groups"] = groups;
                    json docs = json::array();
                    for (const auto& d : report.documents)
                        docs.push_back({{"id", d.id}, {"category", d.category}, {"variant", d.variant},
                                        {"lines", d.lines}, {"k", d.k},
                                        {"reference_lines", d.referenceLines}, {"predicted_lines", d.hypothesisLines},
                                        {"pk", number(d.pk)}, {"windowdiff", number(d.windowDiff)},
                                        {"f1_t0", d.exact.f1()}, {"f1_t1", d.tolerant.f1()}});
                    j["documents"] = docs;
                    if (recorded)
                        j["recorded"] = {{"db", recorded->db.string()}, {"evaluations", recorded->evaluationIds.size()},
                                         {"segmentation_ids", recorded->segmentationIds},
                                         {"evaluation_ids", recorded->evaluationIds}};
                    io.out << jsonText(j) << "\n";
                    return 0;
                }
                printReport(io.out, report);
                return 0;
            }};
}

} // namespace blocklens::cli
