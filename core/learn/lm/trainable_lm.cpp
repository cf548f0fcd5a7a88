// The trainer's model through the engine's forward (see torch/trainable_lm.hpp).
#include "learn/lm/torch/trainable_lm.hpp"

#include "engine/safetensors.hpp"
#include "engine/torch/weights.hpp"
#include "util/error.hpp"

#include <c10/core/GradMode.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <fstream>

namespace blocklens::lm::detail {
namespace {

namespace fs = std::filesystem;
using engine::detail::BlockAttention;
using engine::detail::LayerWeights;
using engine::detail::ScoreHead;
using engine::detail::Weights;

std::string layerName(std::int64_t i, const char* rest) { return "model.layers." + std::to_string(i) + "." + rest; }

at::Tensor leaf(const at::Tensor& t) { return t.detach().clone().set_requires_grad(true); }

// Each window's blocks as attendBlockList entries over the B windows side by side (window w at
// offset w * T).
std::vector<BlockAttention> blockList(const std::vector<WindowBlocks>& layouts, std::int64_t T)
{
    std::vector<BlockAttention> list;
    for (std::size_t w = 0; w < layouts.size(); ++w) {
        const std::int64_t o = static_cast<std::int64_t>(w) * T;
        const auto& starts = layouts[w].starts;
        if (starts.empty() || starts.front() != 0 || starts.back() >= T)
            throw Error("window " + std::to_string(w) + ": blocks must start at 0 and lie inside the window of " + std::to_string(T));
        for (std::size_t b = 0; b < starts.size(); ++b) {
            const bool last = b + 1 == starts.size();
            BlockAttention a{o + starts[b], last ? o : o + starts[b]};
            if (layouts[w].sinkTokens > 0 && b > 0 && !last) {
                a.sinkStart = o;
                a.sinkLength = std::min(layouts[w].sinkTokens, starts[1]);
            }
            list.push_back(a);
        }
    }
    return list;
}

Weights castWeights(const Weights& w, at::ScalarType dtype)
{
    auto cast = [&](const at::Tensor& t) { return t.defined() ? t.to(dtype) : t; };
    Weights out;
    out.embed = cast(w.embed);
    out.norm = cast(w.norm);
    out.lmHead = w.lmHead.is_same(w.embed) ? out.embed : cast(w.lmHead);
    for (const auto& l : w.layers)
        out.layers.push_back({cast(l.inputNorm), cast(l.wQkv), cast(l.bQkv), cast(l.wo), cast(l.bo), cast(l.qNorm), cast(l.kNorm),
                              cast(l.postNorm), cast(l.wGateUp), cast(l.bGateUp), cast(l.wDown), cast(l.bDown)});
    return out;
}

// The trained tensors of a layer (the trainer's configs have no biases and no q/k norms).
std::array<at::Tensor*, 6> trainedTensors(LayerWeights& l) { return {&l.inputNorm, &l.wQkv, &l.wo, &l.postNorm, &l.wGateUp, &l.wDown}; }

// Draws `initialize` describes, float32 on the CPU, in the Hugging Face tensor order (as the
// trainers always drew them), then fused as the engine holds them.
std::pair<Weights, ScoreHead> randomWeights(const engine::ModelConfig& c, double std)
{
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    const double outStd = std / std::sqrt(2.0 * static_cast<double>(c.numLayers));
    Weights w;
    w.embed = at::randn({c.vocabSize, c.hiddenSize}, opts) * std;
    for (std::int64_t i = 0; i < c.numLayers; ++i) {
        LayerWeights l;
        l.inputNorm = at::ones({c.hiddenSize}, opts);
        const at::Tensor q = at::randn({c.qDim(), c.hiddenSize}, opts) * std;
        const at::Tensor k = at::randn({c.kvDim(), c.hiddenSize}, opts) * std;
        const at::Tensor v = at::randn({c.kvDim(), c.hiddenSize}, opts) * std;
        l.wQkv = at::cat({q, k, v});
        l.wo = at::randn({c.hiddenSize, c.qDim()}, opts) * outStd;
        l.postNorm = at::ones({c.hiddenSize}, opts);
        const at::Tensor gate = at::randn({c.intermediateSize, c.hiddenSize}, opts) * std;
        const at::Tensor up = at::randn({c.intermediateSize, c.hiddenSize}, opts) * std;
        l.wGateUp = at::cat({gate, up});
        l.wDown = at::randn({c.hiddenSize, c.intermediateSize}, opts) * outStd;
        w.layers.push_back(std::move(l));
    }
    w.norm = at::ones({c.hiddenSize}, opts);
    if (c.tieWordEmbeddings || c.numLabels > 0)
        w.lmHead = w.embed; // a classifier has no LM head (as engine::detail::loadWeights holds it)
    else
        w.lmHead = at::randn({c.vocabSize, c.hiddenSize}, opts) * std;
    ScoreHead head;
    if (c.numLabels > 0) {
        head.weight = at::randn({c.numLabels, c.hiddenSize}, opts) * std;
        head.bias = at::zeros({c.numLabels}, opts);
    }
    return {std::move(w), std::move(head)};
}


} // namespace

void replaceFileWhole(const fs::path& target, const std::function<void(const fs::path&)>& write)
{
    const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".partial");
    write(tmp);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec)
        throw Error("cannot replace: " + ec.message(), {.file = target.string()});
}

