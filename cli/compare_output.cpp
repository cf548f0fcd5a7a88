#include "cli/compare_output.hpp"

#include "cli/engine_args.hpp"

#include "engine/fair_timing.hpp"
#include "engine/memory.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

json modeJson(const engine::AttentionVariant& mode, const engine::RunResult& r, const std::optional<std::string>& text)
{
    json j;
    j["mode"] = engine::variantName(mode);
    j["stats"] = runStatsJson(r.stats);
    j["generated_ids"] = r.generated;
    if (text)
        j["generated_text"] = *text;
    return j;
}

} // namespace

void printComparison(const ComparisonOutput& out, bool asJson, Io& io)
{
    const usecases::ComparisonReport& report = *out.report;
    const engine::RunResult& ra = report.reference;
    const engine::RunResult& rb = report.compared;
    const engine::ModeComparison& cmp = report.comparison;
    const engine::TimingProtocol& timing = report.timing;
    const std::vector<std::int64_t>& blocks = out.input->blocks;
    const auto n = static_cast<std::int64_t>(out.input->ids.size());
    std::optional<double> warmTtft;
    if (report.comparedWarm)
        warmTtft = report.comparedWarm->ttftMs;

    json j;
    j["model"] = out.model;
    if (!out.fingerprint.empty())
        j["fingerprint"] = out.fingerprint;
    j["device"] = out.device;
    j["dtype"] = out.dtype;
    j["tokens"] = n;
    j["blocks"] = blocks.size();
    j["segmenter"] = out.segmenter;
    j["query_tokens"] = n - blocks.back();
    j["block_numbering"] = "from 1";
    j["timing"] = {{"warm_ups", timing.warmUps}, {"repeats", timing.repeats}, {"note", engine::describeTiming(timing)}};
    j["trained_context"] = out.trainedContext > 0 ? json(out.trainedContext) : json(nullptr);
    j["beyond_trained_context"] = report.contextWarning.has_value();
    j["reference"] = modeJson(out.reference, ra, out.referenceText);
    j["compared"] = modeJson(out.compared, rb, out.comparedText);
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
    if (asJson) {
        io.out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        return;
    }
    const std::string na = engine::variantName(out.reference), nb = engine::variantName(out.compared);
    char buf[512];
    std::snprintf(buf, sizeof buf, "%lld tokens in %zu blocks (%s), query block %lld tokens, %s %s\n", static_cast<long long>(n),
                  blocks.size(), out.segmenter.c_str(), static_cast<long long>(n - blocks.back()), out.device.c_str(), out.dtype.c_str());
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
    io.out << "\n  " << (out.temperature > 0 ? "sampled" : "greedy") << " continuations "
           << (cmp.firstDivergentToken ? "diverge at token " + std::to_string(*cmp.firstDivergentToken)
                                       : std::string("agree on all ") + std::to_string(cmp.comparedGenerated) + " tokens")
           << "\n";
    if (out.referenceText && out.comparedText && out.maxNewTokens > 0) {
        io.out << "  " << na << ": " << json(*out.referenceText).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
        io.out << "  " << nb << ": " << json(*out.comparedText).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
}

} // namespace blocklens::cli
