#pragma once
// Internal to core/learn (included only by its .cpp files that use libtorch, never by a public
// header): a language model whose parameters are leaf tensors that require grad, run through the
// engine's own forward pass (engine::detail::Transformer::forwardTrainable), so training and
// inference compute one network (issue 17: one trainer forward pass). The demo LM and block
// training train causal LMs; the cut-marker trainer trains a token classifier (config.numLabels
// > 0: the decoder, then the `score` head engine::TokenClassifier reads, instead of an LM head).
//
// Parameters are the engine's Weights (q/k/v and gate/up fused, the LM head the embedding when
// tied) and, for a classifier, the score head; the checkpoint is written with the Hugging Face
// names, split back.
#include "engine/model_config.hpp"
#include "engine/torch/transformer.hpp"
#include "engine/torch/weights.hpp"
#include "learn/lm/window_blocks.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

namespace blocklens::lm::detail {

class TrainableLm {
public:
    // Random initialisation: normal(0, std), residual output projections scaled by 1/sqrt(2 layers)
    // (GPT-2), norms at one, a classifier's score head normal(0, std) with bias 0; drawn in the
    // Hugging Face tensor order after seeding with `seed`; float32 on `device`.
    static TrainableLm initialize(const engine::ModelConfig& config, double std, std::uint64_t seed, const at::Device& device);
    // `initialize` (the same draws), then from the checkpoint `dir` (config `source`, same
    // shapes but for fewer layers or a smaller vocabulary): the first config.numLayers layers, the
    // final norm, the embedding (rows past the source's vocabulary, e.g. added tokens, start at
    // its mean row plus normal(0, std) noise) and, when the source is a classifier with as many
    // labels, its score head. Float32 on `device`.
    static TrainableLm initializeFrom(const std::filesystem::path& dir, const engine::ModelConfig& source,
                                      const engine::ModelConfig& config, double std, std::uint64_t seed,
                                      const at::Device& device);
    // A checkpoint (config.json + safetensors) in float32 on `device`; Error for a model the
    // trainer cannot write back (see checkTrainableConfig).
    static TrainableLm load(const std::filesystem::path& dir, const at::Device& device);

    const engine::ModelConfig& config() const { return net_.config(); }
    // The leaves, each once (a tied LM head is the embedding).
    std::vector<at::Tensor> parameters() const;
    std::int64_t parameterCount() const;

    // windows [B, T] int64 -> logits [B, T, vocab] (a classifier: [B, T, labels]) float32.
    // layouts: one per window (blocks within it; a single block is full attention). The windows
    // run side by side in one call, each at positions 0..T-1; `dtype` other than float32 casts the
    // weights (bf16 on CUDA).
    at::Tensor logits(const at::Tensor& windows, const std::vector<WindowBlocks>& layouts, at::ScalarType dtype = at::kFloat) const;

    // The classifier's score head (undefined tensors for a causal LM), e.g. for calibrating its bias.
    const engine::detail::ScoreHead& scoreHead() const { return head_; }

    // config.json (float32), model.safetensors and, when given, a copy of tokenizer.json. Each file
    // is written beside its place and renamed over it, so a reader (or a cancelled run) never
    // sees half a file.
    void write(const std::filesystem::path& dir, const std::optional<std::filesystem::path>& tokenizerJson) const;

private:
    TrainableLm(engine::detail::Transformer net, engine::detail::ScoreHead head) : net_(std::move(net)), head_(std::move(head)) {}
    // Float32 weights on the CPU -> leaves on `device`.
    static TrainableLm fromWeights(const engine::ModelConfig& config, engine::detail::Weights weights,
                                   engine::detail::ScoreHead head, const at::Device& device);
    engine::detail::Transformer net_;
    engine::detail::ScoreHead head_;
};

// Throws Error unless the config is one the trainer writes back: llama, no biases, no qk-norm,
// default RoPE, heads a multiple of kv heads, even head_dim.
void checkTrainableConfig(const engine::ModelConfig& config);

// Writes `target` whole: `write` fills a hidden file beside it, which is then renamed over it, so a
// reader or a cancelled run never sees half a file (checkpoints, training state).
void replaceFileWhole(const std::filesystem::path& target, const std::function<void(const std::filesystem::path&)>& write);

// "cpu", "cuda", "cuda:N" (Error for an unknown name or CUDA without a device).
at::Device trainingDevice(const std::string& name);

} // namespace blocklens::lm::detail