void checkTrainableConfig(const engine::ModelConfig& c)
{
    if (c.arch != engine::Architecture::Llama || c.qkvBias || c.oBias || c.mlpBias || c.qkNorm || c.rope.type != "default")
        throw Error("the language-model trainer trains llama models without biases and with default RoPE");
    if (c.numHeads % c.numKvHeads != 0 || c.headDim % 2 != 0)
        throw Error("heads must be a multiple of kv heads and head_dim even");
}

at::Device trainingDevice(const std::string& name)
{
    at::Device device(at::kCPU);
    try {
        device = at::Device(name);
    } catch (const std::exception&) {
        throw Error("unknown device '" + name + "' (cpu, cuda, cuda:N)");
    }
    if (device.is_cuda() && !torch::cuda::is_available())
        throw Error("CUDA was asked for but this libtorch build or machine has no CUDA device");
    return device;
}

TrainableLm TrainableLm::fromWeights(const engine::ModelConfig& c, Weights w, ScoreHead head, const at::Device& device)
{
    checkTrainableConfig(c);
    const bool tied = w.lmHead.is_same(w.embed);
    auto place = [&](at::Tensor& t) { t = leaf(t.to(device)); };
    place(w.embed);
    place(w.norm);
    for (auto& l : w.layers)
        for (at::Tensor* t : trainedTensors(l))
            place(*t);
    if (tied)
        w.lmHead = w.embed;
    else
        place(w.lmHead);
    if (c.numLabels > 0) {
        place(head.weight);
        if (!head.bias.defined()) // a checkpoint saved without it: trained from 0
            head.bias = at::zeros({c.numLabels});
        place(head.bias);
    }
    return TrainableLm(engine::detail::Transformer(c, std::move(w), device, at::kFloat), std::move(head));
}

TrainableLm TrainableLm::initialize(const engine::ModelConfig& c, double std, std::uint64_t seed, const at::Device& device)
{
    checkTrainableConfig(c);
    torch::manual_seed(seed);
    auto [w, head] = randomWeights(c, std);
    return fromWeights(c, std::move(w), std::move(head), device);
}

