#pragma once
// The side by side with a second model's block attention beside (issue 19): the base model's full
// and block attention (usecases/comparison.hpp, unchanged), then another model (e.g. the base
// model after block distillation) under the same block-attention variant on the same tokens,
// compared with the BASE model's full attention. One reference for both block columns is what
// makes the recovery readable: KL(base full || base block) next to KL(base full || other block).
//
//   requireSharedTokenizer({baseTokenizer, baseFile}, {otherTokenizer, otherFile});
//   auto report = runModelComparison(baseRunner, otherRunner, input, options, hooks);
//   recordModelComparison(store, baseRunner.model(), otherRunner.model(), source, options, report);
#include "usecases/comparison.hpp"

#include <filesystem>
#include <optional>

namespace blocklens::usecases {

// A model's tokenizer as the side by side needs it: the tokens of one model are fed to the other,
// so both must read text the same way.
struct TokenizerOf {
    const std::optional<Tokenizer>& tokenizer;
    std::filesystem::path file; // where it was read from (or would be: <model>/tokenizer.json)
};

// Throws Error naming both files unless both models have a tokenizer with the same content
// (SHA-256 of tokenizer.json).
void requireSharedTokenizer(const TokenizerOf& base, const TokenizerOf& other);

struct ModelComparisonReport {
    ComparisonReport base;                   // the base model: full (reference) vs block (compared)
    engine::RunResult other;                 // the other model under options.compared (+ comparedRepair)
    engine::ModeComparison otherComparison;  // base full vs other block, on the query block
};

// runComparison on `base`, then `other` under the compared variant, timed by the same protocol
// after its own warm-up (its block cache cleared before each run when options.coldCache). Hooks
// see the other model's run as ComparisonSide::OtherModel. Throws Error when the two models'
// vocabularies differ (their logits could not be compared row by row), before anything runs.
ModelComparisonReport runModelComparison(const engine::Runner& base, const engine::Runner& other, const ComparisonInput& input,
                                         const ComparisonOptions& options, const ComparisonHooks& hooks = {});

// recordComparison's two runs of the base model, then the other model's run with its divergence
// from the base model's full attention.
void recordModelComparison(store::Store& store, const engine::Model& base, const engine::Model& other, const ComparisonSource& source,
                           const ComparisonOptions& options, const ModelComparisonReport& report);

} // namespace blocklens::usecases
