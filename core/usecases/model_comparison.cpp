#include "usecases/model_comparison.hpp"

#include "engine/block_kv_cache.hpp"
#include "engine/run_record.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

namespace blocklens::usecases {

void requireSharedTokenizer(const TokenizerOf& base, const TokenizerOf& other)
{
    const std::string a = base.file.string(), b = other.file.string();
    if (!base.tokenizer || !other.tokenizer)
        throw Error("the two models must share a tokenizer, but " + (base.tokenizer ? b : a) + " does not exist (compared with " +
                        (base.tokenizer ? a : b) + ")",
                    {.file = base.tokenizer ? b : a});
    if (base.tokenizer->contentHash() != other.tokenizer->contentHash())
        throw Error("the two models must share a tokenizer, but " + a + " and " + b + " differ", {.file = b});
}

ModelComparisonReport runModelComparison(const engine::Runner& base, const engine::Runner& other, const ComparisonInput& input,
                                         const ComparisonOptions& options, const ComparisonHooks& hooks)
{
    const std::int64_t baseVocab = base.model().config().vocabSize, otherVocab = other.model().config().vocabSize;
    if (baseVocab != otherVocab)
        throw Error("the two models must have the same vocabulary to compare their predictions, but " +
                        (base.model().directory() / "config.json").string() + " has vocab_size " + std::to_string(baseVocab) + " and " +
                        (other.model().directory() / "config.json").string() + " has " + std::to_string(otherVocab),
                    {.file = (other.model().directory() / "config.json").string(), .item = "vocab_size"});

    ModelComparisonReport report;
    report.base = runComparison(base, input, options, hooks);

    // The other model's block run, measured like the base model's: its own untimed warm-up first
    // (its weights are as cold as the base model's were), then the same number of timed repeats.
    engine::RunRequest req = comparisonRequest(input, options);
    engine::warmUp(other, req, options.timing, hooks.warmUp);
    engine::TimedSide side;
    side.request = req;
    side.request.mode = options.compared;
    side.request.repair = options.comparedRepair;
    if (hooks.onToken)
        side.request.onToken = [&hooks](std::int32_t token) { hooks.onToken(ComparisonSide::OtherModel, token); };
    if (options.coldCache && side.request.mode == engine::AttentionMode::BlockCached)
        side.beforeEach = [&other] { other.cache().clear(); };
    if (hooks.progress)
        side.progress = hooks.progress(ComparisonSide::OtherModel);
    auto results = engine::runTimedInterleaved(other, {side}, options.timing, [&](std::size_t, const engine::RunResult& r) {
        if (hooks.finished)
            hooks.finished(ComparisonSide::OtherModel, r);
    });
    report.other = std::move(results[0]);
    // Against the base model's full attention: the reference both block columns are measured from.
    report.otherComparison = engine::compareRuns(report.base.reference, report.other, input.ids, req.blocks.back());
    return report;
}

void recordModelComparison(store::Store& store, const engine::Model& base, const engine::Model& other, const ComparisonSource& source,
                           const ComparisonOptions& options, const ModelComparisonReport& report)
{
    recordComparison(store, base, source, options, report.base);
    engine::RunContext context;
    if (source.document)
        context.documentId = store.addDocument(*source.document); // the id recordComparison got
    context.tokenizerHash = source.tokenizerHash;
    context.segmenter = source.segmenter;
    store.recordRun(engine::makeRunRecord(other, engine::AttentionVariant{options.compared, options.comparedRepair}, report.other, context,
                                          &report.otherComparison));
}

} // namespace blocklens::usecases