TrainableLm TrainableLm::initializeFrom(const fs::path& dir, const engine::ModelConfig& source, const engine::ModelConfig& c,
                                        double std, std::uint64_t seed, const at::Device& device)
{
    checkTrainableConfig(source);
    checkTrainableConfig(c);
    if (c.numLayers > source.numLayers || c.vocabSize < source.vocabSize || c.hiddenSize != source.hiddenSize
        || !(c.tieWordEmbeddings || c.numLabels > 0))
        throw Error("a model started from this checkpoint needs at most its layers, at least its vocabulary, its hidden "
                    "size and no LM head of its own (tied, or a classifier)",
                    {.file = (dir / "config.json").string()});
    torch::manual_seed(seed);
    auto [w, head] = randomWeights(c, std); // all drawn, as for a random start: the same stream after
    engine::ModelConfig kept = source; // the source's first c.numLayers layers
    kept.numLayers = c.numLayers;
    const auto files = engine::CheckpointFiles::open(dir);
    Weights from = engine::detail::loadWeights(files, kept, at::Device(at::kCPU), at::kFloat);
    const std::int64_t extra = c.vocabSize - source.vocabSize;
    if (extra > 0) {
        const at::Tensor rows = from.embed.mean(0, true).expand({extra, source.hiddenSize}) + at::randn({extra, source.hiddenSize}) * std;
        w.embed = at::cat({from.embed, rows}, 0);
    } else {
        w.embed = from.embed;
    }
    w.lmHead = w.embed; // tied, or no LM head (a classifier)
    w.layers = std::move(from.layers);
    w.norm = from.norm;
    if (c.numLabels > 0 && source.numLabels == c.numLabels)
        head = engine::detail::loadScoreHead(files, source, at::TensorOptions().dtype(at::kFloat));
    return fromWeights(c, std::move(w), std::move(head), device);
}

TrainableLm TrainableLm::load(const fs::path& dir, const at::Device& device)
{
    const auto c = engine::ModelConfig::fromFile(dir / "config.json");
    checkTrainableConfig(c);
    const auto files = engine::CheckpointFiles::open(dir);
    Weights w = engine::detail::loadWeights(files, c, device, at::kFloat);
    ScoreHead head;
    if (c.numLabels > 0)
        head = engine::detail::loadScoreHead(files, c, at::TensorOptions().dtype(at::kFloat).device(device));
    return fromWeights(c, std::move(w), std::move(head), device);
}

std::vector<at::Tensor> TrainableLm::parameters() const
{
    const Weights& w = net_.weights();
    std::vector<at::Tensor> p{w.embed};
    for (const auto& l : w.layers)
        for (const at::Tensor* t : {&l.inputNorm, &l.wQkv, &l.wo, &l.postNorm, &l.wGateUp, &l.wDown})
            p.push_back(*t);
    p.push_back(w.norm);
    if (!w.lmHead.is_same(w.embed))
        p.push_back(w.lmHead);
    if (head_.weight.defined()) {
        p.push_back(head_.weight);
        p.push_back(head_.bias);
    }
    return p;
}

std::int64_t TrainableLm::parameterCount() const
{
    std::int64_t n = 0;
    for (const auto& t : parameters())
        n += t.numel();
    return n;
}

at::Tensor TrainableLm::logits(const at::Tensor& windows, const std::vector<WindowBlocks>& layouts, at::ScalarType dtype) const
{
    const std::int64_t B = windows.size(0), T = windows.size(1);
    if (static_cast<std::int64_t>(layouts.size()) != B)
        throw Error("one block layout per window is needed");
    const at::Tensor ids = windows.reshape({B * T});                                   // [B T]
    const at::Tensor positions = at::arange(T, windows.options()).repeat({B});         // [B T]
    const auto blocks = blockList(layouts, T);
    // A classifier's head as engine::TokenClassifier applies it: in the compute dtype, then float32.
    auto outputs = [&](const engine::detail::Transformer& net, const ScoreHead& head) { // -> [B, T, V or labels]
        const at::Tensor hidden = net.forwardTrainable(ids, positions, blocks);         // [B T, hidden]
        const at::Tensor out = head.weight.defined() ? at::linear(hidden, head.weight, head.bias).to(at::kFloat) : net.logits(hidden);
        return out.view({B, T, -1});
    };
    if (dtype == net_.dtype())
        return outputs(net_, head_);
    const engine::detail::Transformer cast(net_.config(), castWeights(net_.weights(), dtype), net_.device(), dtype);
    const ScoreHead castHead = head_.weight.defined() ? ScoreHead{head_.weight.to(dtype), head_.bias.to(dtype)} : ScoreHead{};
    return outputs(cast, castHead);
}

