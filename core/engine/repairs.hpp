#pragma once
// Attention variants as users name them (`--mode`, `--modes`, the app): a mode, or block-cached
// with one repair (repair.hpp has the exact definitions):
//
//   full | block | block-cached
//   block-cached+sink:N           block-cached+sink:bos
//   block-cached+recompute-first:K (K >= 0 tokens per block)
//   block-cached+recompute-frac:R  (0 <= R <= 1)
//
// and what a repair does to one input (which tokens, how many), checked against it.
#include "engine/model_config.hpp"
#include "engine/repair.hpp"
#include "engine/runner.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::engine {

struct AttentionVariant {
    AttentionMode mode = AttentionMode::Full;
    Repair repair;
};

// Throws Error naming the setting (`item` "mode") for an unknown variant, k < 0, r outside [0, 1],
// a number that does not parse, or a repair on a mode other than block-cached.
AttentionVariant parseAttentionVariant(std::string_view text);
std::string variantName(const AttentionVariant& variant); // parseAttentionVariant's inverse
std::string repairName(const Repair& repair);             // "sink:4", "recompute-frac:0.15"; "" for none
// One line for --help: the accepted syntax.
std::string attentionVariantSyntax();

// What a repair does to one input: resolved and checked against the ids, blocks (normalised,
// the last one the query) and the model.
struct RepairPlan {
    std::int64_t sinkTokens = 0;              // sink: N (0 without a sink)
    std::vector<std::int64_t> recompute;      // recompute-first: the slots recomputed, ascending
    std::vector<std::int64_t> candidates;     // recompute-frac: the slots it may choose from, ascending
    std::int64_t select = 0;                  // recompute-frac: how many of them it recomputes
};

// Throws Error (item "mode") for a repair that does not fit: a sink longer than the context or
// than the first block (which holds it), sink:bos on an input that does not start with the
// model's BOS, a repair on a mode other than block-cached.
RepairPlan planRepair(const Repair& repair, AttentionMode mode, std::span<const std::int32_t> ids,
                      const std::vector<std::int64_t>& blocks, const ModelConfig& config);

// The settings `compare --sweep` runs: sink N in 0,1,4,16;
// recompute-first k in 0,1,4,16,64; recompute-frac r in 0,0.05,0.15,0.3,1.
std::vector<AttentionVariant> repairSweepFamily();

} // namespace blocklens::engine
