// blocklens-cli compare: the same input under two attention modes (full vs block-cached by
// default): divergence of the query block's logits, perplexity, greedy continuations, TTFT.
#include "cli/command.hpp"
#include "cli/engine_args.hpp"
#include "cli/input.hpp"
#include "cli/compare_sweep.hpp"
#include "cli/variant_args.hpp"
#include "engine/fair_timing.hpp"
#include "engine/metrics.hpp"
#include "engine/run_record.hpp"
#include "engine/trained_context.hpp"
#include "segment/segmenter.hpp"
#include "segment/token_blocks.hpp"
#include "store/store.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

struct Input {
    std::optional<Document> doc;
    std::optional<Tokenizer> tokenizer;
    std::vector<std::int32_t> ids;
    std::vector<std::int64_t> blocks; // token starts; the last is the query (global) block
    std::string segmenter;            // how the blocks were chosen
};

bool hasSegmentControl(const ArgSpec::Parsed& a)
{
    for (const char* name : {"target-tokens", "blocks", "num-blocks", "threshold", "depth", "min-tokens", "max-tokens"})
        if (a.has(name))
            return true;
    return false;
}

std::size_t positiveSize(const ArgSpec::Parsed& a, const std::string& name)
{
    const std::int64_t v = a.integer(name);
    if (v < 1)
        throw UsageError{"--" + name + " must be at least 1"};
    return static_cast<std::size_t>(v);
}

segment::SegmentOptions segmentOptions(const ArgSpec::Parsed& a)
{
    using segment::Granularity;
    segment::SegmentOptions o;
    if (int(a.has("target-tokens")) + int(a.has("blocks")) + int(a.has("num-blocks")) + int(a.has("threshold")) > 1)
        throw UsageError{"give only one of --target-tokens, --blocks and --threshold"};
    if (a.has("target-tokens"))
        o.granularity = Granularity::target(positiveSize(a, "target-tokens"));
    else if (a.has("blocks"))
        o.granularity = Granularity::exactBlocks(positiveSize(a, "blocks"));
    else if (a.has("num-blocks")) // the name before issue 15; `segment` says --blocks
        o.granularity = Granularity::exactBlocks(positiveSize(a, "num-blocks"));
    else if (a.has("threshold"))
        o.granularity = Granularity::thresholdDepth(a.number("threshold"), a.has("depth") ? static_cast<int>(a.integer("depth")) : 0);
    if (a.has("min-tokens"))
        o.granularity.minTokens = positiveSize(a, "min-tokens");
    if (a.has("max-tokens"))
        o.granularity.maxTokens = positiveSize(a, "max-tokens");
    if (o.granularity.minTokens && o.granularity.maxTokens && *o.granularity.minTokens > *o.granularity.maxTokens)
        throw UsageError{"--min-tokens exceeds --max-tokens"};
    return o;
}

Input readInput(const ArgSpec::Parsed& a, const engine::ModelConfig& config, std::ostream& err)
{
    Input in;
    if (a.has("input") == a.has("ids"))
        throw UsageError{"give either --input FILE or --ids LIST"};
    // --blocks N means what it means for `segment`: exactly N blocks. Until issue 15 it took the
    // token starts, so a list is refused with the new name rather than read as something else.
    if (a.has("blocks") && a.value("blocks").find(',') != std::string::npos)
        throw UsageError{"--blocks takes the number of blocks (as for segment), not a list; give token starts with --block-starts "
                         + a.value("blocks")};
    if (a.has("block-starts") && (a.has("segmenter") || hasSegmentControl(a)))
        throw UsageError{"give either --block-starts or a segmenter (--segmenter, --blocks, --target-tokens, --threshold), not both"};
    const std::filesystem::path modelDir = a.value("model");
    std::optional<std::string> tokPath = a.optional("tokenizer");
    std::error_code ec; // a link loop in tokenizer.json's place is the tokenizer loader's to report
    if (!tokPath && std::filesystem::symlink_status(modelDir / "tokenizer.json", ec).type() != std::filesystem::file_type::not_found)
        tokPath = (modelDir / "tokenizer.json").string();
    if (tokPath) {
        in.tokenizer = Tokenizer::fromFile(*tokPath);
        if (static_cast<std::int64_t>(in.tokenizer->vocabSize()) > config.vocabSize)
            throw Error("the tokenizer has " + std::to_string(in.tokenizer->vocabSize()) +
                            " tokens but the model's vocabulary has only " + std::to_string(config.vocabSize) +
                            ": they do not belong together",
                        {.file = *tokPath});
    }
    if (a.has("ids")) {
        in.ids = parseTokenIds(a.value("ids"), "ids");
        if (a.has("query"))
            throw UsageError{"--query needs --input (text); with --ids the last block is the query"};
        if (a.has("segmenter") || hasSegmentControl(a))
            throw UsageError{"token ids cannot be segmented: with --ids give --block-starts LIST (or nothing: one block)"};
        in.blocks = a.has("block-starts") ? parseIntegerList(a.value("block-starts"), "block-starts") : std::vector<std::int64_t>{0};
        in.segmenter = a.has("block-starts") ? "given" : "one block";
        return in;
    }
    if (!in.tokenizer)
        throw Error("no tokenizer.json in the model directory; give --tokenizer PATH", {.file = modelDir.string()});
    in.doc = loadInputDocument(a.value("input"), {a.flag("replace-invalid")}, err);
    const Encoding enc = in.tokenizer->encode(in.doc->text());
    in.ids = enc.ids;
    if (a.has("block-starts")) {
        in.blocks = parseIntegerList(a.value("block-starts"), "block-starts");
        in.segmenter = "given";
    } else {
        const auto& seg = segment::findSegmenter(a.has("segmenter") ? a.value("segmenter") : std::string(segment::kDefaultSegmenter));
        const auto grid = segment::TokenGrid::fromEncoding(enc, in.doc->length(), in.tokenizer->describe());
        in.blocks = segment::tokenBlockStarts(seg.segment(*in.doc, grid, segmentOptions(a)));
        in.segmenter = seg.name();
    }
    if (a.has("query")) {
        const Encoding q = in.tokenizer->encode(a.value("query"));
        if (q.ids.empty())
            throw UsageError{"--query encodes to no tokens"};
        segment::appendQueryBlock(in.ids, in.blocks, q.ids);
    }
    if (in.ids.empty())
        throw Error("the input encodes to no tokens", {.file = a.value("input")});
    return in;
}

