#include "cli/compare_sweep.hpp"

#include "cli/engine_args.hpp"
#include "cli/json_output.hpp"
#include "cli/progress_printer.hpp"
#include "engine/repair_sweep.hpp"

#include <cstdio>
#include <ostream>

namespace blocklens::cli {

int compareSweep(const SweepInput& in, bool asJson, Io& io, const RecordRun& record)
{
    std::vector<engine::RepairSweepRow> rows;
    {
        ProgressPrinter printer(io.err, "repair sweep");
        rows = engine::runRepairSweep(in.runner, in.request, in.referenceResult, engine::repairSweepFamily(), in.timing,
                                      printer.progress());
    }
    record(in.reference, in.referenceResult, nullptr);
    for (const auto& row : rows)
        if (!row.skipped)
            record(row.variant, row.result, &row.comparison);
    const auto n = static_cast<std::int64_t>(in.request.ids.size());
    return printSweep({n, in.request.blocks.size(), n - in.request.blocks.back(), in.reference, in.referenceResult, in.timing, rows}, asJson,
                      io);
}

int printSweep(const SweepTable& in, bool asJson, Io& io)
{
    using json = nlohmann::ordered_json;
    const std::int64_t n = in.tokens, query = in.queryTokens;
    const auto& rows = in.rows;
    if (asJson) {
        json j;
        j["reference"] = {{"mode", engine::variantName(in.reference)}, {"stats", runStatsJson(in.referenceResult.stats)}};
        j["tokens"] = n;
        j["blocks"] = in.blocks;
        j["query_tokens"] = query;
        j["timing"] = engine::describeTiming(in.timing) + "; settings: TTFT with their blocks cached";
        json list = json::array();
        for (const auto& row : rows) {
            json r;
            r["mode"] = engine::variantName(row.variant);
            if (row.skipped) {
                r["skipped"] = *row.skipped;
            } else {
                r["extra_flops_share_warm"] = row.extraWarm;
                r["extra_flops_share_cold"] = row.extraCold;
                r["ttft_warm_ms"] = row.warmTtftMs;
                r["mean_kl"] = row.comparison.meanKl;
                r["max_kl"] = row.comparison.maxKl;
                r["top1_agreement"] = row.comparison.top1Agreement;
                r["first_divergent_generated_token"] =
                    row.comparison.firstDivergentToken ? json(*row.comparison.firstDivergentToken) : json(nullptr);
                r["recomputed_tokens"] = row.result.recomputed.size();
                r["stats"] = runStatsJson(row.result.stats);
            }
            list.push_back(r);
        }
        j["settings"] = list;
        io.out << jsonText(j) << "\n";
        return 0;
    }
    char buf[512];
    std::snprintf(buf, sizeof buf, "repair sweep against %s: %lld tokens in %zu blocks, query block %lld tokens (%s; settings: TTFT with their blocks cached)\n",
                  engine::variantName(in.reference).c_str(), static_cast<long long>(n), in.blocks,
                  static_cast<long long>(query), engine::describeTiming(in.timing).c_str());
    io.out << buf;
    std::snprintf(buf, sizeof buf, "  reference %s: TTFT %.2f ms, prefill %.3g FLOPs\n", engine::variantName(in.reference).c_str(),
                  in.referenceResult.stats.ttftMs, in.referenceResult.stats.prefillFlops.total());
    io.out << buf;
    std::snprintf(buf, sizeof buf, "  %-34s %10s %10s %11s %10s %10s %7s %s\n", "setting", "extra warm", "extra cold", "TTFT warm",
                  "mean KL", "max KL", "top-1", "first divergent token");
    io.out << buf;
    for (const auto& row : rows) {
        const std::string name = engine::variantName(row.variant);
        if (row.skipped) {
            io.out << "  " << name << ": skipped (" << *row.skipped << ")\n";
            continue;
        }
        const auto& c = row.comparison;
        const std::string divergent = c.firstDivergentToken ? std::to_string(*c.firstDivergentToken)
                                                            : "none of " + std::to_string(c.comparedGenerated);
        std::snprintf(buf, sizeof buf, "  %-34s %9.2f%% %9.2f%% %8.2f ms %10.4g %10.4g %6.1f%% %s\n", name.c_str(), 100 * row.extraWarm,
                      100 * row.extraCold, row.warmTtftMs, c.meanKl, c.maxKl, 100 * c.top1Agreement, divergent.c_str());
        io.out << buf;
    }
    std::snprintf(buf, sizeof buf, "%.4g", in.referenceResult.stats.fullFlops.total());
    io.out << "  extra: the repair's own prefill FLOPs as a share of a full prefill as it runs for the first token (" << buf
           << " FLOPs: its last layer for the last row alone; warm: every block cached, the query-time work; "
              "cold: from an empty cache, sink encodings included)\n";
    return 0;
}

} // namespace blocklens::cli
