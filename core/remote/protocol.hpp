#pragma once
// The wire format of `blocklens-cli serve` (issue 22): the engine's and the comparison's value
// types as JSON, and the requests the server accepts, parsed with the one-line errors the server
// answers with (HTTP 400). Plain C++ and nlohmann_json, no HTTP: the server (net/server.cpp) and
// the client (net/client.cpp) both marshal through here, so what one writes the other reads.
//
// Floats that must arrive bit for bit (logits, attention mass) travel as base64 of little-endian
// float32 ("values_b64"); everything else is plain JSON. Doubles (KL, TTFT) round-trip exactly
// through nlohmann's shortest-representation printing.
//
// The OpenAI-compatible part (/v1/completions) follows OpenAI's field names; the BlockLens
// extensions are documented in README.md ("blocklens-cli serve").
#include "engine/block_kv_cache.hpp"
#include "engine/metrics.hpp"
#include "engine/repair_sweep.hpp"
#include "engine/repairs.hpp"
#include "engine/runner.hpp"
#include "segment/segmenter.hpp"
#include "usecases/comparison.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::remote {

using Json = nlohmann::ordered_json;

// Bounds on one request, checked before any work is queued (server options set them).
struct RequestLimits {
    std::int64_t maxPromptTokens = 16384; // ids given or text encoded, query included
    std::int64_t maxNewTokens = 1024;     // max_tokens / max_new_tokens
    int maxRepeats = 16;                  // compare's timed runs per mode
    std::int64_t vocabSize = 0;           // ids must be below it (0: unchecked)
};

// ---- Values --------------------------------------------------------------------------------------

Json toJson(const engine::RunStats& stats);
engine::RunStats runStatsFromJson(const Json& j);
Json toJson(const engine::RunResult& result); // logits and attention mass as base64 float32
engine::RunResult runResultFromJson(const Json& j);
Json toJson(const engine::ModeComparison& comparison);
engine::ModeComparison modeComparisonFromJson(const Json& j);
Json toJson(const engine::AttentionMass& mass);
engine::AttentionMass attentionMassFromJson(const Json& j);
Json toJson(const engine::BlockKvCacheStats& stats);
engine::BlockKvCacheStats cacheStatsFromJson(const Json& j);
Json toJson(const usecases::ComparisonInput& input); // ids, block starts, code-point spans, query tokens
usecases::ComparisonInput comparisonInputFromJson(const Json& j);

// ---- What a request runs on ------------------------------------------------------------------

// Either token ids with their block starts, or a text the server encodes with the model's
// tokenizer and cuts (at the given code points, else with a segmenter), plus a query block.
struct PromptSpec {
    std::vector<std::int32_t> ids;
    std::vector<std::int64_t> blockStarts; // with ids; empty: one block
    std::optional<std::string> text;
    std::optional<std::vector<std::size_t>> cuts; // with text: code points where blocks start
    std::string segmenter;                        // with text and no cuts; empty: the default
    segment::Granularity granularity;             // with segmenter
    std::string query;                            // with text: appended as the last (global) block
};
// Fields "ids" + "block_starts", or "text" + ("cuts" | "segmenter" + "granularity") + "query".
Json toJson(const PromptSpec& prompt);
PromptSpec promptSpecFromJson(const Json& body, const RequestLimits& limits);

// POST /blocklens/v1/compare
struct CompareRequest {
    PromptSpec prompt;
    engine::AttentionVariant reference{engine::AttentionMode::Full, {}};
    engine::AttentionVariant compared{engine::AttentionMode::BlockCached, {}};
    std::int64_t maxNewTokens = 16;
    double temperature = 0;
    std::uint64_t seed = 0;
    int repeats = 1;
    bool coldCache = true;
    bool stream = false;
    // "sweep": the reference against each of these settings (engine/repair_sweep.hpp) instead of
    // against `compared`; the answer is then a SweepResult. In JSON `true` (every setting of
    // engine::repairSweepFamily()) or a list of variants.
    std::optional<std::vector<engine::AttentionVariant>> sweep;
};
Json toJson(const CompareRequest& request);
CompareRequest compareRequestFromJson(const Json& body, const RequestLimits& limits);
// The comparison's settings as core's use case takes them; the server adds what only it knows
// (the model's stop token and tokenizer hash).
usecases::ComparisonOptions comparisonOptions(const CompareRequest& request);

