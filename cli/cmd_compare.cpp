// blocklens-cli compare: the same input under two attention modes (full vs block-cached by
// default): divergence of the query block's logits, perplexity, greedy continuations, TTFT.
// The comparison itself is core's (usecases/comparison.hpp); this file parses and prints.
#include "cli/command.hpp"
#include "cli/engine_args.hpp"
#include "cli/input.hpp"
#include "cli/compare_sweep.hpp"
#include "cli/variant_args.hpp"
#include "cli/segment_args.hpp"
#include "engine/model_bundle.hpp"
#include "engine/run_record.hpp"
#include "engine/trained_context.hpp"
#include "segment/token_blocks.hpp"
#include "store/store.hpp"
#include "usecases/comparison.hpp"
#include "usecases/segmenters.hpp"
#include "util/error.hpp"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

struct Input {
    std::optional<Document> doc;
    usecases::ComparisonInput tokens;
    std::string segmenter; // how the blocks were chosen
};

Input readInput(const ArgSpec::Parsed& a, const engine::ModelFiles& files, std::ostream& err)
{
    Input in;
    if (a.has("input") == a.has("ids"))
        throw UsageError{"give either --input FILE or --ids LIST"};
    // --blocks N means what it means for `segment`: exactly N blocks. Until issue 15 it took the
    // token starts, so a list is refused with the new name rather than read as something else.
    if (a.has("blocks") && a.value("blocks").find(',') != std::string::npos)
        throw UsageError{"--blocks takes the number of blocks (as for segment), not a list; give token starts with --block-starts "
                         + a.value("blocks")};
    if (a.has("block-starts") && (a.has("segmenter") || hasSegmentOptions(a)))
        throw UsageError{"give either --block-starts or a segmenter (--segmenter, --blocks, --target-tokens, --threshold), not both"};
    if (a.has("ids")) {
        if (a.has("query"))
            throw UsageError{"--query needs --input (text); with --ids the last block is the query"};
        if (a.has("segmenter") || hasSegmentOptions(a))
            throw UsageError{"token ids cannot be segmented: with --ids give --block-starts LIST (or nothing: one block)"};
        in.tokens.ids = parseTokenIds(a.value("ids"), "ids");
        const auto blocks = a.has("block-starts") ? parseIntegerList(a.value("block-starts"), "block-starts") : std::vector<std::int64_t>{0};
        in.tokens.blocks = engine::normalizeBlocks(blocks, static_cast<std::int64_t>(in.tokens.ids.size()));
        in.segmenter = a.has("block-starts") ? "given" : "one block";
        return in;
    }
    if (!files.tokenizer)
        throw Error("no tokenizer.json in the model directory; give --tokenizer PATH", {.file = files.directory.string()});
    if (a.has("query") && a.value("query").empty())
        throw UsageError{"--query encodes to no tokens"};
    const Tokenizer& tokenizer = *files.tokenizer;
    in.doc = loadInputDocument(a.value("input"), {a.flag("replace-invalid")}, err);
    const usecases::DocumentTokens tokens(tokenizer, *in.doc);
    if (tokens.encoding().ids.empty() && !a.has("query"))
        throw Error("the input encodes to no tokens", {.file = a.value("input")});
    std::vector<std::int64_t> blocks;
    if (a.has("block-starts")) {
        blocks = parseIntegerList(a.value("block-starts"), "block-starts");
        in.segmenter = "given";
    } else {
        const auto& seg = segment::findSegmenter(a.has("segmenter") ? a.value("segmenter") : std::string(segment::kDefaultSegmenter));
        blocks = segment::tokenBlockStarts(seg.segment(*in.doc, tokens.grid(), readSegmentOptions(a)));
        in.segmenter = seg.name();
    }
    in.tokens = usecases::comparisonInput(tokens, std::move(blocks), tokenizer, a.has("query") ? a.value("query") : std::string());
    return in;
}

