#pragma once
// Training of a small Llama-architecture language model with libtorch (the bundled demo model,
// issue 8 part 1). No torch types here. The network is the engine's own forward pass
// (engine::detail::Transformer::forwardTrainable, through learn/lm/torch/trainable_lm.hpp), so
// training and inference compute one network: what Hugging Face's LlamaForCausalLM computes:
// token embedding, per layer RMSNorm -> attention with RoPE (rotate_half form) and grouped-query
// heads -> residual, RMSNorm -> SwiGLU MLP -> residual; final RMSNorm; LM head tied to the
// embedding. The checkpoint is written with the Hugging Face tensor names (config.json +
// model.safetensors in float32 + tokenizer.json).
//
// Training: next-token cross-entropy on random windows of seqLen + 1 tokens drawn from the token
// stream; AdamW (weight decay on matrices only), linear warm-up then cosine decay to
// minLrRatio x lr, gradient clipping. With bf16 (CUDA) the float32 master weights are cast to
// bfloat16 in the forward (norms, softmax and the loss in float32), as autocast would.
#include "engine/model_config.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::lm {

struct LmTrainOptions {
    engine::ModelConfig config;   // llama, tied embeddings; vocabSize must cover the token file
    std::int64_t seqLen = 512;
    std::int64_t batch = 16;
    std::int64_t steps = 1000;    // at most; see timeBudgetS
    std::int64_t warmup = 100;
    double timeBudgetS = 0;       // > 0: after the warm-up the step count is cut to what fits in this time
    double learningRate = 3e-3;
    double minLrRatio = 0.1;
    double weightDecay = 0.1;
    double beta1 = 0.9, beta2 = 0.95;
    double gradClip = 1.0;
    double initStd = 0.02;
    std::string device = "cpu";
    bool bf16 = false;            // bfloat16 compute (CUDA)
    std::uint64_t seed = 1;
    std::int64_t evalEvery = 0;   // steps between validation losses (0: only at the end)
    std::int64_t evalTokens = 0;  // validation tokens per evaluation (0: all)
    std::int64_t logEvery = 10;
    int threads = 0;              // CPU threads for libtorch (0: its default)
};

struct LmLogEntry {
    std::int64_t step = 0;
    double learningRate = 0, trainLoss = 0, seconds = 0;
    std::optional<double> validLoss;
};

struct LmTrainResult {
    std::vector<LmLogEntry> log;
    std::int64_t steps = 0;          // steps done
    std::int64_t tokensSeen = 0;
    double seconds = 0;              // training loop only
    double finalTrainLoss = 0;       // mean of the last logEvery steps
    std::optional<double> validLoss; // at the end, float32 forward, mean over predicted tokens
    std::int64_t validTokens = 0;    // tokens it was measured on
    std::int64_t parameters = 0;
    std::string torchVersion, deviceName;
};

// Trains and writes `outDir` (config.json, model.safetensors, tokenizer.json copied from
// `tokenizerJson` when given). `onLog` sees every log entry as it is made. Throws Error for a
// token id outside the vocabulary, a stream shorter than a window, a config that is not a tied
// llama, or CUDA asked for without it.
LmTrainResult trainLm(const std::vector<std::uint16_t>& train, const std::vector<std::uint16_t>& valid,
                      const LmTrainOptions& options, const std::filesystem::path& outDir,
                      const std::optional<std::filesystem::path>& tokenizerJson = {},
                      const std::function<void(const LmLogEntry&)>& onLog = {}, const Progress& progress = {});

// The training forward (the engine's Transformer without a KV cache, as trainLm runs it) over one sequence of a checkpoint written by trainLm (float32,
// CPU): logits [ids.size(), vocab] row-major. For checking the engine against the trainer.
std::vector<float> trainerLogits(const std::filesystem::path& checkpointDir, const std::vector<std::int32_t>& ids);

// Mean next-token cross-entropy (nats) of a checkpoint over windows of seqLen + 1 tokens of
// `tokens` (stride seqLen, the last partial window dropped), with the training code, float32.
double trainerLoss(const std::filesystem::path& checkpointDir, const std::vector<std::uint16_t>& tokens,
                   std::int64_t seqLen, std::int64_t maxTokens = 0, const std::string& device = "cpu",
                   std::int64_t* predicted = nullptr);

} // namespace blocklens::lm
