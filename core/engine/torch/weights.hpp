#pragma once
// The parameters of a decoder-only transformer as tensors on the compute device, loaded from a
// checkpoint's safetensors (names as Hugging Face's *ForCausalLM modules write them).
#include "engine/model_config.hpp"
#include "engine/safetensors.hpp"
#include "engine/torch/common.hpp"
#include "util/progress.hpp"

#include <vector>

namespace blocklens::engine::detail {

struct LayerWeights {
    // q/k/v and gate/up are stored concatenated: one matrix product each instead of three and two.
    at::Tensor inputNorm;          // [hidden]
    at::Tensor wQkv, bQkv;         // [q_dim + 2 kv_dim, hidden], [q_dim + 2 kv_dim] (bQkv undefined without bias)
    at::Tensor wo, bo;             // [hidden, q_dim], [hidden]
    at::Tensor qNorm, kNorm;       // [head_dim] (qwen3 only)
    at::Tensor postNorm;           // [hidden]
    at::Tensor wGateUp, bGateUp;   // [2 intermediate, hidden], [2 intermediate]: gate rows, then up rows
    at::Tensor wDown, bDown;       // [hidden, intermediate], [hidden]
};

struct Weights {
    at::Tensor embed;              // [vocab, hidden]
    std::vector<LayerWeights> layers;
    at::Tensor norm;               // [hidden]
    at::Tensor lmHead;             // [vocab, hidden] (the embedding itself when tied)
};

// Checks every tensor's presence, float dtype and shape against the config (Error naming the
// file and tensor), converts to `dtype` and moves to `device`.
Weights loadWeights(const CheckpointFiles& files, const ModelConfig& config, const at::Device& device,
                    at::ScalarType dtype, const Progress& progress = {});

// The head of a token-classification checkpoint (config.numLabels > 0, transformers'
// *ForTokenClassification): logits = hidden score.weight^T + score.bias.
struct ScoreHead {
    at::Tensor weight; // [labels, hidden]
    at::Tensor bias;   // [labels], undefined when the checkpoint has none
};

// Reads score.weight and (when saved) score.bias, shape-checked against the config (Error naming
// the file and tensor), in `options`' dtype and device.
ScoreHead loadScoreHead(const CheckpointFiles& files, const ModelConfig& config, const at::TensorOptions& options);

} // namespace blocklens::engine::detail
