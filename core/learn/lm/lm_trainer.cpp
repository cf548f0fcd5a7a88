// The only file of core/learn/lm that includes libtorch (ARCHITECTURE.md: torch stays behind plain
// headers).
#include "learn/lm/lm_trainer.hpp"

#include "engine/safetensors.hpp"
#include "util/error.hpp"

#include <c10/core/GradMode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <fstream>
#include <cmath>
#include <map>
#include <random>

// at::scaled_dot_product_attention (flash / memory-efficient kernels) exists from PyTorch 2.0; the
// 1.13 build here uses the explicit softmax(QK^T)V below.
#if TORCH_VERSION_MAJOR >= 2
#define BLOCKLENS_LM_SDPA 1
#else
#define BLOCKLENS_LM_SDPA 0
#endif

namespace blocklens::lm {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Parameters by Hugging Face name; float32 master copies.
using Params = std::map<std::string, at::Tensor>;

std::string layerName(std::int64_t i, const char* rest) { return "model.layers." + std::to_string(i) + "." + rest; }

void checkConfig(const engine::ModelConfig& c)
{
    if (c.arch != engine::Architecture::Llama || !c.tieWordEmbeddings || c.qkvBias || c.oBias || c.mlpBias || c.qkNorm ||
        c.rope.type != "default")
        throw Error("the language-model trainer builds tied llama models without biases and with default RoPE");
    if (c.numHeads % c.numKvHeads != 0 || c.headDim % 2 != 0)
        throw Error("heads must be a multiple of kv heads and head_dim even");
}

Params initParams(const engine::ModelConfig& c, double std, std::uint64_t seed, const at::Device& device)
{
    torch::manual_seed(seed);
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    Params p;
    // Residual output projections scaled by 1/sqrt(2 layers) (GPT-2) so the stream does not grow with depth.
    const double outStd = std / std::sqrt(2.0 * static_cast<double>(c.numLayers));
    p["model.embed_tokens.weight"] = at::randn({c.vocabSize, c.hiddenSize}, opts) * std;
    for (std::int64_t i = 0; i < c.numLayers; ++i) {
        p[layerName(i, "input_layernorm.weight")] = at::ones({c.hiddenSize}, opts);
        p[layerName(i, "self_attn.q_proj.weight")] = at::randn({c.qDim(), c.hiddenSize}, opts) * std;
        p[layerName(i, "self_attn.k_proj.weight")] = at::randn({c.kvDim(), c.hiddenSize}, opts) * std;
        p[layerName(i, "self_attn.v_proj.weight")] = at::randn({c.kvDim(), c.hiddenSize}, opts) * std;
        p[layerName(i, "self_attn.o_proj.weight")] = at::randn({c.hiddenSize, c.qDim()}, opts) * outStd;
        p[layerName(i, "post_attention_layernorm.weight")] = at::ones({c.hiddenSize}, opts);
        p[layerName(i, "mlp.gate_proj.weight")] = at::randn({c.intermediateSize, c.hiddenSize}, opts) * std;
        p[layerName(i, "mlp.up_proj.weight")] = at::randn({c.intermediateSize, c.hiddenSize}, opts) * std;
        p[layerName(i, "mlp.down_proj.weight")] = at::randn({c.hiddenSize, c.intermediateSize}, opts) * outStd;
    }
    p["model.norm.weight"] = at::ones({c.hiddenSize}, opts);
    for (auto& [name, t] : p)
        t = t.to(device).set_requires_grad(true);
    return p;
}

Params loadParams(const std::filesystem::path& dir, const engine::ModelConfig& c)
{
    const auto files = engine::CheckpointFiles::open(dir);
    Params p = initParams(c, 0.0, 0, at::Device(at::kCPU));
    for (auto& [name, t] : p) {
        const auto located = files.at(name);
        const std::vector<float> v = located.file->toFloat(*located.tensor);
        if (static_cast<std::int64_t>(v.size()) != t.numel())
            throw Error("tensor has " + std::to_string(v.size()) + " values, the config needs " + std::to_string(t.numel()),
                        {.file = dir.string()});
        t = at::from_blob(const_cast<float*>(v.data()), t.sizes(), at::kFloat).clone();
    }
    return p;
}

// HF LlamaRMSNorm: normalise in float32, cast back, then scale.
at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w, double eps)
{
    const at::Tensor xf = x.to(at::kFloat);
    const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
    return w.to(x.scalar_type()) * normed.to(x.scalar_type());
}

