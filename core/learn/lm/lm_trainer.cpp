// Training of the demo language model (libtorch; ARCHITECTURE.md: torch stays behind plain headers).
// The network is the engine's forward pass (torch/trainable_lm.hpp), differentiable.
#include "learn/lm/lm_trainer.hpp"

#include "learn/lm/torch/trainable_lm.hpp"
#include "learn/lm/torch/training_loop.hpp"
#include "util/error.hpp"

#include <c10/core/GradMode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <random>

namespace blocklens::lm {
namespace {

using detail::secondsSince;
using detail::TrainableLm;
using Clock = detail::TrainingClock;

// The network is the engine's (TrainableLm); every window under ordinary causal attention.
struct Forward {
    const TrainableLm& model;
    at::ScalarType dtype;
    at::Tensor operator()(const at::Tensor& ids) const // [B, T] -> [B, T, V]
    {
        return model.logits(ids, std::vector<WindowBlocks>(static_cast<std::size_t>(ids.size(0))), dtype);
    }
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

} // namespace

LmTrainResult trainLm(const std::vector<std::uint16_t>& train, const std::vector<std::uint16_t>& valid,
                      const LmTrainOptions& o, const std::filesystem::path& outDir,
                      const std::optional<std::filesystem::path>& tokenizerJson,
                      const std::function<void(const LmLogEntry&)>& onLog, const Progress& progress)
{
    const engine::ModelConfig& c = o.config;
    detail::checkTrainableConfig(c);
    if (!c.tieWordEmbeddings)
        throw Error("the language-model trainer builds models with the LM head tied to the embedding");
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
    const at::Device device = detail::trainingDevice(o.device);
    if (o.threads > 0)
        at::set_num_threads(o.threads);
    if (o.bf16 && !device.is_cuda())
        throw Error("bf16 training is for CUDA; use float32 on the CPU");

    LmTrainResult result;
    result.torchVersion = TORCH_VERSION;
    result.deviceName = device.str();
    const TrainableLm model = TrainableLm::initialize(c, o.initStd, o.seed, device);
    result.parameters = model.parameterCount();

    const std::vector<at::Tensor> all = model.parameters();
    torch::optim::AdamW optimizer = detail::adamW(all, o.learningRate, o.beta1, o.beta2, o.weightDecay);

    const Forward trainForward{model, o.bf16 ? at::kBFloat16 : at::kFloat};
    const Forward evalForward{model, at::kFloat};
    std::mt19937_64 rng(o.seed);
    std::uniform_int_distribution<std::int64_t> start(0, static_cast<std::int64_t>(train.size()) - T - 1);
    std::int64_t total = o.steps;
    const std::int64_t warmup = std::min(o.warmup, total);

    at::Tensor window = at::empty({o.batch, T + 1}, at::TensorOptions().dtype(at::kLong));
    const auto t0 = Clock::now();
    detail::LossSinceLog lossSinceLog;
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
        const double lr = detail::warmupCosineLr(step, warmup, total, o.learningRate, o.minLrRatio);
        detail::beginStep(optimizer, lr);
        const at::Tensor loss = lossOf(trainForward, window.to(device, /*non_blocking=*/true));
        lossSinceLog.add(detail::finishStep(optimizer, loss, all, o.gradClip));
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
            e.trainLoss = lossSinceLog.take();
            if (evalNow)
                e.validLoss = evalLoss(o.bf16 ? trainForward : evalForward, valid, T, o.evalTokens, device,
                                       std::max<std::int64_t>(1, o.batch), nullptr);
            e.seconds = secondsSince(t0);
            result.finalTrainLoss = e.trainLoss;
            detail::appendLog(result.log, e, onLog);
        }
        progress(step, total, "steps");
    }
    result.seconds = secondsSince(t0);
    if (!valid.empty())
        result.validLoss = evalLoss(evalForward, valid, T, o.evalTokens, device, std::max<std::int64_t>(1, o.batch),
                                    &result.validTokens);
    model.write(outDir, tokenizerJson);
    return result;
}

std::vector<float> trainerLogits(const std::filesystem::path& dir, const std::vector<std::int32_t>& ids)
{
    c10::NoGradGuard noGrad;
    const TrainableLm model = TrainableLm::load(dir, at::Device(at::kCPU));
    const auto n = static_cast<std::int64_t>(ids.size());
    at::Tensor in = at::empty({1, n}, at::TensorOptions().dtype(at::kLong));
    for (std::int64_t i = 0; i < n; ++i)
        in[0][i] = ids[static_cast<std::size_t>(i)];
    const at::Tensor logits = Forward{model, at::kFloat}(in).contiguous(); // [1, n, V]
    return std::vector<float>(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
}

double trainerLoss(const std::filesystem::path& dir, const std::vector<std::uint16_t>& tokens, std::int64_t seqLen,
                   std::int64_t maxTokens, const std::string& deviceName, std::int64_t* predicted)
{
    const at::Device device = detail::trainingDevice(deviceName);
    const TrainableLm model = TrainableLm::load(dir, device);
    return evalLoss(Forward{model, at::kFloat}, tokens, seqLen, maxTokens, device, 8, predicted);
}

} // namespace blocklens::lm
