#pragma once
// Value types that travel between the UI thread and the inference worker (InferenceWorker).
// Everything here is copyable and torch-free; results carry the engine's own structs so the
// numbers shown are exactly the engine's.
#include "document/document.hpp"
#include "engine/memory.hpp"
#include "engine/metrics.hpp"
#include "engine/repairs.hpp"
#include "engine/runner.hpp"
#include "tokenizer/tokenizer.hpp"

#include <QMetaType>
#include <QString>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace blocklens::ui {

// ---- Loading a model ---------------------------------------------------------------------------

struct LoadJob {
    QString directory;        // a Hugging Face model directory (config.json, safetensors, tokenizer.json)
    // Or a model server (issue 22): `blocklens-cli serve`, or any OpenAI-compatible server (then
    // only full attention runs there). Set: directory, device, dtype and maxTokens are not used.
    QString server;           // "http://host:port"
    QString token;            // the server's bearer token; empty: none
    QString device = QStringLiteral("cpu"); // "cpu", "cuda", "cuda:N"
    QString dtype;            // "f32", "bf16", "f16"; empty: the engine's default for the device
    qint64 maxTokens = 8192;  // longest sequence planned (memory check before loading)
};

// What is loaded, for the model panel and for run records.
struct ModelInfo {
    QString server;           // the server's address when the model runs there (issue 22); empty: in this app
    bool blockAttention = true; // false: an OpenAI-compatible server that is not BlockLens (full attention only)
    QString directory;
    QString name;             // the directory's name
    QString architecture;     // "llama", "qwen3", ...
    QString device;           // as the engine reports it ("cpu", "cuda:0")
    QString dtype;            // compute dtype
    QString fingerprint;      // hex SHA-256 naming the checkpoint (block cache key)
    QString tokenizerHash;    // empty when the directory has no tokenizer.json
    QString tokenizerDescription;
    // A tokenizer.json on this machine in which blocks are measured (the model's own tokens):
    // the model directory's, or a server's fetched into the app's cache (issue 22); empty: none.
    QString tokenizerFile;
    engine::ModelConfig config;
    engine::MemoryEstimate memory;
    qint64 parameters = 0;
    double loadMs = 0;
};

// ---- Side by side: full vs block attention ----------------------------------------------------

// The document's blocks (cuts in code points, e.g. the workbench's current boundaries) plus a
// query. The worker tokenizes with the model's tokenizer.json, maps the cuts to token block starts
// (segment::tokenBlockStarts) and appends the query as the last, global block.
struct CompareJob {
    std::shared_ptr<const Document> document;
    std::vector<std::size_t> cuts; // code points, ascending
    QString query;                 // appended as the last block; empty: the document's last block is the query
    qint64 maxNewTokens = 16;      // greedy continuation under each mode
    bool coldCache = false;        // empty the block KV cache before the block-attention run
    QString segmenter = QStringLiteral("workbench"); // how the cuts were made (recorded with the runs)
    // The right column's attention: block-cached or one of its repairs (engine/repairs.hpp).
    engine::AttentionVariant variant{engine::AttentionMode::BlockCached, {}};
    // A second model directory whose block attention (the same variant) runs beside, measured
    // against this model's full attention (issue 19); empty: none. It must share the tokenizer.
    QString otherModel;
};

// Which column a streamed token or a run belongs to (OtherBlock: the second model's, issue 19).
enum class CompareColumn { Full = 0, Block = 1, OtherBlock = 2 };

// The second model's column of a comparison (CompareJob::otherModel).
struct OtherModelRun {
    QString name, directory;           // the model directory's name and absolute path
    engine::RunResult block;           // its block attention (the job's variant), on its own block cache
    engine::ModeComparison comparison; // the loaded model's FULL attention (reference) vs this run
    QString text;                      // the decoded continuation
    std::vector<QString> pieces;       // each generated token's share of `text` (as CompareReport's)
};

// The input as the engine saw it, sent as soon as it is tokenized.
struct CompareInput {
    std::vector<std::int32_t> ids;
    std::vector<std::int64_t> blocks; // token starts, first 0; the last is the query block
    std::vector<TokenSpan> spans;     // code-point span of each document token (query tokens: none)
    qint64 queryTokens = 0;
    // Non-empty past the model's trained context (prompt + generated tokens): what the numbers
    // will mean, shown as the run starts (CompareReport::contextWarning says it again at the end).
    QString contextWarning;
};