at::Tensor rotateHalf(const at::Tensor& x)
{
    const std::int64_t half = x.size(-1) / 2;
    return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// The network. ids [B, T] int64 -> logits [B, T, vocab] float32.
class Forward {
public:
    Forward(const engine::ModelConfig& c, const Params& p, at::ScalarType dtype, std::int64_t maxLen, const at::Device& device)
        : c_(c), p_(p), dtype_(dtype)
    {
        // RoPE tables as HF computes them: angles in float32, cos/sin cast to the compute dtype.
        const at::Tensor invFreq =
            1.0 / at::pow(c.rope.theta, at::arange(0, c.headDim, 2, at::TensorOptions().dtype(at::kFloat)) /
                                            static_cast<double>(c.headDim)); // [d/2]
        const at::Tensor pos = at::arange(maxLen, at::TensorOptions().dtype(at::kFloat));
        const at::Tensor freqs = at::outer(pos, invFreq);                   // [maxLen, d/2]
        const at::Tensor emb = at::cat({freqs, freqs}, -1);                 // [maxLen, d]
        cos_ = emb.cos().to(dtype).to(device);
        sin_ = emb.sin().to(dtype).to(device);
    }

    at::Tensor weight(const std::string& name) const { return p_.at(name).to(dtype_); }

    at::Tensor operator()(const at::Tensor& ids) const
    {
        const std::int64_t B = ids.size(0), T = ids.size(1), H = c_.numHeads, K = c_.numKvHeads, d = c_.headDim;
        const at::Tensor embed = weight("model.embed_tokens.weight");       // [V, hidden]
        at::Tensor x = at::embedding(embed, ids);                            // [B, T, hidden]
        const at::Tensor cos = cos_.narrow(0, 0, T), sin = sin_.narrow(0, 0, T); // [T, d]
        for (std::int64_t i = 0; i < c_.numLayers; ++i) {
            const at::Tensor h = rmsNorm(x, p_.at(layerName(i, "input_layernorm.weight")), c_.rmsNormEps);
            at::Tensor q = at::linear(h, weight(layerName(i, "self_attn.q_proj.weight"))).view({B, T, H, d}).transpose(1, 2); // [B, H, T, d]
            at::Tensor k = at::linear(h, weight(layerName(i, "self_attn.k_proj.weight"))).view({B, T, K, d}).transpose(1, 2); // [B, K, T, d]
            at::Tensor v = at::linear(h, weight(layerName(i, "self_attn.v_proj.weight"))).view({B, T, K, d}).transpose(1, 2); // [B, K, T, d]
            q = q * cos + rotateHalf(q) * sin;
            k = k * cos + rotateHalf(k) * sin;
            if (K != H) { // HF repeat_kv: query head j uses kv head j / (H / K)
                k = k.repeat_interleave(H / K, 1);                            // [B, H, T, d]
                v = v.repeat_interleave(H / K, 1);
            }
            const at::Tensor attn = attention(q, k, v);                       // [B, H, T, d]
            const at::Tensor merged = attn.transpose(1, 2).reshape({B, T, H * d});
            x = x + at::linear(merged, weight(layerName(i, "self_attn.o_proj.weight")));
            const at::Tensor h2 = rmsNorm(x, p_.at(layerName(i, "post_attention_layernorm.weight")), c_.rmsNormEps);
            const at::Tensor gate = at::linear(h2, weight(layerName(i, "mlp.gate_proj.weight")));
            const at::Tensor up = at::linear(h2, weight(layerName(i, "mlp.up_proj.weight")));
            x = x + at::linear(at::silu(gate) * up, weight(layerName(i, "mlp.down_proj.weight")));
        }
        x = rmsNorm(x, p_.at("model.norm.weight"), c_.rmsNormEps);
        return at::linear(x, embed).to(at::kFloat);                          // [B, T, V]
    }

private:
    at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const
    {
        const double scale = 1.0 / std::sqrt(static_cast<double>(c_.headDim));
#if BLOCKLENS_LM_SDPA
        if (q.is_cuda())
            return at::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true, scale);
#endif
        const std::int64_t T = q.size(2);
        const at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).to(at::kFloat) * scale; // [B, H, T, T]
        const at::Tensor mask = at::ones({T, T}, scores.options().dtype(at::kBool)).triu(1);
        const at::Tensor probs = at::softmax(scores.masked_fill(mask, -INFINITY), -1).to(q.scalar_type());
        return at::matmul(probs, v);
    }

    const engine::ModelConfig& c_;
    const Params& p_;
    at::ScalarType dtype_;
    at::Tensor cos_, sin_;
};

