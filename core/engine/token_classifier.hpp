#pragma once
// A token-classification checkpoint (transformers' *ForTokenClassification, e.g.
// Qwen3ForTokenClassification): the decoder of engine::Model, then a linear head
//   logits = score(hidden)      score.weight [labels, hidden], score.bias [labels] (when saved)
// on the final-norm hidden state of every position, computed in the compute dtype and returned as
// float32, as transformers does. Full causal attention, positions 0..n-1 (no padding, one sequence).
//
// The model's config.json must name a *ForTokenClassification architecture (ModelConfig::numLabels
// > 0); anything else is an Error saying so. Plain C++ header: the torch code lives in
// engine/torch/token_classifier.cpp.
#include "engine/model.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

namespace blocklens::engine {

struct TokenLogits {
    std::int64_t rows = 0, labels = 0;
    std::vector<float> values; // [rows, labels], float32
    const float* row(std::int64_t r) const { return values.data() + r * labels; }
};

class TokenClassifier {
public:
    // Throws Error (what Model::load throws; not a token-classification checkpoint; a score head
    // missing or of the wrong shape).
    static TokenClassifier load(const std::filesystem::path& directory, const LoadOptions& options = {},
                                const Progress& progress = {});

    const Model& model() const;
    std::int64_t labels() const;

    // Logits of every position of `ids` (Error for an id outside the vocabulary or an empty input).
    TokenLogits classify(std::span<const std::int32_t> ids) const;

    struct Head;

private:
    TokenClassifier(Model model, std::shared_ptr<const Head> head) : model_(std::move(model)), head_(std::move(head)) {}
    Model model_;
    std::shared_ptr<const Head> head_;
};

} // namespace blocklens::engine