struct CompareReport {
    CompareInput input;
    engine::RunResult full;          // mode full (logits: the query block's rows)
    engine::RunResult block;         // mode block-cached (or its repair), with the cache as it was (hits/misses as run)
    QString blockVariant;            // what the block column ran ("block-cached+recompute-first:16")
    engine::RunStats blockWarm;      // block-cached again with every block cached (TTFT as the paper measures it)
    engine::ModeComparison comparison; // full (reference) vs block-cached on the query block
    QString fullText, blockText;     // the decoded continuations
    // Each generated token's share of the decoded text (concatenated they give fullText /
    // blockText; a token that completes a multi-byte character carries it), for highlighting.
    std::vector<QString> fullPieces, blockPieces;
    std::vector<QString> queryTokenText; // the query block's tokens, decoded one by one (sparkline labels)
    engine::BlockKvCacheStats cache; // the shared cache after the runs
    bool recorded = false;           // written to the workspace store as two runs
    QString recordError;             // why recording failed (the comparison itself succeeded)
    QString timing;                  // how the TTFTs were measured (engine::describeTiming)
    QString contextWarning;          // non-empty past the model's trained context: what the numbers then mean
    // Non-empty when the block column did not run, and why (a server that speaks only the OpenAI
    // API: its full-attention column is the continuation and the TTFT measured from the stream).
    QString blockUnavailable;
    std::optional<OtherModelRun> other; // when the job named a second model
};

// ---- Repair chart: a sweep of block-cached's repairs (issue 18) -------------------------------

// The document on screen (as CompareJob: cuts, query) run under full attention once and under each
// setting of engine::repairSweepFamily() by engine::runRepairSweep. No generated tokens: the chart
// shows the query block's KL.
struct SweepJob {
    std::shared_ptr<const Document> document;
    std::vector<std::size_t> cuts; // code points, ascending
    QString query;
};

// One setting of the sweep, as the chart plots it.
struct SweepPoint {
    engine::AttentionVariant variant;
    QString name;    // engine::variantName ("block-cached+recompute-first:16")
    QString family;  // the repair's name without its setting ("recompute-first")
    QString skipped; // why the setting does not fit the input (then no numbers)
    double extraWarm = 0, extraCold = 0; // the repair's FLOPs / a full prefill (blocks cached; from an empty cache)
    double meanKl = 0, maxKl = 0, top1Agreement = 0; // against full attention on the query block
    double warmTtftMs = 0;
};

struct SweepReport {
    std::vector<SweepPoint> points; // in engine::repairSweepFamily()'s order
    qint64 tokens = 0, blocks = 0;
    std::shared_ptr<const Document> document; // what it ran on
};

// ---- Attention capture for heatmaps -----------------------------------------------------------

// A FULL-attention run that captures where attention goes, per block. Give either ids + blocks, or
// a document + cuts (+ optional query) and the worker tokenizes as for CompareJob.
struct AttentionJob {
    std::vector<std::int32_t> ids;
    std::vector<std::int64_t> blocks;  // token starts (first 0); with ids
    std::shared_ptr<const Document> document;
    std::vector<std::size_t> cuts;     // code points; with document
    QString query;                     // with document: appended as the last block
    std::vector<std::int64_t> layers;  // empty: every layer
    bool byBlock = false;              // rows are query blocks (mean over their tokens) instead of tokens
    // Token rows (the token view) only while they take at most this many bytes
    // (engine::estimateAttentionCapture on the real token count); past it one row per block, whose
    // size does not grow with the document.
    std::uint64_t tokenRowsBudget = 64ull << 20;
};

struct AttentionReport {
    std::vector<std::int32_t> ids;    // what ran
    std::vector<std::int64_t> blocks; // token starts the mass is computed for (first 0)
    std::vector<TokenSpan> spans;     // code-point span per token when a document was given (else empty)
    engine::AttentionMass mass;       // [layers, heads, rows, blocks]; rows = tokens or blocks (byBlock)
    double milliseconds = 0;          // the run, capture included
    QString contextWarning;           // non-empty past the model's trained context: what the heatmap then shows
};

} // namespace blocklens::ui

Q_DECLARE_METATYPE(blocklens::ui::ModelInfo)
Q_DECLARE_METATYPE(blocklens::ui::CompareInput)
Q_DECLARE_METATYPE(blocklens::ui::CompareReport)
Q_DECLARE_METATYPE(blocklens::ui::AttentionReport)
Q_DECLARE_METATYPE(blocklens::ui::SweepReport)
Q_DECLARE_METATYPE(blocklens::ui::CompareColumn)
