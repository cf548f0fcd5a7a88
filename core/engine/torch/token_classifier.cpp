// engine::TokenClassifier: Model's decoder (detail::Transformer::forward) plus the score head.
#include "engine/token_classifier.hpp"
#include <c10/core/GradMode.h> // c10::NoGradGuard: the same in libtorch 1.13 and 2.x

#include "engine/safetensors.hpp"
#include "engine/torch/model_impl.hpp"
#include "engine/torch/weights.hpp"
#include "util/error.hpp"

namespace blocklens::engine {

struct TokenClassifier::Head : detail::ScoreHead {};

TokenClassifier TokenClassifier::load(const std::filesystem::path& directory, const LoadOptions& options,
                                      const Progress& progress)
{
    // Refuse a causal LM before reading any weight.
    const ModelConfig config = ModelConfig::fromFile(directory / "config.json");
    if (config.numLabels <= 0)
        throw Error("not a token-classification checkpoint: config.json's architectures must name a "
                    "*ForTokenClassification model with a score head (this one is a causal LM)",
                    {.file = (directory / "config.json").string(), .item = "architectures"});
    Model model = Model::load(directory, options, progress);
    c10::NoGradGuard noGrad;
    const auto& tf = *model.impl().transformer;
    const CheckpointFiles files = CheckpointFiles::open(directory);
    auto head = std::make_shared<Head>(Head{detail::loadScoreHead(files, config, tf.options())});
    return TokenClassifier(std::move(model), std::move(head));
}

const Model& TokenClassifier::model() const { return model_; }
std::int64_t TokenClassifier::labels() const { return model_.config().numLabels; }

TokenLogits TokenClassifier::classify(std::span<const std::int32_t> ids) const
{
    if (ids.empty())
        throw Error("token classification of an empty input");
    const ModelConfig& c = model_.config();
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= c.vocabSize)
            throw Error("token id " + std::to_string(ids[i]) + " at position " + std::to_string(i)
                        + " is outside the model's vocabulary of " + std::to_string(c.vocabSize));
    c10::NoGradGuard noGrad;
    const auto& tf = *model_.impl().transformer;
    const auto n = static_cast<std::int64_t>(ids.size());
    const at::TensorOptions longs = at::TensorOptions().dtype(at::kLong).device(tf.device());
    const at::Tensor idTensor = at::from_blob(const_cast<std::int32_t*>(ids.data()), {n}, at::TensorOptions().dtype(at::kInt))
                                    .to(longs);                                // [n]
    detail::KvBuffer kv(c, n, tf.options());
    detail::ForwardArgs args;
    args.ids = idTensor;
    args.positions = at::arange(0, n, longs);                                   // [n]
    args.writeAt = 0;
    args.keyBegin = 0;
    const at::Tensor hidden = tf.forward(kv, args);                             // [n, hidden], compute dtype
    const at::Tensor logits = at::linear(hidden, head_->weight, head_->bias)   // [n, labels]
                                  .to(at::TensorOptions().dtype(at::kFloat).device(at::kCPU))
                                  .contiguous();
    // As the runner does: NaN or infinite scores are no result (broken weights or config values).
    if (!at::isfinite(logits).all().item<bool>())
        throw Error("the model's token-classification logits contain NaN or infinity: its weights or config.json values "
                    "are not usable",
                    {.file = model_.directory().string()});
    TokenLogits out;
    out.rows = n;
    out.labels = logits.size(1);
    out.values.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
    return out;
}

} // namespace blocklens::engine
