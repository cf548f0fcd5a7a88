#pragma once
// `compare --sweep` (issue 18): one input under a family of repair settings (repairs.hpp), each
// against the same reference run: what the repair costs (extra prefill FLOPs, TTFT) and how close
// it gets (KL, top-1 agreement on the query block, first divergent generated token).
#include "engine/fair_timing.hpp"
#include "engine/metrics.hpp"
#include "engine/repairs.hpp"
#include "engine/runner.hpp"

#include <optional>
#include <string>
#include <vector>

namespace blocklens::engine {

struct RepairSweepRow {
    AttentionVariant variant;
    std::optional<std::string> skipped; // why the setting does not fit the input (then nothing else is set)
    RunResult result;                   // from an empty block cache (logits, generated tokens, cold stats)
    ModeComparison comparison;          // against the reference
    double warmTtftMs = 0;              // median TTFT with every block of this setting cached
    double extraWarm = 0;               // repair FLOPs with a warm cache (the query-time work), / full prefill
    double extraCold = 0;               // repair FLOPs from an empty cache (+ sink encodings), / full prefill
};

// Runs `base` (ids, blocks, generation settings) under each variant: once from an empty cache,
// then protocol.repeats times with the cache filled (TTFT: the median). `reference` is base run
// under the reference mode. Progress counts settings; a stop request throws.
std::vector<RepairSweepRow> runRepairSweep(const Runner& runner, const RunRequest& base, const RunResult& reference,
                                           const std::vector<AttentionVariant>& family, const TimingProtocol& protocol,
                                           const Progress& progress = {});

} // namespace blocklens::engine
