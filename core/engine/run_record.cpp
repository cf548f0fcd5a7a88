#include "engine/run_record.hpp"

#include "version.hpp"

#include <nlohmann/json.hpp>

namespace blocklens::engine {

store::RunRecord makeRunRecord(const Model& model, AttentionMode mode, const RunResult& r, const RunContext& context,
                               const ModeComparison* cmp)
{
    using json = nlohmann::ordered_json;
    store::RunRecord rec;
    rec.documentId = context.documentId;
    rec.modelName = model.directory().filename().string();
    rec.modelHash = model.fingerprint();
    rec.modelConfig = model.config().toJson();
    rec.tokenizerHash = context.tokenizerHash;
    rec.attentionMode = std::string(toString(mode));
    rec.device = model.device();
    rec.dtype = std::string(toString(model.dtype()));
    rec.software = json{{"blocklens", std::string(kVersion)}, {"libtorch", torchVersion()}}.dump();
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

store::RunRecord makeRunRecord(const Model& model, const AttentionVariant& variant, const RunResult& r, const RunContext& context,
                               const ModeComparison* cmp)
{
    store::RunRecord rec = makeRunRecord(model, variant.mode, r, context, cmp);
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