at::Tensor lossOf(const Forward& f, const at::Tensor& window) // window [B, T + 1] int64
{
    const std::int64_t T = window.size(1) - 1;
    const at::Tensor logits = f(window.narrow(1, 0, T));          // [B, T, V]
    return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), window.narrow(1, 1, T).reshape({-1}));
}

// Mean loss over consecutive windows (stride T) of `tokens`, float32, no grad.
double evalLoss(const Forward& f, const std::vector<std::uint16_t>& tokens, std::int64_t T, std::int64_t maxTokens,
                const at::Device& device, std::int64_t batch, std::int64_t* predicted)
{
    c10::NoGradGuard noGrad;
    std::int64_t usable = static_cast<std::int64_t>(tokens.size());
    if (maxTokens > 0)
        usable = std::min(usable, maxTokens + 1);
    const std::int64_t windows = (usable - 1) / T;
    if (windows < 1)
        throw Error("validation stream of " + std::to_string(tokens.size()) + " tokens is shorter than one window of " +
                    std::to_string(T + 1));
    double sum = 0;
    for (std::int64_t w0 = 0; w0 < windows; w0 += batch) {
        const std::int64_t n = std::min(batch, windows - w0);
        at::Tensor win = at::empty({n, T + 1}, at::TensorOptions().dtype(at::kLong));
        auto acc = win.accessor<std::int64_t, 2>();
        for (std::int64_t b = 0; b < n; ++b)
            for (std::int64_t t = 0; t <= T; ++t)
                acc[b][t] = tokens[static_cast<std::size_t>((w0 + b) * T + t)];
        sum += lossOf(f, win.to(device)).item<double>() * static_cast<double>(n);
    }
    if (predicted)
        *predicted = windows * T;
    return sum / static_cast<double>(windows);
}

at::Device parseDevice(const std::string& name)
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

void writeCheckpoint(const std::filesystem::path& dir, const engine::ModelConfig& c, const Params& p,
                     const std::optional<std::filesystem::path>& tokenizerJson)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error("cannot create directory: " + ec.message(), {.file = dir.string()});
    engine::ModelConfig stored = c;
    stored.dtype = engine::DType::F32;
    {
        std::ofstream cfg(dir / "config.json", std::ios::binary | std::ios::trunc);
        cfg << stored.toJson();
        if (!cfg)
            throw Error("cannot write", {.file = (dir / "config.json").string()});
    }
    // In the order make-model writes them (engine::tensorLayout): embedding, layers, norm.
    std::vector<std::string> order{"model.embed_tokens.weight"};
    for (std::int64_t i = 0; i < c.numLayers; ++i)
        for (const char* n : {"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                              "self_attn.v_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                              "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"})
            order.push_back(layerName(i, n));
    order.push_back("model.norm.weight");
    std::vector<at::Tensor> host;
    std::vector<engine::TensorToWrite> tensors;
    for (const auto& name : order) {
        host.push_back(p.at(name).detach().to(at::kCPU, at::kFloat).contiguous());
        const at::Tensor& t = host.back();
        tensors.push_back({name, engine::DType::F32, t.sizes().vec(),
                           std::span<const std::byte>(static_cast<const std::byte*>(t.data_ptr()),
                                                      static_cast<std::size_t>(t.numel()) * 4)});
    }
    engine::writeSafetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
    if (tokenizerJson) {
        fs::copy_file(*tokenizerJson, dir / "tokenizer.json", fs::copy_options::overwrite_existing, ec);
        if (ec)
            throw Error("cannot copy the tokenizer: " + ec.message(), {.file = tokenizerJson->string()});
    }
}

} // namespace

