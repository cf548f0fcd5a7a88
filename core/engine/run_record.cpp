#include "engine/run_record.hpp"

#include "version.hpp"

#include <nlohmann/json.hpp>

namespace blocklens::engine {

RunModelIdentity identityOf(const Model& model)
{
    RunModelIdentity id;
    id.name = model.directory().filename().string();
    id.fingerprint = model.fingerprint();
    id.config = model.config().toJson();
    id.device = model.device();
    id.dtype = std::string(toString(model.dtype()));
    id.software = nlohmann::ordered_json{{"blocklens", std::string(kVersion)}, {"libtorch", torchVersion()}}.dump();
    return id;
}

namespace {

store::RunRecord recordOf(const RunModelIdentity& model, AttentionMode mode, const RunResult& r, const RunContext& context,
                          const ModeComparison* cmp)
{
    using json = nlohmann::ordered_json;
    store::RunRecord rec;
    rec.documentId = context.documentId;
    rec.modelName = model.name;
    rec.modelHash = model.fingerprint;
    rec.modelConfig = model.config;
    rec.tokenizerHash = context.tokenizerHash;
    rec.attentionMode = std::string(toString(mode));
    rec.device = model.device;
    rec.dtype = model.dtype;
    rec.software = model.software;
    rec.tokens = r.stats.tokens;
    rec.blocks = r.stats.blocks;
    rec.ttftMs = r.stats.ttftMs;
    rec.prefillMs = r.stats.prefillMs;
    rec.flops = r.stats.prefillFlops.total();
    rec.kvBytes = static_cast<std::int64_t>(r.stats.kvBytes);
    rec.cacheHits = r.stats.cacheHits;
    rec.cacheMisses = r.stats.cacheMisses;
    json d = json::object();
    if (cmp) {
        rec.logitKl = cmp->meanKl;
        rec.top1Agreement = cmp->top1Agreement;
        d["max_kl"] = cmp->maxKl;
        d["perplexity_reference"] = cmp->perplexityA ? json(*cmp->perplexityA) : json(nullptr);
        d["perplexity"] = cmp->perplexityB ? json(*cmp->perplexityB) : json(nullptr);
        d["first_divergent_token"] = cmp->firstDivergentToken ? json(*cmp->firstDivergentToken) : json(nullptr);
    }
    // Both runs of a comparison carry the segmenter that cut the document (the reference run too,
    // though full attention ignores the blocks), so filtering runs by segmenter keeps the pair.
    if (!context.segmenter.empty())
        d["segmenter"] = context.segmenter;
    rec.divergence = d.dump();
    return rec;
}

} // namespace

store::RunRecord makeRunRecord(const Model& model, AttentionMode mode, const RunResult& r, const RunContext& context,
                               const ModeComparison* cmp)
{
    return recordOf(identityOf(model), mode, r, context, cmp);
}

store::RunRecord makeRunRecord(const Model& model, const AttentionVariant& variant, const RunResult& r, const RunContext& context,
                               const ModeComparison* cmp)
{
    return makeRunRecord(identityOf(model), variant, r, context, cmp);
}

store::RunRecord makeRunRecord(const RunModelIdentity& model, const AttentionVariant& variant, const RunResult& r, const RunContext& context,
                               const ModeComparison* cmp)
{
    store::RunRecord rec = recordOf(model, variant.mode, r, context, cmp);
    rec.attentionMode = variantName(variant);
    if (variant.repair.active()) {
        auto d = nlohmann::ordered_json::parse(rec.divergence);
        d["repair"] = repairName(variant.repair);
        d["repair_flops"] = r.stats.repairFlops.total();
        d["full_prefill_flops"] = r.stats.fullFlops.total();
        d["recomputed_tokens"] = r.recomputed.size();
        rec.divergence = d.dump();
    }
    return rec;
}

} // namespace blocklens::engine
