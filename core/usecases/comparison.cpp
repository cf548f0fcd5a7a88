#include "usecases/comparison.hpp"

#include "engine/block_kv_cache.hpp"
#include "engine/run_record.hpp"
#include "engine/trained_context.hpp"
#include "segment/token_blocks.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

namespace blocklens::usecases {

DocumentTokens::DocumentTokens(const Tokenizer& tokenizer, const Document& doc)
    : encoding_(tokenizer.encode(doc.text())),
      grid_(segment::TokenGrid::fromEncoding(encoding_, doc.length(), tokenizer.describe())),
      documentHash_(doc.contentHash())
{
}

ComparisonInput comparisonInput(const DocumentTokens& tokens, std::vector<std::int64_t> blockStarts, const Tokenizer& tokenizer,
                                std::string_view query)
{
    ComparisonInput in;
    in.ids = tokens.encoding().ids;
    in.spans = tokens.encoding().spans;
    in.blocks = std::move(blockStarts);
    if (!query.empty()) {
        const Encoding q = tokenizer.encode(std::string(query));
        if (q.ids.empty())
            throw Error("the query encodes to no tokens");
        segment::appendQueryBlock(in.ids, in.blocks, q.ids);
        in.queryTokens = static_cast<std::int64_t>(q.ids.size());
    }
    if (in.ids.empty())
        throw Error(query.empty() ? "the document encodes to no tokens" : "the document and the query encode to no tokens");
    in.blocks = engine::normalizeBlocks(std::move(in.blocks), static_cast<std::int64_t>(in.ids.size()));
    if (query.empty())
        in.queryTokens = static_cast<std::int64_t>(in.ids.size()) - in.blocks.back();
    return in;
}

engine::RunRequest comparisonRequest(const ComparisonInput& input, const ComparisonOptions& options)
{
    engine::RunRequest req;
    req.ids = input.ids;
    req.blocks = engine::normalizeBlocks(input.blocks, static_cast<std::int64_t>(input.ids.size()));
    req.logits = engine::LogitsWanted::LastBlock;
    req.maxNewTokens = options.maxNewTokens;
    req.temperature = options.temperature;
    req.seed = options.seed;
    req.stopToken = options.stopToken;
    req.tokenizerHash = options.tokenizerHash;
    return req;
}

ComparisonReport runComparison(const engine::Runner& runner, const ComparisonInput& input, const ComparisonOptions& options,
                               const ComparisonHooks& hooks)
{
    using engine::AttentionMode;
    const auto n = static_cast<std::int64_t>(input.ids.size());
    const engine::RunRequest req = comparisonRequest(input, options);

    ComparisonReport report;
    report.timing = options.timing;
    report.contextWarning = engine::trainedContextWarning(runner.model().config(), n + options.maxNewTokens);
    // Both modes are timed after the same untimed warm-up: otherwise the first comparison after
    // loading charges the model's start-up to whichever mode runs first.
    engine::warmUp(runner, req, options.timing, hooks.warmUp);

    const ComparisonSide order[2] = {ComparisonSide::Reference, ComparisonSide::Compared};
    std::vector<engine::TimedSide> sides;
    for (const ComparisonSide side : order) {
        engine::TimedSide s;
        s.request = req;
        s.request.mode = side == ComparisonSide::Reference ? options.reference : options.compared;
        s.request.repair = side == ComparisonSide::Reference ? options.referenceRepair : options.comparedRepair;
        if (hooks.onToken)
            s.request.onToken = [&hooks, side](std::int32_t token) { hooks.onToken(side, token); };
        if (options.coldCache && s.request.mode == AttentionMode::BlockCached)
            s.beforeEach = [&runner] { runner.cache().clear(); };
        if (hooks.progress)
            s.progress = hooks.progress(side);
        sides.push_back(std::move(s));
    }
    auto results = engine::runTimedInterleaved(runner, sides, options.timing, [&](std::size_t i, const engine::RunResult& r) {
        if (hooks.finished)
            hooks.finished(order[i], r);
    });
    report.reference = std::move(results[0]);
    report.compared = std::move(results[1]);

    if (options.compared == AttentionMode::BlockCached) {
        // Every block is cached now: the TTFT block attention is built for.
        engine::RunRequest warm = sides[1].request;
        warm.onToken = nullptr;
        warm.maxNewTokens = 0;
        warm.logits = engine::LogitsWanted::None;
        std::vector<double> ttft;
        for (int r = 0; r < options.timing.repeats; ++r) {
            const engine::RunStats stats = runner.run(warm, sides[1].progress).stats;
            if (!report.comparedWarm)
                report.comparedWarm = stats;
            ttft.push_back(stats.ttftMs);
        }
        report.comparedWarm->ttftMs = engine::medianOf(std::move(ttft));
    }
    report.comparison = engine::compareRuns(report.reference, report.compared, input.ids, req.blocks.back());
    return report;
}

void recordComparison(store::Store& store, const engine::Model& model, const ComparisonSource& source,
                      const ComparisonOptions& options, const ComparisonReport& report)
{
    recordComparison(store, engine::identityOf(model), source, options, report);
}

void recordComparison(store::Store& store, const engine::RunModelIdentity& model, const ComparisonSource& source,
                      const ComparisonOptions& options, const ComparisonReport& report)
{
    engine::RunContext context;
    if (source.document)
        context.documentId = store.addDocument(*source.document);
    context.tokenizerHash = source.tokenizerHash;
    context.segmenter = source.segmenter;
    // Named by variant: a repair of block-cached is recorded as "block-cached+recompute-first:16".
    store.recordRun(engine::makeRunRecord(model, engine::AttentionVariant{options.reference, options.referenceRepair}, report.reference, context));
    store.recordRun(engine::makeRunRecord(model, engine::AttentionVariant{options.compared, options.comparedRepair}, report.compared, context,
                                          &report.comparison));
}

} // namespace blocklens::usecases
