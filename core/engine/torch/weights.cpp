#include "engine/torch/weights.hpp"
#include <c10/core/GradMode.h> // c10::NoGradGuard: the same in libtorch 1.13 and 2.x

#include "util/error.hpp"

namespace blocklens::engine::detail {
namespace {

std::string shapeString(at::IntArrayRef shape)
{
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

struct Loader {
    const CheckpointFiles& files;
    const at::Device& device;
    at::ScalarType dtype;
    const Progress& progress;
    std::int64_t done = 0, total = 0;

    at::Tensor operator()(const std::string& name, std::vector<std::int64_t> expected)
    {
        const auto located = files.at(name);
        const TensorInfo& t = *located.tensor;
        const DType stored = located.file->floatDType(t);
        if (t.shape != expected)
            throw Error("shape " + shapeString(t.shape) + " does not match config.json, which implies " + shapeString(expected),
                        {.file = located.file->path().string(), .item = name});
        const auto raw = located.file->bytes(t);
        // The bytes live in a read-only mapping: wrap them, then copy out in the compute dtype.
        const at::Tensor view = at::from_blob(const_cast<std::byte*>(raw.data()), t.shape,
                                              at::TensorOptions().dtype(scalarType(stored)));
        at::Tensor out = view.to(at::TensorOptions().dtype(dtype).device(device), /*non_blocking=*/false, /*copy=*/true);
        progress(++done, total, name);
        return out;
    }
    at::Tensor optional(const std::string& name, bool expectedPresent, std::vector<std::int64_t> shape)
    {
        if (!expectedPresent)
            return {};
        return (*this)(name, std::move(shape));
    }
};

} // namespace

Weights loadWeights(const CheckpointFiles& files, const ModelConfig& c, const at::Device& device, at::ScalarType dtype,
                    const Progress& progress)
{
    c10::NoGradGuard noGrad;
    Loader load{files, device, dtype, progress};
    load.total = 3 + c.numLayers * 9;
    const std::int64_t h = c.hiddenSize, q = c.qDim(), kv = c.kvDim(), inter = c.intermediateSize;
    Weights w;
    w.embed = load("model.embed_tokens.weight", {c.vocabSize, h});
    for (std::int64_t i = 0; i < c.numLayers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        LayerWeights l;
        l.inputNorm = load(p + "input_layernorm.weight", {h});
        l.wQkv = at::cat({load(p + "self_attn.q_proj.weight", {q, h}), load(p + "self_attn.k_proj.weight", {kv, h}),
                          load(p + "self_attn.v_proj.weight", {kv, h})});
        l.wo = load(p + "self_attn.o_proj.weight", {h, q});
        if (c.qkvBias)
            l.bQkv = at::cat({load(p + "self_attn.q_proj.bias", {q}), load(p + "self_attn.k_proj.bias", {kv}),
                              load(p + "self_attn.v_proj.bias", {kv})});
        l.bo = load.optional(p + "self_attn.o_proj.bias", c.oBias, {h});
        l.qNorm = load.optional(p + "self_attn.q_norm.weight", c.qkNorm, {c.headDim});
        l.kNorm = load.optional(p + "self_attn.k_norm.weight", c.qkNorm, {c.headDim});
        l.postNorm = load(p + "post_attention_layernorm.weight", {h});
        l.wGateUp = at::cat({load(p + "mlp.gate_proj.weight", {inter, h}), load(p + "mlp.up_proj.weight", {inter, h})});
        l.wDown = load(p + "mlp.down_proj.weight", {h, inter});
        if (c.mlpBias)
            l.bGateUp = at::cat({load(p + "mlp.gate_proj.bias", {inter}), load(p + "mlp.up_proj.bias", {inter})});
        l.bDown = load.optional(p + "mlp.down_proj.bias", c.mlpBias, {h});
        w.layers.push_back(std::move(l));
    }
    w.norm = load("model.norm.weight", {h});
    if (c.tieWordEmbeddings || c.numLabels > 0) {
        // A token-classification checkpoint has no LM head (its `score` head is read by
        // engine::TokenClassifier): the embedding stands in so that shapes stay valid.
        w.lmHead = w.embed;
    } else {
        if (!files.contains("lm_head.weight"))
            throw Error("missing tensor (config.json says tie_word_embeddings is false)",
                        {.file = files.directory().string(), .item = "lm_head.weight"});
        w.lmHead = load("lm_head.weight", {c.vocabSize, h});
    }
    return w;
}

ScoreHead loadScoreHead(const CheckpointFiles& files, const ModelConfig& c, const at::TensorOptions& options)
{
    c10::NoGradGuard noGrad;
    auto read = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
        const auto located = files.at(name);
        const TensorInfo& t = *located.tensor;
        if (t.shape != shape)
            throw Error("shape does not match config.json (expected " + shapeString(shape) + ": num_labels x hidden_size)",
                        {.file = located.file->path().string(), .item = name});
        const auto raw = located.file->bytes(t);
        const at::Tensor view = at::from_blob(const_cast<std::byte*>(raw.data()), t.shape,
                                              at::TensorOptions().dtype(scalarType(located.file->floatDType(t))));
        return view.to(options, /*non_blocking=*/false, /*copy=*/true);
    };
    ScoreHead head;
    head.weight = read("score.weight", {c.numLabels, c.hiddenSize});
    if (files.contains("score.bias"))
        head.bias = read("score.bias", {c.numLabels});
    return head;
}

} // namespace blocklens::engine::detail
