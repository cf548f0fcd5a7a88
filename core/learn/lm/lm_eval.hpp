#pragma once
// Evaluation of a language-model checkpoint through the project's engine (engine::Model +
// Runner), so the figures are those of the file that ships, as the app runs it:
//
//  - perplexity on a token stream, in consecutive windows of `context` tokens (the first token of
//    each window is only context), against a unigram model fitted on the training stream (add-one
//    smoothing over the vocabulary) evaluated on exactly the same predicted tokens;
//  - induction-head score per head: for `trials` random sequences R of `length` ordinary tokens
//    (ids >= firstOrdinaryId), the input [BOS] R R; for every token of the second copy, the
//    attention it pays to the token right after its first occurrence; the mean over tokens and
//    trials. A head that copies "what came after this token last time" scores near 1; uniform
//    attention scores about 1 / position.
#include "engine/model.hpp"

#include <cstdint>
#include <vector>

namespace blocklens::lm {

struct PerplexityResult {
    double modelLoss = 0;        // mean next-token cross-entropy, nats
    double unigramLoss = 0;      // the same tokens under the unigram model
    std::int64_t predicted = 0;  // tokens scored
    std::int64_t windows = 0;
    double modelPerplexity() const;
    double unigramPerplexity() const;
};

// Throws Error when the stream is shorter than one window or holds ids outside the vocabulary.
PerplexityResult evaluatePerplexity(const engine::Model& model, const std::vector<std::uint16_t>& tokens,
                                    const std::vector<std::uint16_t>& trainTokens, std::int64_t context,
                                    std::int64_t maxTokens = 0);

struct InductionResult {
    std::int64_t layers = 0, heads = 0;
    std::vector<double> scores;  // [layers * heads], mean attention to the token after the first occurrence
    std::int64_t bestLayer = 0, bestHead = 0;
    double best = 0;
    double uniformBaseline = 0;  // the same score for attention spread evenly over the visible tokens
};

InductionResult evaluateInduction(const engine::Model& model, std::int32_t bos, std::int32_t firstOrdinaryId,
                                  std::int64_t length = 50, std::int64_t trials = 8, std::uint64_t seed = 1);

} // namespace blocklens::lm