// Its answer (the last event of a stream, or the whole body).
struct ComparisonResult {
    usecases::ComparisonInput input;
    std::string segmenter; // how the blocks were chosen ("given", "cuts", "hybrid", ...)
    engine::AttentionVariant reference, compared;
    usecases::ComparisonReport report;
    std::string referenceText, comparedText; // the continuations decoded ("" without a tokenizer)
};
Json toJson(const ComparisonResult& result);
ComparisonResult comparisonResultFromJson(const Json& j);

// The answer to a compare request with "sweep": each setting's row as engine::runRepairSweep
// gives it (streamed as a "setting" event when it finishes), then the whole. Run results travel
// without their logits (the rows carry the comparison computed from them on the server).
struct SweepResult {
    usecases::ComparisonInput input;
    std::string segmenter;
    engine::AttentionVariant reference;
    engine::RunResult referenceResult;
    std::vector<engine::RepairSweepRow> rows; // in the order of the request's settings
};
Json toJson(const engine::RepairSweepRow& row);
engine::RepairSweepRow sweepRowFromJson(const Json& j);
Json toJson(const SweepResult& result);
SweepResult sweepResultFromJson(const Json& j);

// POST /blocklens/v1/run (logits) and /blocklens/v1/attention (block-mass capture, full attention).
struct RunSpec {
    PromptSpec prompt;
    engine::AttentionVariant variant{engine::AttentionMode::Full, {}};
    engine::LogitsWanted logits = engine::LogitsWanted::All;
    engine::AttentionCaptureRequest attention;
    // "attention_token_rows_budget": token rows only while they take at most this many bytes,
    // else one row per block (the heatmap's rule, ui AttentionJob::tokenRowsBudget); none: as asked.
    std::optional<std::uint64_t> tokenRowsBudget;
    int runs = 1; // runs sharing the block cache; the last is reported
};
Json toJson(const RunSpec& spec);
RunSpec runSpecFromJson(const Json& body, const RequestLimits& limits);

struct RunReply {
    usecases::ComparisonInput input; // what ran (blocks normalized; spans when a text was given)
    engine::RunResult result;
    double milliseconds = 0;         // the last run, on the server
    std::optional<std::string> contextWarning;
};
Json toJson(const RunReply& reply);
RunReply runReplyFromJson(const Json& j);

// POST /v1/completions (OpenAI), with the BlockLens extensions when the server has them.
struct CompletionRequest {
    std::vector<std::int32_t> ids;       // prompt as token ids ...
    std::optional<std::string> text;     // ... or as text
    std::vector<std::string> promptBlocks; // extension "prompt_blocks": texts encoded one by one, a block each
    std::vector<std::int64_t> blockStarts; // extension "block_starts" (token starts)
    engine::AttentionVariant variant{engine::AttentionMode::Full, {}}; // extension "attention"
    std::int64_t maxTokens = 16;
    double temperature = 1;              // OpenAI's default
    std::uint64_t seed = 0;
    bool stream = false;
};
Json toJson(const CompletionRequest& request);
// `extensions` false: the BlockLens fields are ignored, as a plain OpenAI server would.
CompletionRequest completionRequestFromJson(const Json& body, const RequestLimits& limits, bool extensions);

// GET /v1/models: the one model served, with BlockLens's description of it under "blocklens".
struct ModelDescription {
    std::string id;          // the model directory's name
    std::string fingerprint; // engine::Model::fingerprint (empty from a plain OpenAI server)
    std::string architecture, device, dtype, tokenizerHash;
    std::int64_t vocabSize = 0, layers = 0, maxPositions = 0;
    std::int64_t heads = 0; // attention heads per layer (what a heatmap's capture takes); 0: not said
    std::optional<std::int32_t> eosToken;
};
Json toJson(const ModelDescription& model);
ModelDescription modelDescriptionFromJson(const Json& entry); // one entry of /v1/models' "data"

// {"error": {"message", "type", "code"}} as OpenAI servers answer errors.
Json errorJson(const std::string& message, const std::string& type, int status);

} // namespace blocklens::remote
