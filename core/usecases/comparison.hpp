#pragma once
// The comparison a user asks for, once for `blocklens-cli compare`, the app's side by side and the
// tests' oracle: a document cut into blocks plus a query, run under a reference attention mode and
// a compared one, timed fairly (engine/fair_timing.hpp), compared on the query block, and
// recorded in an experiment store when wanted.
//
//   DocumentTokens tokens(tokenizer, doc);                              // encode once, cut often
//   auto input = comparisonInput(tokens, tokenBlockStarts(tokens.grid(), cuts), tokenizer, query);
//   auto report = runComparison(runner, input, options);
//   recordComparison(store, runner.model(), {&doc, tokenizer.contentHash(), "workbench"}, options, report);
#include "document/document.hpp"
#include "engine/fair_timing.hpp"
#include "engine/metrics.hpp"
#include "engine/runner.hpp"
#include "segment/token_grid.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::store {
class Store;
}
namespace blocklens::engine {
struct RunModelIdentity; // engine/run_record.hpp
}

namespace blocklens::usecases {

// A document encoded once: documents are cut again far more often than they are typed again.
class DocumentTokens {
public:
    DocumentTokens(const Tokenizer& tokenizer, const Document& doc);
    const Encoding& encoding() const { return encoding_; }
    const segment::TokenGrid& grid() const { return grid_; }
    const std::string& documentHash() const { return documentHash_; }

private:
    Encoding encoding_;
    segment::TokenGrid grid_;
    std::string documentHash_;
};

// The tokens a comparison runs: the document's tokens in blocks, then the query as the last
// (global) block. Without a query the document's last block is the query.
struct ComparisonInput {
    std::vector<std::int32_t> ids;
    std::vector<std::int64_t> blocks; // token starts from 0 (engine::normalizeBlocks); the last is the query
    std::vector<TokenSpan> spans;     // code-point spans of the document's tokens (the query's have none)
    std::int64_t queryTokens = 0;
};

// `blockStarts`: segment::tokenBlockStarts of a segmentation or of cuts over tokens.grid(). An empty
// query adds no block; a query that encodes to no tokens, or no tokens at all, is an Error.
ComparisonInput comparisonInput(const DocumentTokens& tokens, std::vector<std::int64_t> blockStarts, const Tokenizer& tokenizer,
                                std::string_view query);

// OtherModel: a second model's run beside the two (usecases/model_comparison.hpp).
enum class ComparisonSide { Reference, Compared, OtherModel };

struct ComparisonOptions {
    engine::AttentionMode reference = engine::AttentionMode::Full;
    engine::AttentionMode compared = engine::AttentionMode::BlockCached;
    engine::Repair referenceRepair, comparedRepair; // repairs of block-cached (engine/repair.hpp); none by default
    std::int64_t maxNewTokens = 16; // generated under each mode
    double temperature = 0;         // 0: greedy; else sampled, the same seed for both modes
    std::uint64_t seed = 0;
    std::optional<std::int32_t> stopToken; // the model's end-of-text token
    std::string tokenizerHash;             // part of the block cache key
    engine::TimingProtocol timing;
    // Clear the block cache before every timed run of a block-cached mode (its cold TTFT); else
    // the run reuses what earlier comparisons cached.
    bool coldCache = true;
};

// What the front end shows while it runs; every member may be empty.
struct ComparisonHooks {
    Progress warmUp;                                          // cancellable, nothing to show
    std::function<Progress(ComparisonSide)> progress;         // of each run of a side
    std::function<void(ComparisonSide, std::int32_t)> onToken; // a side's generated tokens, as they come
    std::function<void(ComparisonSide, const engine::RunResult&)> finished; // a side's timed runs are done
};

struct ComparisonReport {
    engine::RunResult reference, compared;
    // When the compared mode is block-cached: its TTFT again with every block cached (the TTFT
    // block attention is built for; the median of the repeats).
    std::optional<engine::RunStats> comparedWarm;
    engine::ModeComparison comparison;
    std::optional<std::string> contextWarning; // beyond the model's trained context
    engine::TimingProtocol timing;
};

// The run request both sides start from (ids, blocks, the query block's logits, generation
// settings; no mode): also the base of a repair sweep over the same input (engine/repair_sweep.hpp).
engine::RunRequest comparisonRequest(const ComparisonInput& input, const ComparisonOptions& options);

// One untimed warm-up, then the two modes interleaved for the repeats, then the warm-cache TTFT.
// Throws Error (a bad input, a stop requested through a hook's Progress).
ComparisonReport runComparison(const engine::Runner& runner, const ComparisonInput& input, const ComparisonOptions& options,
                               const ComparisonHooks& hooks = {});

// Where the compared input came from, recorded with the runs.
struct ComparisonSource {
    const Document* document = nullptr; // added to the store when given
    std::string tokenizerHash;          // empty when ids were given directly
    std::string segmenter;              // how the blocks were chosen ("hybrid", "given", "workbench")
};

// Records both runs: the reference alone, the compared one with its divergence from the reference.
void recordComparison(store::Store& store, const engine::Model& model, const ComparisonSource& source,
                      const ComparisonOptions& options, const ComparisonReport& report);
// The same for a comparison a server ran (issue 22): the model as the server named it.
void recordComparison(store::Store& store, const engine::RunModelIdentity& model, const ComparisonSource& source,
                      const ComparisonOptions& options, const ComparisonReport& report);

} // namespace blocklens::usecases
