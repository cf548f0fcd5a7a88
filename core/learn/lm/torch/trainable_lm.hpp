#pragma once
// Internal to core/learn/lm (included only by its .cpp files that use libtorch, never by a public
// header): a language model whose parameters are leaf tensors that require grad, run through the
// engine's own forward pass (engine::detail::Transformer::forwardTrainable), so training and
// inference compute one network (issue 17: one trainer forward pass).
//
// Parameters are the engine's Weights (q/k/v and gate/up fused, the LM head the embedding when
// tied); the checkpoint is written with the Hugging Face names, split back.
#include "engine/model_config.hpp"
#include "engine/torch/transformer.hpp"
#include "learn/lm/window_blocks.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

namespace blocklens::lm::detail {

class TrainableLm {
public:
    // Random initialisation: normal(0, std), residual output projections scaled by 1/sqrt(2 layers)
    // (GPT-2), norms at one; float32 on `device`.
    static TrainableLm initialize(const engine::ModelConfig& config, double std, std::uint64_t seed, const at::Device& device);
    // A checkpoint (config.json + safetensors) in float32 on `device`; Error for a model the
    // trainer cannot write back (see checkTrainableConfig).
    static TrainableLm load(const std::filesystem::path& dir, const at::Device& device);

    const engine::ModelConfig& config() const { return net_.config(); }
    // The leaves, each once (a tied LM head is the embedding).
    std::vector<at::Tensor> parameters() const;
    std::int64_t parameterCount() const;

    // windows [B, T] int64 -> logits [B, T, vocab] float32. layouts: one per window (blocks
    // within it; a single block is full attention). The windows run side by side in one call,
    // each at positions 0..T-1; `dtype` other than float32 casts the weights (bf16 on CUDA).
    at::Tensor logits(const at::Tensor& windows, const std::vector<WindowBlocks>& layouts, at::ScalarType dtype = at::kFloat) const;

    // config.json (float32), model.safetensors and, when given, a copy of tokenizer.json. Each file
    // is written beside its place and renamed over it, so a reader (or a cancelled run) never
    // sees half a file.
    void write(const std::filesystem::path& dir, const std::optional<std::filesystem::path>& tokenizerJson) const;

private:
    explicit TrainableLm(engine::detail::Transformer net) : net_(std::move(net)) {}
    engine::detail::Transformer net_;
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
