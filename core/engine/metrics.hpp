#pragma once
// How far two runs of the same input under different attention modes are apart, on the rows of
// the last block (the query): per-token KL divergence, top-1 agreement, perplexity of the last
// block's own tokens under each, and where their greedy continuations first differ.
#include "engine/runner.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace blocklens::engine {

struct ModeComparison {
    std::int64_t firstRow = 0;              // sequence index of the first compared row
    std::vector<double> kl;                 // KL(P_a || P_b) per compared row, nats
    double meanKl = 0, maxKl = 0;
    double top1Agreement = 0;               // fraction of rows whose argmax agrees
    std::optional<double> perplexityA;      // exp(mean NLL of ids[i+1] at rows i of the last block)
    std::optional<double> perplexityB;      // unset when the last block has a single token
    std::optional<std::int64_t> firstDivergentToken; // index into the generated tokens; unset if equal
    std::int64_t comparedGenerated = 0;
};

// Relative error ||a - b|| / ||b|| of two equally long vectors (b the reference).
double relativeError(std::span<const float> a, std::span<const float> b);

// log-softmax of a logits row, in double.
std::vector<double> logSoftmax(std::span<const float> row);
double klDivergence(std::span<const float> logitsA, std::span<const float> logitsB); // KL(softmax a || softmax b)

// Compares rows [from, a.firstRow + a.rows) present in both results (`from`: the last block's
// start); `ids` are the input tokens (for perplexity targets).
ModeComparison compareRuns(const RunResult& a, const RunResult& b, std::span<const std::int32_t> ids, std::int64_t from);

} // namespace blocklens::engine