void TrainableLm::write(const fs::path& dir, const std::optional<fs::path>& tokenizerJson) const
{
    const auto& c = net_.config();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error("cannot create directory: " + ec.message(), {.file = dir.string()});
    engine::ModelConfig stored = c;
    stored.dtype = engine::DType::F32;
    replaceFileWhole(dir / "config.json", [&](const fs::path& p) {
        std::ofstream cfg(p, std::ios::binary | std::ios::trunc);
        cfg << stored.toJson();
        if (!cfg)
            throw Error("cannot write", {.file = p.string()});
    });
    // Hugging Face names, in the order make-model writes them (engine::tensorLayout).
    const Weights& w = net_.weights();
    std::vector<std::pair<std::string, at::Tensor>> named{{"model.embed_tokens.weight", w.embed}};
    const std::int64_t q = c.qDim(), kv = c.kvDim(), inter = c.intermediateSize;
    for (std::int64_t i = 0; i < c.numLayers; ++i) {
        const LayerWeights& l = w.layers[static_cast<std::size_t>(i)];
        named.emplace_back(layerName(i, "input_layernorm.weight"), l.inputNorm);
        named.emplace_back(layerName(i, "self_attn.q_proj.weight"), l.wQkv.narrow(0, 0, q));
        named.emplace_back(layerName(i, "self_attn.k_proj.weight"), l.wQkv.narrow(0, q, kv));
        named.emplace_back(layerName(i, "self_attn.v_proj.weight"), l.wQkv.narrow(0, q + kv, kv));
        named.emplace_back(layerName(i, "self_attn.o_proj.weight"), l.wo);
        named.emplace_back(layerName(i, "post_attention_layernorm.weight"), l.postNorm);
        named.emplace_back(layerName(i, "mlp.gate_proj.weight"), l.wGateUp.narrow(0, 0, inter));
        named.emplace_back(layerName(i, "mlp.up_proj.weight"), l.wGateUp.narrow(0, inter, inter));
        named.emplace_back(layerName(i, "mlp.down_proj.weight"), l.wDown);
    }
    named.emplace_back("model.norm.weight", w.norm);
    if (c.numLabels > 0) { // a classifier: the score head instead of an LM head
        named.emplace_back("score.weight", head_.weight);
        named.emplace_back("score.bias", head_.bias);
    } else if (!c.tieWordEmbeddings) {
        named.emplace_back("lm_head.weight", w.lmHead);
    }
    std::vector<at::Tensor> host;
    host.reserve(named.size());
    std::vector<engine::TensorToWrite> tensors;
    for (const auto& [name, t] : named) {
        host.push_back(t.detach().to(at::kCPU, at::kFloat).contiguous());
        const at::Tensor& h = host.back();
        tensors.push_back({name, engine::DType::F32, h.sizes().vec(),
                           std::span<const std::byte>(static_cast<const std::byte*>(h.data_ptr()), static_cast<std::size_t>(h.numel()) * 4)});
    }
    replaceFileWhole(dir / "model.safetensors",
                        [&](const fs::path& p) { engine::writeSafetensors(p, tensors, {{"format", "pt"}}); });
    if (tokenizerJson && fs::absolute(*tokenizerJson) != fs::absolute(dir / "tokenizer.json")) {
        replaceFileWhole(dir / "tokenizer.json", [&](const fs::path& p) {
            fs::copy_file(*tokenizerJson, p, fs::copy_options::overwrite_existing, ec);
            if (ec)
                throw Error("cannot copy the tokenizer: " + ec.message(), {.file = tokenizerJson->string()});
        });
    }
}

} // namespace blocklens::lm::detail
