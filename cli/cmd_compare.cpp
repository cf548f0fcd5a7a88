// blocklens-cli compare: the same input under two attention modes (full vs block-cached by
// default): divergence of the query block's logits, perplexity, greedy continuations, TTFT.
// The comparison itself is core's (usecases/comparison.hpp); this file parses and prints.
#include "cli/command.hpp"
#include "cli/compare_output.hpp"
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
#include "remote/protocol.hpp" // the request compare --server sends
#if BLOCKLENS_HAVE_NET
#include "net/client.hpp"
#include "net/server.hpp"
#endif
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

// compare --server URL: the same comparison run by `blocklens-cli serve` (issue 22); the server
// encodes and segments a document with its model's tokenizer, so only what it can do is sent.
int compareOnServer(const ArgSpec::Parsed& a, const std::pair<engine::AttentionVariant, engine::AttentionVariant>& modes,
                    std::int64_t maxNew, double temperature, std::int64_t repeats, Io& io)
{
    for (const char* local : {"tokenizer", "db"})
        if (a.has(local))
            throw UsageError{std::string("--") + local + " goes with --model (a comparison in this process), not with --server"};
    if (a.has("input") == a.has("ids"))
        throw UsageError{"give either --input FILE or --ids LIST"};
    remote::CompareRequest r;
    if (a.has("ids")) {
        if (a.has("query"))
            throw UsageError{"--query needs --input (text); with --ids the last block is the query"};
        if (a.has("segmenter") || hasSegmentOptions(a))
            throw UsageError{"token ids cannot be segmented: with --ids give --block-starts LIST (or nothing: one block)"};
        r.prompt.ids = parseTokenIds(a.value("ids"), "ids");
        if (a.has("block-starts"))
            r.prompt.blockStarts = parseIntegerList(a.value("block-starts"), "block-starts");
    } else {
        if (a.has("block-starts"))
            throw UsageError{"with --server, --block-starts goes with --ids (the server encodes --input; give a segmenter)"};
        const segment::SegmentOptions so = readSegmentOptions(a);
        if (!so.regex.empty())
            throw UsageError{"--regex runs in this process only: give --model DIR instead of --server"};
        r.prompt.text = loadInputDocument(a.value("input"), {a.flag("replace-invalid")}, io.err).text();
        r.prompt.segmenter = a.has("segmenter") ? a.value("segmenter") : std::string();
        r.prompt.granularity = so.granularity;
        if (a.has("query")) {
            if (a.value("query").empty())
                throw UsageError{"--query encodes to no tokens"};
            r.prompt.query = a.value("query");
        }
    }
    r.reference = modes.first;
    r.compared = modes.second;
    r.maxNewTokens = maxNew;
    r.temperature = temperature;
    r.seed = static_cast<std::uint64_t>(a.integer("seed"));
    r.repeats = static_cast<int>(repeats);
    r.coldCache = true;
#if BLOCKLENS_HAVE_NET
    const net::RemoteClient client({a.value("server"), a.has("token-file") ? net::readTokenFile(a.value("token-file")) : std::string()});
    const net::ServerInfo info = client.info();
    if (!info.blocklens)
        throw Error(client.url() + " answers the OpenAI API but is not a BlockLens server: block attention needs `blocklens-cli serve` "
                                   "(with its extensions)");
    if (a.flag("sweep")) { // the server runs the repair family against the reference (compare_sweep.cpp prints it)
        r.sweep = engine::repairSweepFamily();
        const remote::SweepResult s = client.sweep(r);
        const auto n = static_cast<std::int64_t>(s.input.ids.size());
        // The server sweeps without a warm-up of its own; each setting's TTFT is the median of --repeats runs.
        return printSweep({n, s.input.blocks.size(), n - s.input.blocks.back(), s.reference, s.referenceResult,
                           engine::TimingProtocol{.warmUps = 0, .repeats = static_cast<int>(repeats)}, s.rows},
                          a.flag("json"), io);
    }
    const remote::ComparisonResult result = client.compare(r);
    if (result.report.contextWarning)
        io.err << "warning: " << *result.report.contextWarning << "\n";
    ComparisonOutput out;
    out.model = client.url();
    out.fingerprint = info.model.fingerprint;
    out.device = info.model.device;
    out.dtype = info.model.dtype;
    out.trainedContext = info.model.maxPositions;
    out.segmenter = result.segmenter;
    out.reference = result.reference;
    out.compared = result.compared;
    out.input = &result.input;
    out.report = &result.report;
    if (!info.model.tokenizerHash.empty()) {
        out.referenceText = result.referenceText;
        out.comparedText = result.comparedText;
    }
    out.temperature = temperature;
    out.maxNewTokens = maxNew;
    printComparison(out, a.flag("json"), io);
    return 0;
#else
    (void)r;
    throw UsageError{kNoHttpInThisBuild};
#endif
}

} // namespace

Command compareCommand()
{
    ArgSpec spec("compare (--model DIR | --server URL [--token-file F]) (--input FILE | --ids LIST) [--segmenter NAME ... | --block-starts LIST] [--query TEXT] "
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
        .option("db", "PATH", "record both runs in this experiment store")
        .option("server", "URL", "run it on `blocklens-cli serve` at URL (http://HOST:PORT) instead of loading --model here")
        .option("token-file", "F", "with --server: file holding the server's bearer token");
    addDeviceOptions(spec)
        .flag("replace-invalid", "replace invalid UTF-8 with U+FFFD instead of failing")
        .flag("json", "print JSON");
    return {"compare", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (a.has("model") == a.has("server"))
                    throw UsageError{"give either --model DIR or --server URL"};
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
                if (a.has("server"))
                    return compareOnServer(a, modes, maxNew, temperature, repeats, io);
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
                if (a.has("db")) {
                    auto store = store::Store::open(a.value("db"));
                    usecases::recordComparison(store, model, {in.doc ? &*in.doc : nullptr, bundle.tokenizerHash(), in.segmenter}, options,
                                               report);
                }
                ComparisonOutput out;
                out.model = a.value("model");
                out.device = model.device();
                out.dtype = std::string(engine::toString(model.dtype()));
                out.trainedContext = config.maxPositions;
                out.segmenter = in.segmenter;
                out.reference = modes.first;
                out.compared = modes.second;
                out.input = &in.tokens;
                out.report = &report;
                if (bundle.tokenizer) {
                    out.referenceText = bundle.tokenizer->decode(report.reference.generated, true);
                    out.comparedText = bundle.tokenizer->decode(report.compared.generated, true);
                }
                out.temperature = temperature;
                out.maxNewTokens = maxNew;
                printComparison(out, a.flag("json"), io);
                return 0;
            }};
}

} // namespace blocklens::cli