std::string decode(const Input& in, const std::vector<std::int32_t>& ids)
{
    return in.tokenizer ? in.tokenizer->decode(ids, true) : std::string();
}

json modeJson(const engine::AttentionVariant& mode, const engine::RunResult& r, const Input& in)
{
    json j;
    j["mode"] = engine::variantName(mode);
    j["stats"] = runStatsJson(r.stats);
    j["generated_ids"] = r.generated;
    if (in.tokenizer)
        j["generated_text"] = decode(in, r.generated);
    return j;
}

void record(const std::filesystem::path& db, const engine::Model& model, const Input& in, const engine::AttentionVariant& mode,
            const engine::RunResult& r, const engine::ModeComparison* cmp)
{
    auto store = store::Store::open(db);
    engine::RunContext context;
    if (in.doc)
        context.documentId = store.addDocument(*in.doc);
    context.tokenizerHash = in.tokenizer ? in.tokenizer->contentHash() : std::string();
    context.segmenter = in.segmenter;
    store.recordRun(engine::makeRunRecord(model, mode, r, context, cmp));
}

} // namespace

Command compareCommand()
{
    ArgSpec spec("compare --model DIR (--input FILE | --ids LIST) [--segmenter NAME ... | --block-starts LIST] [--query TEXT] "
                 "[--max-new-tokens N] [--modes A,B] [--sweep] [--repeats N] [--device cpu|cuda] [--dtype f32|bf16] [--db PATH] [--json]",
                 "Run one input under two attention modes (default full vs block-cached) and compare the query block. "
                 "Timing: one untimed warm-up pass of the model, then each mode --repeats times (TTFT: the median). "
                 "Blocks are numbered from #1, as in the app.");
    spec.option("model", "DIR", "Hugging Face model directory (config.json, safetensors, tokenizer.json)")
        .option("input", "FILE", "a document; encoded with the model's tokenizer.json")
        .option("ids", "LIST", "token ids instead of a document, comma-separated")
        .option("tokenizer", "PATH", "tokenizer.json (default: the model directory's)")
        .option("segmenter", "NAME", "cut the document into blocks with this segmenter (default: " +
                                         std::string(segment::kDefaultSegmenter) + "; see 'blocklens-cli segmenters')")
        .option("target-tokens", "N", "segmenter: blocks of about N tokens")
        .option("blocks", "N", "segmenter: exactly N blocks (as for segment)")
        .option("num-blocks", "N", "old name of --blocks")
        .option("threshold", "T", "segmenter: threshold decoder")
        .option("depth", "D", "segmenter: with --threshold, refinement depth")
        .option("min-tokens", "N", "segmenter: minimum block size (smaller blocks join a neighbour)")
        .option("max-tokens", "N", "segmenter: hard maximum block size")
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
                const auto config = engine::ModelConfig::fromFile(std::filesystem::path(a.value("model")) / "config.json");
                const std::int64_t repeats = a.integer("repeats");
                if (repeats < 1 || repeats > 1000)
                    throw UsageError{"--repeats must be between 1 and 1000, got " + std::to_string(repeats)};
                const Input in = readInput(a, config, io.err);
                const auto n = static_cast<std::int64_t>(in.ids.size());
                if (maxNew > engine::kMaxRunTokens - n)
                    throw UsageError{"--max-new-tokens " + std::to_string(maxNew) + " after " + std::to_string(n) +
                                     " prompt tokens exceeds the " + std::to_string(engine::kMaxRunTokens) +
                                     " tokens a run can hold"};
                const auto contextWarning = engine::trainedContextWarning(config, n + maxNew);
                if (contextWarning)
                    io.err << "warning: " << *contextWarning << "\n";
                const auto model = engine::Model::load(a.value("model"), readLoadOptions(a, n + maxNew));
                const engine::Runner runner(model);

                engine::RunRequest req;
                req.ids = in.ids;
                req.blocks = engine::normalizeBlocks(in.blocks, n);
                req.logits = engine::LogitsWanted::LastBlock;
                req.maxNewTokens = maxNew;
                req.temperature = temperature;
                req.seed = static_cast<std::uint64_t>(a.integer("seed"));
                if (config.eosTokenId)
                    req.stopToken = static_cast<std::int32_t>(*config.eosTokenId);
                req.tokenizerHash = in.tokenizer ? in.tokenizer->contentHash() : std::string();
                // Both modes are timed after the same untimed warm-up; a block-cached mode starts
                // every repeat from an empty cache (its cold TTFT), the warm one is measured after.
                const engine::TimingProtocol timing{.warmUps = 1, .repeats = static_cast<int>(repeats)};
                engine::warmUp(runner, req, timing);
                auto timed = [&](const engine::AttentionVariant& mode) {
                    req.mode = mode.mode;
                    req.repair = mode.repair;
                    return engine::runTimed(runner, req, timing, [&] {
                        if (mode.mode == engine::AttentionMode::BlockCached)
                            runner.cache().clear();
                    });
                };
                const engine::RunResult ra = timed(modes.first);
                if (a.flag("sweep")) // the repair family instead of the second mode (compare_sweep.cpp)
                    return compareSweep({runner, req, modes.first, ra, timing, in.tokenizer ? &*in.tokenizer : nullptr}, a.flag("json"), io,
                                        [&](const engine::AttentionVariant& v, const engine::RunResult& r, const engine::ModeComparison* c) {
                                            if (a.has("db"))
                                                record(a.value("db"), model, in, v, r, c);
                                        });
                const engine::RunResult rb = timed(modes.second);
                // With every block now cached, the compared mode's TTFT as the paper measures it.
                std::optional<double> warmTtft;
                if (modes.second.mode == engine::AttentionMode::BlockCached) {
                    req.maxNewTokens = 0;
                    req.logits = engine::LogitsWanted::None;
                    std::vector<double> warm;
                    for (std::int64_t r = 0; r < repeats; ++r)
                        warm.push_back(runner.run(req).stats.ttftMs);
                    warmTtft = engine::medianOf(std::move(warm));
                }
                const auto cmp = engine::compareRuns(ra, rb, in.ids, req.blocks.back());
                if (a.has("db")) {
                    record(a.value("db"), model, in, modes.first, ra, nullptr);
                    record(a.value("db"), model, in, modes.second, rb, &cmp);
                }

                json j;
                j["model"] = a.value("model");
                j["device"] = model.device();
                j["dtype"] = std::string(engine::toString(model.dtype()));
                j["tokens"] = n;
                j["blocks"] = req.blocks.size();
                j["segmenter"] = in.segmenter;
                j["query_tokens"] = n - req.blocks.back();
                j["block_numbering"] = "from 1";
                j["timing"] = {{"warm_ups", timing.warmUps}, {"repeats", timing.repeats}, {"note", engine::describeTiming(timing)}};
                j["trained_context"] = config.maxPositions > 0 ? json(config.maxPositions) : json(nullptr);
                j["beyond_trained_context"] = contextWarning.has_value();
                j["reference"] = modeJson(modes.first, ra, in);
                j["compared"] = modeJson(modes.second, rb, in);
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
                              static_cast<long long>(n), req.blocks.size(), in.segmenter.c_str(),
                              static_cast<long long>(n - req.blocks.back()), model.device().c_str(),
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
                io.out << "\n  " << (req.temperature > 0 ? "sampled" : "greedy") << " continuations "
                       << (cmp.firstDivergentToken ? "diverge at token " + std::to_string(*cmp.firstDivergentToken)
                                                   : std::string("agree on all ") + std::to_string(cmp.comparedGenerated) + " tokens")
                       << "\n";
                if (in.tokenizer && maxNew > 0) {
                    io.out << "  " << na << ": " << json(decode(in, ra.generated)).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
                    io.out << "  " << nb << ": " << json(decode(in, rb.generated)).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