json modeJson(const engine::AttentionVariant& mode, const engine::RunResult& r, const std::optional<Tokenizer>& tokenizer)
{
    json j;
    j["mode"] = engine::variantName(mode);
    j["stats"] = runStatsJson(r.stats);
    j["generated_ids"] = r.generated;
    if (tokenizer)
        j["generated_text"] = tokenizer->decode(r.generated, true);
    return j;
}

} // namespace

Command compareCommand()
{
    ArgSpec spec("compare --model DIR (--input FILE | --ids LIST) [--segmenter NAME ... | --block-starts LIST] [--query TEXT] "
                 "[--max-new-tokens N] [--modes A,B] [--sweep] [--repeats N] [--device cpu|cuda] [--dtype f32|bf16] [--db PATH] [--json]",
                 "Run one input under two attention modes (default full vs block-cached) and compare the query block. "
                 "Timing: one untimed warm-up pass of the model, then the two modes in turn (A B A B ...), --repeats times each "
                 "(TTFT: the median). "
                 "Blocks are numbered from #1, as in the app.");
    spec.option("model", "DIR", "Hugging Face model directory (config.json, safetensors, tokenizer.json)")
        .option("input", "FILE", "a document; encoded with the model's tokenizer.json")
        .option("ids", "LIST", "token ids instead of a document, comma-separated")
        .option("tokenizer", "PATH", "tokenizer.json (default: the model directory's)")
        .option("segmenter", "NAME", "cut the document into blocks with this segmenter (default: " +
                                         std::string(segment::kDefaultSegmenter) + "; see 'blocklens-cli segmenters')");
    addSegmentOptions(spec)
        .option("block-starts", "LIST", "token index where each block starts (from 0), instead of a segmenter")
        .option("query", "TEXT", "appended as the last (global) block; default: the last block of the input is the query")
        .option("max-new-tokens", "N", "continuation length under each mode", "16")
        .option("temperature", "T", "0: greedy; else sample (same seed for both modes)", "0")
        .option("seed", "S", "sampling seed", "0")
        .option("modes", "A,B", "the reference mode and the compared one; each one of " + engine::attentionVariantSyntax(),
                "full,block-cached")
        .flag("sweep", "compare the reference with a family of repairs of block-cached attention instead of B: sink N in 0,1,4,16, "
                       "recompute-first k in 0,1,4,16,64, recompute-frac r in 0,0.05,0.15,0.3,1 (with --db each is a run)")
        .option("repeats", "N", "timed runs per mode after the warm-up; TTFT is their median", "1")
        .option("db", "PATH", "record both runs in this experiment store");
    addDeviceOptions(spec)
        .flag("replace-invalid", "replace invalid UTF-8 with U+FFFD instead of failing")
        .flag("json", "print JSON");
    return {"compare", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (!a.has("model"))
                    throw UsageError{"--model DIR is required"};
                const auto modes = [&] {
                    const std::string m = a.value("modes");
                    const auto comma = m.find(',');
                    if (comma == std::string::npos)
                        throw UsageError{"--modes takes two of full, block, block-cached[+REPAIR], e.g. full,block-cached+recompute-first:16"};
                    return std::pair{variantOption(m.substr(0, comma), "modes"), variantOption(m.substr(comma + 1), "modes")};
                }();
                const std::int64_t maxNew = a.integer("max-new-tokens");
                if (maxNew < 0)
                    throw UsageError{"--max-new-tokens must not be negative"};
                if (maxNew > engine::kMaxRunTokens)
                    throw UsageError{"--max-new-tokens must be at most " + std::to_string(engine::kMaxRunTokens) +
                                     " (the tokens a run can hold), got " + a.value("max-new-tokens")};
                const double temperature = a.number("temperature");
                if (!std::isfinite(temperature) || temperature < 0)
                    throw UsageError{"--temperature must be a finite number, 0 or more, got '" + a.value("temperature") + "'"};
                const std::int64_t repeats = a.integer("repeats");
                if (repeats < 1 || repeats > 1000)
                    throw UsageError{"--repeats must be between 1 and 1000, got " + std::to_string(repeats)};
                engine::ModelFiles files = engine::readModelFiles(a.value("model"), a.optional("tokenizer"));
                const engine::ModelConfig config = files.config;
                const Input in = readInput(a, files, io.err);
                const auto n = static_cast<std::int64_t>(in.tokens.ids.size());
                if (maxNew > engine::kMaxRunTokens - n)
                    throw UsageError{"--max-new-tokens " + std::to_string(maxNew) + " after " + std::to_string(n) +
                                     " prompt tokens exceeds the " + std::to_string(engine::kMaxRunTokens) +
                                     " tokens a run can hold"};
                // Said before the model loads (which may take a while), not only in the report.
                const auto contextWarning = engine::trainedContextWarning(config, n + maxNew);
                if (contextWarning)
                    io.err << "warning: " << *contextWarning << "\n";
                const engine::ModelBundle bundle = engine::loadModelBundle(std::move(files), readLoadOptions(a, n + maxNew));
                const engine::Model& model = bundle.model;
                const engine::Runner runner(model);

                usecases::ComparisonOptions options;
                options.reference = modes.first.mode;
                options.referenceRepair = modes.first.repair;
                options.compared = modes.second.mode;
                options.comparedRepair = modes.second.repair;
                options.maxNewTokens = maxNew;
                options.temperature = temperature;
                options.seed = static_cast<std::uint64_t>(a.integer("seed"));
                if (config.eosTokenId)
                    options.stopToken = static_cast<std::int32_t>(*config.eosTokenId);
                options.tokenizerHash = bundle.tokenizerHash();
                // Every timed run of a block-cached mode starts from an empty cache (its cold TTFT);
                // the warm one is measured after.
                options.timing = engine::TimingProtocol{.warmUps = 1, .repeats = static_cast<int>(repeats)};
                options.coldCache = true;
                const usecases::ComparisonReport report = usecases::runComparison(runner, in.tokens, options);
                if (a.flag("sweep")) { // the repair family instead of the second mode (compare_sweep.cpp)
                    // The sweep runs the very request the comparison ran (one place builds it).
                    const engine::RunRequest req = usecases::comparisonRequest(in.tokens, options);
                    std::optional<store::Store> store;
                    engine::RunContext context;
                    if (a.has("db")) {
                        store.emplace(store::Store::open(a.value("db")));
                        if (in.doc)
                            context.documentId = store->addDocument(*in.doc);
                        context.tokenizerHash = bundle.tokenizerHash();
                        context.segmenter = in.segmenter;
                    }
                    return compareSweep({runner, req, modes.first, report.reference, report.timing, bundle.tokenizer ? &*bundle.tokenizer : nullptr},
                                        a.flag("json"), io,
                                        [&](const engine::AttentionVariant& v, const engine::RunResult& r, const engine::ModeComparison* c) {
                                            if (store)
                                                store->recordRun(engine::makeRunRecord(model, v, r, context, c));
                                        });
                }
                const engine::RunResult& ra = report.reference;
                const engine::RunResult& rb = report.compared;
                const engine::ModeComparison& cmp = report.comparison;
                const engine::TimingProtocol& timing = report.timing;
                const std::vector<std::int64_t>& blocks = in.tokens.blocks;
                std::optional<double> warmTtft;
                if (report.comparedWarm)
                    warmTtft = report.comparedWarm->ttftMs;
                if (a.has("db")) {
                    auto store = store::Store::open(a.value("db"));
                    usecases::recordComparison(store, model, {in.doc ? &*in.doc : nullptr, bundle.tokenizerHash(), in.segmenter}, options,
                                               report);
                }

                json j;
                j["model"] = a.value("model");
                j["device"] = model.device();
                j["dtype"] = std::string(engine::toString(model.dtype()));
                j["tokens"] = n;
                j["blocks"] = blocks.size();
                j["segmenter"] = in.segmenter;
                j["query_tokens"] = n - blocks.back();
                j["block_numbering"] = "from 1";
                j["timing"] = {{"warm_ups", timing.warmUps}, {"repeats", timing.repeats}, {"note", engine::describeTiming(timing)}};
                j["trained_context"] = config.maxPositions > 0 ? json(config.maxPositions) : json(nullptr);
                j["beyond_trained_context"] = contextWarning.has_value();
                j["reference"] = modeJson(modes.first, ra, bundle.tokenizer);
                j["compared"] = modeJson(modes.second, rb, bundle.tokenizer);
                if (warmTtft)
                    j["compared"]["ttft_warm_cache_ms"] = *warmTtft;
                json c;
                c["rows"] = cmp.kl.size();
                c["mean_kl"] = cmp.meanKl;
                c["max_kl"] = cmp.maxKl;
                c["kl_per_token"] = cmp.kl;
                c["top1_agreement"] = cmp.top1Agreement;
                c["perplexity_reference"] = cmp.perplexityA ? json(*cmp.perplexityA) : json(nullptr);
                c["perplexity_compared"] = cmp.perplexityB ? json(*cmp.perplexityB) : json(nullptr);
                c["first_divergent_generated_token"] = cmp.firstDivergentToken ? json(*cmp.firstDivergentToken) : json(nullptr);
                j["comparison"] = c;
                if (a.flag("json")) {
                    io.out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
                    return 0;
                }
                const std::string na = engine::variantName(modes.first), nb = engine::variantName(modes.second);
                char buf[512];
                std::snprintf(buf, sizeof buf, "%lld tokens in %zu blocks (%s), query block %lld tokens, %s %s\n",
                              static_cast<long long>(n), blocks.size(), in.segmenter.c_str(),
                              static_cast<long long>(n - blocks.back()), model.device().c_str(),
                              std::string(engine::toString(model.dtype())).c_str());
                io.out << buf;
                auto line = [&](const std::string& name, const engine::RunResult& r, std::optional<double> warm) {
                    std::snprintf(buf, sizeof buf, "  %-13s TTFT %8.2f ms%s  prefill %.3g FLOPs  KV %s  cache %lld/%lld\n",
                                  name.c_str(), r.stats.ttftMs,
                                  warm ? (" (warm " + std::to_string(*warm).substr(0, std::to_string(*warm).find('.') + 3) + " ms)").c_str() : "",
                                  r.stats.prefillFlops.total(), engine::formatBytes(r.stats.kvBytes).c_str(),
                                  static_cast<long long>(r.stats.cacheHits), static_cast<long long>(r.stats.cacheHits + r.stats.cacheMisses));
                    io.out << buf;
                };
                line(na, ra, std::nullopt);
                line(nb, rb, warmTtft);
                io.out << "  (" << engine::describeTiming(timing) << ")\n";
                std::snprintf(buf, sizeof buf, "  query block: mean KL %.4g (max %.4g) nats, top-1 agreement %.1f%%", cmp.meanKl, cmp.maxKl,
                              100 * cmp.top1Agreement);
                io.out << buf;
                if (cmp.perplexityA)
                    io.out << ", perplexity " << *cmp.perplexityA << " vs " << *cmp.perplexityB;
                io.out << "\n  " << (temperature > 0 ? "sampled" : "greedy") << " continuations "
                       << (cmp.firstDivergentToken ? "diverge at token " + std::to_string(*cmp.firstDivergentToken)
                                                   : std::string("agree on all ") + std::to_string(cmp.comparedGenerated) + " tokens")
                       << "\n";
                if (bundle.tokenizer && maxNew > 0) {
                    io.out << "  " << na << ": " << json(bundle.tokenizer->decode(ra.generated, true)).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
                    io.out << "  " << nb << ": " << json(bundle.tokenizer->decode(rb.generated, true)).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
