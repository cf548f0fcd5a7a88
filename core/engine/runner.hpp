#pragma once
// One run of a model over a token sequence split into blocks, under one attention mode, with
// optional greedy generation, and what it cost.
//
// Attention modes (the last block is the query and always attends to everything before it):
//   full          ordinary causal attention over the whole sequence, positions 0..n-1.
//   block         each block but the last attends causally within itself only; positions are the
//                 global ones (the block-attention paper's training-time form).
//   block-cached  each block but the last is encoded alone at positions 0..len-1 (or found in the
//                 BlockKvCache), its keys re-rotated by its offset (RoPE rotations compose), and
//                 concatenated; only the last block is computed now. Equals `block` up to rounding.
//
//   block-cached+REPAIR  block-cached with a repair (sink tokens, boundary or selective
//                 recompute): RunRequest::repair; definitions in repair.hpp.
//
// Generated tokens belong to the last block: they attend to everything.
#include "engine/block_kv_cache.hpp"
#include "engine/flops.hpp"
#include "engine/model.hpp"
#include "engine/repair.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::engine {

enum class AttentionMode { Full, Block, BlockCached };
std::string_view toString(AttentionMode mode); // "full", "block", "block-cached"
std::optional<AttentionMode> parseAttentionMode(std::string_view name);

enum class LogitsWanted {
    None,
    LastToken, // the row that predicts the first generated token
    LastBlock, // the rows of the last block
    All,       // every position
};

// Where the attention of chosen layers goes, per block (for heatmaps): the mass each query token
// (or each query block, averaged over its tokens) puts on each block. Computed chunk by chunk,
// never holding the full attention matrix. Rows of a block that attends only to itself (the
// non-last blocks in block modes) are exactly one-hot on that block.
struct AttentionCaptureRequest {
    std::vector<std::int64_t> layers; // empty: no capture
    bool byBlock = false;             // rows are query blocks instead of tokens
};

struct AttentionMass {
    std::vector<std::int64_t> layers;
    std::int64_t heads = 0, rows = 0, blocks = 0;
    bool byBlock = false;
    std::vector<float> values; // [layers, heads, rows, blocks]
    float at(std::size_t layer, std::int64_t head, std::int64_t row, std::int64_t block) const
    {
        return values[static_cast<std::size_t>(((static_cast<std::int64_t>(layer) * heads + head) * rows + row) * blocks + block)];
    }
};

struct RunRequest {
    std::vector<std::int32_t> ids;
    std::vector<std::int64_t> blocks; // start of each block, ascending, first 0; empty: one block
    AttentionMode mode = AttentionMode::Full;
    Repair repair;                     // block-cached only (repair.hpp); none by default
    LogitsWanted logits = LogitsWanted::All;
    std::int64_t maxNewTokens = 0;     // generation after the prefill
    double temperature = 0;            // 0: greedy; > 0: sample from softmax(logits / temperature)
    std::uint64_t seed = 0;            // of the sampler
    std::optional<std::int32_t> stopToken;
    std::string tokenizerHash;         // part of the block cache key
    AttentionCaptureRequest attention; // prefill rows only
    // Called on the running thread with each generated token as soon as it is known (the first
    // one right after the prefill, at TTFT): lets a UI stream the text. May be empty.
    std::function<void(std::int32_t token)> onToken;
    // Keep the final-norm hidden states of every prompt position (RunResult::hidden): features
    // for the learned segmenter.
    bool wantHidden = false;
};

struct RunStats {
    double ttftMs = 0;        // start of the run to the first generated token known (prefill + argmax)
    double prefillMs = 0;     // the prefill alone (K/V of every block + the last block's forward)
    double assembleMs = 0;    // block-cached: finding/encoding the blocks and placing their K/V
    double decodeMs = 0;      // generation after the first token
    FlopCount prefillFlops;   // work done in this run's prefill (cache hits cost none)
    FlopCount savedFlops;     // work the cached blocks would have cost to compute again
    FlopCount fullFlops;      // what a `full` prefill of the same sequence costs, for comparison
    FlopCount repairFlops;    // of prefillFlops, the work done only because of the repair (recompute,
                              // the sink tokens encoded with each missed block)
    std::uint64_t kvBytes = 0; // K/V held for the sequence (prompt + generated)
    std::int64_t tokens = 0;
    std::int64_t blocks = 0;
    std::int64_t cacheHits = 0;
    std::int64_t cacheMisses = 0;
    std::int64_t blocksInPlace = 0; // block-cached on CUDA: cached blocks the kept KV buffer already held at their
                                    // slots (placed there by the run before, nothing written since): not copied again
    std::int64_t generatedTokens = 0;
};

struct Logits {
    std::int64_t firstRow = 0; // sequence index of values' first row
    std::int64_t rows = 0;
    std::int64_t vocab = 0;
    std::vector<float> values; // [rows, vocab]
    const float* row(std::int64_t sequenceIndex) const { return values.data() + (sequenceIndex - firstRow) * vocab; }
};

struct HiddenStates {
    std::int64_t rows = 0, width = 0;
    std::vector<float> values; // [rows, width], float32, after the final RMSNorm
};

struct RunResult {
    Logits logits;
    HiddenStates hidden;       // when RunRequest::wantHidden
    AttentionMass attention;
    std::vector<std::int32_t> generated;
    std::vector<std::int64_t> recomputed; // repairs: the slots computed again at query time, ascending
    RunStats stats;
};

// Validates `blocks` against `tokens` (Error naming the bad entry); returns them with a leading 0
// added when missing.
std::vector<std::int64_t> normalizeBlocks(std::vector<std::int64_t> blocks, std::int64_t tokens);

class Runner {
public:
    // `cache` is used by block-cached runs; when null the runner keeps a private one.
    explicit Runner(Model model, BlockKvCache* cache = nullptr);
    ~Runner();
    Runner(Runner&&) noexcept;
    Runner& operator=(Runner&&) noexcept;

    // Throws Error for ids outside the vocabulary, bad blocks, or a stop requested via progress.
    RunResult run(const RunRequest& request, const Progress& progress = {}) const;

    const Model& model() const;
    BlockKvCache& cache() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace blocklens::engine