LmTrainResult trainLm(const std::vector<std::uint16_t>& train, const std::vector<std::uint16_t>& valid,
                      const LmTrainOptions& o, const std::filesystem::path& outDir,
                      const std::optional<std::filesystem::path>& tokenizerJson,
                      const std::function<void(const LmLogEntry&)>& onLog, const Progress& progress)
{
    const engine::ModelConfig& c = o.config;
    checkConfig(c);
    const std::int64_t T = o.seqLen;
    if (T < 2 || o.batch < 1 || o.steps < 1)
        throw Error("sequence length must be at least 2, batch and steps at least 1");
    if (static_cast<std::int64_t>(train.size()) < T + 2)
        throw Error("the training stream has " + std::to_string(train.size()) + " tokens, fewer than one window of " +
                    std::to_string(T + 1));
    for (const auto* stream : {&train, &valid})
        for (const auto id : *stream)
            if (id >= c.vocabSize)
                throw Error("token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                            std::to_string(c.vocabSize));
    const at::Device device = parseDevice(o.device);
    if (o.threads > 0)
        at::set_num_threads(o.threads);
    if (o.bf16 && !device.is_cuda())
        throw Error("bf16 training is for CUDA; use float32 on the CPU");

    LmTrainResult result;
    result.torchVersion = TORCH_VERSION;
    result.deviceName = device.str();
    Params params = initParams(c, o.initStd, o.seed, device);
    for (const auto& [n, t] : params)
        result.parameters += t.numel();

    std::vector<at::Tensor> decay, noDecay;
    for (const auto& [n, t] : params)
        (t.dim() >= 2 ? decay : noDecay).push_back(t);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(o.learningRate).betas({o.beta1, o.beta2}).weight_decay(o.weightDecay)));
    groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                     torch::optim::AdamWOptions(o.learningRate).betas({o.beta1, o.beta2}).weight_decay(0.0)));
    torch::optim::AdamW optimizer(std::move(groups));
    std::vector<at::Tensor> all;
    for (const auto& [n, t] : params)
        all.push_back(t);

    const Forward trainForward(c, params, o.bf16 ? at::kBFloat16 : at::kFloat, T, device);
    const Forward evalForward(c, params, at::kFloat, T, device);
    std::mt19937_64 rng(o.seed);
    std::uniform_int_distribution<std::int64_t> start(0, static_cast<std::int64_t>(train.size()) - T - 1);
    std::int64_t total = o.steps;
    const std::int64_t warmup = std::min(o.warmup, total);
    auto lrAt = [&](std::int64_t step) { // step counts from 1
        if (step <= warmup)
            return o.learningRate * static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
        const double progressFrac = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
        const double cosine = 0.5 * (1.0 + std::cos(M_PI * progressFrac));
        return o.learningRate * (o.minLrRatio + (1.0 - o.minLrRatio) * cosine);
    };

    at::Tensor window = at::empty({o.batch, T + 1}, at::TensorOptions().dtype(at::kLong));
    const auto t0 = Clock::now();
    double lossSum = 0;
    std::int64_t lossCount = 0;
    Clock::time_point timedFrom{};
    std::int64_t timedStep = 0;
    for (std::int64_t step = 1; step <= total; ++step) {
        if (progress.stopRequested())
            break;
        auto acc = window.accessor<std::int64_t, 2>();
        for (std::int64_t b = 0; b < o.batch; ++b) {
            const std::int64_t s = start(rng);
            for (std::int64_t t = 0; t <= T; ++t)
                acc[b][t] = train[static_cast<std::size_t>(s + t)];
        }
        const double lr = lrAt(step);
        for (auto& g : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
        optimizer.zero_grad();
        const at::Tensor loss = lossOf(trainForward, window.to(device, /*non_blocking=*/true));
        loss.backward();
        torch::nn::utils::clip_grad_norm_(all, o.gradClip);
        optimizer.step();
        lossSum += loss.item<double>();
        ++lossCount;
        result.tokensSeen += o.batch * T;
        result.steps = step;

        // Time budget: measured over the steps after the first few (CUDA start-up excluded), once.
        if (o.timeBudgetS > 0 && step == 5)
            timedFrom = Clock::now(), timedStep = step;
        if (o.timeBudgetS > 0 && timedStep > 0 && step == std::max<std::int64_t>(warmup, timedStep + 20) && total == o.steps) {
            const double perStep = secondsSince(timedFrom) / static_cast<double>(step - timedStep);
            const double left = o.timeBudgetS - secondsSince(t0);
            total = std::min(o.steps, step + std::max<std::int64_t>(1, static_cast<std::int64_t>(left / perStep)));
        }

        const bool last = step == total;
        const bool logNow = step % std::max<std::int64_t>(1, o.logEvery) == 0 || last;
        const bool evalNow = !valid.empty() && ((o.evalEvery > 0 && step % o.evalEvery == 0) || last);
        if (logNow || evalNow) {
            LmLogEntry e;
            e.step = step;
            e.learningRate = lr;
            e.trainLoss = lossSum / static_cast<double>(std::max<std::int64_t>(1, lossCount));
            if (evalNow)
                e.validLoss = evalLoss(o.bf16 ? trainForward : evalForward, valid, T, o.evalTokens, device,
                                       std::max<std::int64_t>(1, o.batch), nullptr);
            e.seconds = secondsSince(t0);
            result.finalTrainLoss = e.trainLoss;
            lossSum = 0;
            lossCount = 0;
            result.log.push_back(e);
            if (onLog)
                onLog(e);
        }
        progress(step, total, "steps");
    }
    result.seconds = secondsSince(t0);
    if (!valid.empty())
        result.validLoss = evalLoss(evalForward, valid, T, o.evalTokens, device, std::max<std::int64_t>(1, o.batch),
                                    &result.validTokens);
    writeCheckpoint(outDir, c, params, tokenizerJson);
    return result;
}

