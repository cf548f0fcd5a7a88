#include "engine/repair_sweep.hpp"

#include "util/error.hpp"

namespace blocklens::engine {

std::vector<RepairSweepRow> runRepairSweep(const Runner& runner, const RunRequest& base, const RunResult& reference,
                                           const std::vector<AttentionVariant>& family, const TimingProtocol& protocol,
                                           const Progress& progress)
{
    std::vector<RepairSweepRow> rows;
    const std::vector<std::int64_t> blocks = normalizeBlocks(base.blocks, static_cast<std::int64_t>(base.ids.size()));
    const ModelConfig& config = runner.model().config();
    for (std::size_t i = 0; i < family.size(); ++i) {
        if (progress.stopRequested())
            throw Error("sweep cancelled");
        RepairSweepRow row;
        row.variant = family[i];
        try { // a setting that does not fit this input (a sink longer than the first block) is a row that says so
            planRepair(row.variant.repair, row.variant.mode, base.ids, blocks, config);
        } catch (const Error& e) {
            row.skipped = e.message();
            rows.push_back(std::move(row));
            continue;
        }
        RunRequest req = base;
        req.mode = row.variant.mode;
        req.repair = row.variant.repair;
        runner.cache().clear();
        row.result = runner.run(req);
        row.comparison = compareRuns(reference, row.result, base.ids, blocks.back());
        // Warm: every block of this setting cached; no generation beyond the first token.
        req.maxNewTokens = 0;
        req.logits = LogitsWanted::None;
        req.onToken = nullptr;
        std::vector<double> ttft;
        double repairWarm = 0;
        for (int r = 0; r < protocol.repeats; ++r) {
            const RunResult warm = runner.run(req);
            ttft.push_back(warm.stats.ttftMs);
            repairWarm = warm.stats.repairFlops.total();
        }
        row.warmTtftMs = medianOf(std::move(ttft));
        const double full = row.result.stats.fullFlops.total();
        row.extraWarm = repairWarm / full;
        row.extraCold = row.result.stats.repairFlops.total() / full;
        rows.push_back(std::move(row));
        progress(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(family.size()), "setting");
    }
    return rows;
}

} // namespace blocklens::engine
