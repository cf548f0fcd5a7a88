#include "learn/lm/lm_eval.hpp"

#include "engine/runner.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace blocklens::lm {

double PerplexityResult::modelPerplexity() const { return std::exp(modelLoss); }
double PerplexityResult::unigramPerplexity() const { return std::exp(unigramLoss); }

PerplexityResult evaluatePerplexity(const engine::Model& model, const std::vector<std::uint16_t>& tokens,
                                    const std::vector<std::uint16_t>& trainTokens, std::int64_t context,
                                    std::int64_t maxTokens)
{
    const std::int64_t vocab = model.config().vocabSize;
    if (context < 2)
        throw Error("the evaluation context must be at least 2 tokens");
    std::int64_t usable = static_cast<std::int64_t>(tokens.size());
    if (maxTokens > 0)
        usable = std::min(usable, maxTokens + 1);
    const std::int64_t windows = (usable - 1) / context;
    if (windows < 1)
        throw Error("the evaluation stream of " + std::to_string(tokens.size()) + " tokens is shorter than one window of " +
                    std::to_string(context + 1));
    for (const auto* s : {&tokens, &trainTokens})
        for (const auto id : *s)
            if (id >= vocab)
                throw Error("token id " + std::to_string(id) + " is outside the model's vocabulary of " + std::to_string(vocab));

    // Unigram log-probabilities, add-one smoothing.
    std::vector<double> counts(static_cast<std::size_t>(vocab), 1.0);
    for (const auto id : trainTokens)
        counts[id] += 1.0;
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    std::vector<double> unigramLogP(counts.size());
    for (std::size_t i = 0; i < counts.size(); ++i)
        unigramLogP[i] = std::log(counts[i] / total);

    // Windows of context + 1 tokens with stride `context`: positions 0..context-1 predict 1..context
    // (the same windows the trainer's validation loss uses).
    engine::Runner runner(model);
    PerplexityResult r;
    double modelSum = 0, unigramSum = 0;
    for (std::int64_t w = 0; w < windows; ++w) {
        engine::RunRequest req;
        req.ids.resize(static_cast<std::size_t>(context));
        for (std::int64_t t = 0; t < context; ++t)
            req.ids[static_cast<std::size_t>(t)] = tokens[static_cast<std::size_t>(w * context + t)];
        req.mode = engine::AttentionMode::Full;
        req.logits = engine::LogitsWanted::All;
        const engine::RunResult out = runner.run(req);
        for (std::int64_t t = 0; t < context; ++t) {
            const float* row = out.logits.row(t);
            const auto target = tokens[static_cast<std::size_t>(w * context + t + 1)];
            const float mx = *std::max_element(row, row + vocab);
            double z = 0;
            for (std::int64_t v = 0; v < vocab; ++v)
                z += std::exp(static_cast<double>(row[v] - mx));
            modelSum += std::log(z) + mx - row[target];
            unigramSum -= unigramLogP[target];
        }
    }
    r.windows = windows;
    r.predicted = windows * context;
    r.modelLoss = modelSum / static_cast<double>(r.predicted);
    r.unigramLoss = unigramSum / static_cast<double>(r.predicted);
    return r;
}

InductionResult evaluateInduction(const engine::Model& model, std::int32_t bos, std::int32_t firstOrdinaryId,
                                  std::int64_t length, std::int64_t trials, std::uint64_t seed)
{
    const auto& c = model.config();
    if (length < 2 || trials < 1)
        throw Error("the induction test needs sequences of at least 2 tokens and at least one trial");
    if (firstOrdinaryId < 0 || firstOrdinaryId + length > c.vocabSize)
        throw Error("not enough ordinary tokens in the vocabulary for random sequences of " + std::to_string(length));
    InductionResult r;
    r.layers = c.numLayers;
    r.heads = c.numHeads;
    r.scores.assign(static_cast<std::size_t>(r.layers * r.heads), 0.0);
    engine::Runner runner(model);
    std::mt19937_64 rng(seed);
    std::vector<std::int32_t> pool(static_cast<std::size_t>(c.vocabSize - firstOrdinaryId));
    std::iota(pool.begin(), pool.end(), firstOrdinaryId);
    const std::int64_t n = 1 + 2 * length;
    for (std::int64_t trial = 0; trial < trials; ++trial) {
        // Distinct tokens, so "the first occurrence" of each token of the second copy is unique.
        std::shuffle(pool.begin(), pool.end(), rng);
        engine::RunRequest req;
        req.ids.push_back(bos);
        req.ids.insert(req.ids.end(), pool.begin(), pool.begin() + length);
        req.ids.insert(req.ids.end(), pool.begin(), pool.begin() + length);
        req.mode = engine::AttentionMode::Full;
        req.logits = engine::LogitsWanted::LastToken;
        // One block per token: the captured per-block mass is the full attention matrix.
        req.blocks.resize(static_cast<std::size_t>(n));
        std::iota(req.blocks.begin(), req.blocks.end(), 0);
        req.attention.layers.resize(static_cast<std::size_t>(c.numLayers));
        std::iota(req.attention.layers.begin(), req.attention.layers.end(), 0);
        const engine::RunResult out = runner.run(req);
        const auto& m = out.attention; // [layers, heads, rows n, blocks n]
        for (std::int64_t l = 0; l < r.layers; ++l)
            for (std::int64_t h = 0; h < r.heads; ++h) {
                double sum = 0;
                for (std::int64_t i = 0; i < length; ++i) // query: second copy's i-th token; key: after its first occurrence
                    sum += m.at(static_cast<std::size_t>(l), h, 1 + length + i, 2 + i);
                r.scores[static_cast<std::size_t>(l * r.heads + h)] += sum / static_cast<double>(length) / static_cast<double>(trials);
            }
    }
    double uniform = 0;
    for (std::int64_t i = 0; i < length; ++i)
        uniform += 1.0 / static_cast<double>(2 + length + i);
    r.uniformBaseline = uniform / static_cast<double>(length);
    const auto best = std::max_element(r.scores.begin(), r.scores.end());
    r.best = *best;
    const auto idx = static_cast<std::int64_t>(best - r.scores.begin());
    r.bestLayer = idx / r.heads;
    r.bestHead = idx % r.heads;
    return r;
}

} // namespace blocklens::lm