std::vector<float> trainerLogits(const std::filesystem::path& dir, const std::vector<std::int32_t>& ids)
{
    c10::NoGradGuard noGrad;
    const auto c = engine::ModelConfig::fromFile(dir / "config.json");
    checkConfig(c);
    const Params p = loadParams(dir, c);
    const auto n = static_cast<std::int64_t>(ids.size());
    const Forward f(c, p, at::kFloat, n, at::Device(at::kCPU));
    at::Tensor in = at::empty({1, n}, at::TensorOptions().dtype(at::kLong));
    for (std::int64_t i = 0; i < n; ++i)
        in[0][i] = ids[static_cast<std::size_t>(i)];
    const at::Tensor logits = f(in).contiguous();  // [1, n, V]
    return std::vector<float>(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
}

double trainerLoss(const std::filesystem::path& dir, const std::vector<std::uint16_t>& tokens, std::int64_t seqLen,
                   std::int64_t maxTokens, const std::string& deviceName, std::int64_t* predicted)
{
    const auto c = engine::ModelConfig::fromFile(dir / "config.json");
    checkConfig(c);
    const at::Device device = parseDevice(deviceName);
    Params p = loadParams(dir, c);
    for (auto& [n, t] : p)
        t = t.to(device);
    const Forward f(c, p, at::kFloat, seqLen, device);
    return evalLoss(f, tokens, seqLen, maxTokens, device, 8, predicted);
}

} // namespace blocklens::lm
