#pragma once
// A run as the experiment store keeps it (store::RunRecord): what ran (model, tokenizer, mode,
// device, dtype, software versions), what it cost (TTFT, FLOPs, KV bytes, cache hits) and, for
// the compared run of a pair, how far it moved from the reference. Shared by `blocklens-cli
// compare --db` and the desktop app's side-by-side view, so runs from both read the same.
#include "engine/metrics.hpp"
#include "engine/model.hpp"
#include "engine/repairs.hpp"
#include "engine/runner.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>

namespace blocklens::engine {

struct RunContext {
    std::optional<store::Id> documentId; // the document the input came from, when there is one
    std::string tokenizerHash;           // empty when ids were given directly
    std::string segmenter;               // how the blocks were chosen ("hybrid", "given", "workbench")
};

// Which model ran, as a record names it: a model loaded here (identityOf), or one that a server ran
// (issue 22: its name and fingerprint from the server, the server's address in `software`).
struct RunModelIdentity {
    std::string name;        // the model directory's name
    std::string fingerprint; // Model::fingerprint
    std::string config = "{}";
    std::string device, dtype;
    std::string software = "{}"; // JSON
};
RunModelIdentity identityOf(const Model& model);

// `comparison`: set for the compared run of a pair (its divergence from the reference).
store::RunRecord makeRunRecord(const RunModelIdentity& model, const AttentionVariant& variant, const RunResult& result,
                               const RunContext& context, const ModeComparison* comparison = nullptr);
store::RunRecord makeRunRecord(const Model& model, AttentionMode mode, const RunResult& result, const RunContext& context,
                               const ModeComparison* comparison = nullptr);
// The same for an attention variant: attention_mode is its name ("block-cached+recompute-first:16"),
// and a repair's work (FLOPs, recomputed tokens) goes into the divergence details.
store::RunRecord makeRunRecord(const Model& model, const AttentionVariant& variant, const RunResult& result,
                               const RunContext& context, const ModeComparison* comparison = nullptr);

} // namespace blocklens::engine
