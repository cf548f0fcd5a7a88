#pragma once
// `compare --sweep` (issue 18): the reference run against every setting of the repair family
// (engine/repair_sweep.hpp), printed as a table (or JSON); each setting handed to `record`.
#include "cli/command.hpp"
#include "engine/fair_timing.hpp"
#include "engine/metrics.hpp"
#include "engine/repair_sweep.hpp"
#include "engine/repairs.hpp"
#include "tokenizer/tokenizer.hpp"

#include <functional>

namespace blocklens::cli {

struct SweepInput {
    const engine::Runner& runner;
    const engine::RunRequest& request; // ids, blocks, generation settings
    engine::AttentionVariant reference;
    const engine::RunResult& referenceResult;
    engine::TimingProtocol timing;
    const Tokenizer* tokenizer = nullptr; // for the generated text; may be null
};

// `record` gets the reference (comparison null) and then every setting that ran.
using RecordRun = std::function<void(const engine::AttentionVariant&, const engine::RunResult&, const engine::ModeComparison*)>;

int compareSweep(const SweepInput& input, bool asJson, Io& io, const RecordRun& record);

// What the table (or JSON) shows: the sweep's input, its reference run and every setting's row,
// swept here (compareSweep) or on a server (`compare --server URL --sweep`).
struct SweepTable {
    std::int64_t tokens = 0;
    std::size_t blocks = 0;
    std::int64_t queryTokens = 0;
    engine::AttentionVariant reference;
    const engine::RunResult& referenceResult;
    engine::TimingProtocol timing;
    const std::vector<engine::RepairSweepRow>& rows;
};
int printSweep(const SweepTable& table, bool asJson, Io& io);

} // namespace blocklens::cli
