// Block fine-tuning and block distillation (see block_trainer.hpp). libtorch stays in this file
// and trainable_lm.cpp.
#include "learn/lm/block_trainer.hpp"

#include "learn/lm/torch/trainable_lm.hpp"
#include "learn/lm/torch/training_loop.hpp"
#include "util/error.hpp"

#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <random>
#include <sstream>

namespace blocklens::lm {
namespace {

namespace fs = std::filesystem;
using detail::secondsSince;
using detail::TrainableLm;
using Clock = detail::TrainingClock;

constexpr const char* kStateJson = "training_state.json";
constexpr const char* kStateOptimizer = "training_state.pt";

// inputs [B, T] and next-token targets [B, T] of some windows (all of one length).
std::pair<at::Tensor, at::Tensor> batchTensors(const std::vector<const BlockWindow*>& batch)
{
    const auto B = static_cast<std::int64_t>(batch.size());
    const auto T = static_cast<std::int64_t>(batch.front()->ids.size()) - 1;
    at::Tensor all = at::empty({B, T + 1}, at::TensorOptions().dtype(at::kLong));
    auto acc = all.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t t = 0; t <= T; ++t)
            acc[b][t] = batch[static_cast<std::size_t>(b)]->ids[static_cast<std::size_t>(t)];
    return {all.narrow(1, 0, T), all.narrow(1, 1, T)};
}

// Per-token KL(teacher || student) [B, T] from logits [B, T, V].
at::Tensor tokenKl(const at::Tensor& teacherLogits, const at::Tensor& studentLogits)
{
    const at::Tensor logT = at::log_softmax(teacherLogits, -1);
    const at::Tensor logS = at::log_softmax(studentLogits, -1);
    return (logT.exp() * (logT - logS)).sum(-1);
}


struct State {
    std::int64_t step = 0;
    std::int64_t tokensSeen = 0;
    double seconds = 0;
    std::vector<double> stepLosses;
    std::string rng;
};

nlohmann::ordered_json stateJson(const State& s, const BlockTrainOptions& o, std::size_t windows)
{
    return {{"format", "blocklens-block-training-1"},
            {"recipe", std::string(toString(o.recipe))},
            {"step", s.step},
            {"steps", o.steps},
            {"batch", o.batch},
            {"windows", windows},
            {"seed", o.seed},
            {"tokens_seen", s.tokensSeen},
            {"seconds", s.seconds},
            {"step_losses", s.stepLosses},
            {"rng", s.rng}};
}

State readState(const fs::path& dir, const BlockTrainOptions& o, std::size_t windows)
{
    const fs::path path = dir / kStateJson;
    std::ifstream in(path);
    if (!in)
        throw Error("no training state to resume from (write one by running without --resume first)", {.file = path.string()});
    nlohmann::json j;
    try {
        in >> j;
    } catch (const std::exception& e) {
        throw Error(std::string("not valid JSON: ") + e.what(), {.file = path.string()});
    }
    auto same = [&](const char* field, const nlohmann::json& want) {
        if (!j.contains(field) || j[field] != want)
            throw Error(std::string("field '") + field + "' is " + (j.contains(field) ? j[field].dump() : "missing") + ", this run has " +
                            want.dump() + ": resume with the options of the first run",
                        {.file = path.string()});
    };
    same("format", "blocklens-block-training-1");
    same("recipe", std::string(toString(o.recipe)));
    same("steps", o.steps);
    same("batch", o.batch);
    same("windows", windows);
    same("seed", o.seed);
    State s;
    try {
        s.step = j.at("step").get<std::int64_t>();
        s.tokensSeen = j.at("tokens_seen").get<std::int64_t>();
        s.seconds = j.at("seconds").get<double>();
        s.stepLosses = j.at("step_losses").get<std::vector<double>>();
        s.rng = j.at("rng").get<std::string>();
    } catch (const std::exception& e) {
        throw Error(std::string("bad training state: ") + e.what(), {.file = path.string()});
    }
    return s;
}

// The window's blocks with each internal boundary kept with probability 1 - dropout.
WindowBlocks dropBoundaries(const BlockWindow& w, double dropout, std::int64_t sinkTokens, std::mt19937_64& rng)
{
    WindowBlocks layout;
    layout.sinkTokens = sinkTokens;
    std::bernoulli_distribution drop(dropout);
    for (std::size_t b = 1; b < w.blockStarts.size(); ++b)
        if (dropout <= 0 || !drop(rng))
            layout.starts.push_back(w.blockStarts[b]);
    return layout;
}

// [B, T] 1 where a token's loss counts: every token, or those of each window's last block.
at::Tensor lossMask(const std::vector<WindowBlocks>& layouts, std::int64_t T, bool lastBlockOnly)
{
    at::Tensor mask = at::ones({static_cast<std::int64_t>(layouts.size()), T});
    if (lastBlockOnly)
        for (std::size_t b = 0; b < layouts.size(); ++b)
            mask[static_cast<std::int64_t>(b)].narrow(0, 0, std::min(layouts[b].starts.back(), T)).zero_();
    return mask;
}

at::Tensor inputsOf(const BlockWindow& w)
{
    const auto T = static_cast<std::int64_t>(w.ids.size()) - 1;
    at::Tensor in = at::empty({1, T}, at::TensorOptions().dtype(at::kLong));
    for (std::int64_t t = 0; t < T; ++t)
        in[0][t] = w.ids[static_cast<std::size_t>(t)];
    return in;
}

} // namespace

std::string_view toString(BlockRecipe r) { return r == BlockRecipe::Distill ? "distill" : "block-ft"; }

std::optional<BlockRecipe> parseBlockRecipe(std::string_view name)
{
    if (name == "distill")
        return BlockRecipe::Distill;
    if (name == "block-ft")
        return BlockRecipe::BlockFineTune;
    return std::nullopt;
}

BlockTrainResult trainBlock(const std::vector<BlockWindow>& windows, const fs::path& modelDir, const fs::path& teacherDir,
                            const BlockTrainOptions& o, const fs::path& outDir, const std::optional<fs::path>& tokenizerJson,
                            const std::function<void(const BlockLogEntry&)>& onLog, const Progress& progress)
{
    if (o.batch < 1 || o.steps < 1 || o.warmup < 0 || o.logEvery < 1 || o.checkpointEvery < 0)
        throw Error("batch, steps and log interval must be at least 1, warm-up and checkpoint interval at least 0");
    if (!(o.blockDropout >= 0 && o.blockDropout < 1))
        throw Error("block dropout is a probability below 1, not " + std::to_string(o.blockDropout));
    if (o.tokenWeighting < 0 || o.sinkTokens < 0)
        throw Error("token weighting and sink tokens must not be negative");
    if (o.timeBudgetS && !(*o.timeBudgetS > 0))
        throw Error("the time budget must be more than 0 seconds");
    if (windows.empty())
        throw Error("no training window: every document is shorter than one window");
    // Windows with at least three blocks: with two, the first block is the causal prefix and the
    // last attends to everything, so block attention equals full attention there.
    std::vector<const BlockWindow*> usable;
    for (const auto& w : windows) {
        if (w.ids.size() != windows.front().ids.size())
            throw Error("training windows must all have the same length");
        if (w.blockStarts.size() >= 3)
            usable.push_back(&w);
    }
    if (usable.empty())
        throw Error("the segmenter put every one of the " + std::to_string(windows.size()) +
                    " training windows in fewer than three blocks: block attention would be full attention there (choose a finer granularity)");

    const at::Device device = detail::trainingDevice(o.device);
    if (o.threads > 0)
        at::set_num_threads(o.threads);
    const bool needTeacher = o.recipe == BlockRecipe::Distill || o.tokenWeighting > 0;
    TrainableLm student = TrainableLm::load(o.resume ? outDir : modelDir, device);
    if (student.config().numLabels > 0) // TrainableLm holds classifiers too (the cut-marker trainer's)
        throw Error("block training needs a causal language model, not a token classifier",
                    {.file = ((o.resume ? outDir : modelDir) / "config.json").string()});
    std::optional<TrainableLm> teacher;
    if (needTeacher) {
        teacher.emplace(TrainableLm::load(teacherDir, device));
        if (teacher->config().vocabSize != student.config().vocabSize)
            throw Error("the teacher's vocabulary (" + std::to_string(teacher->config().vocabSize) + ") differs from the student's (" +
                            std::to_string(student.config().vocabSize) + ")",
                        {.file = (teacherDir / "config.json").string()});
        for (const auto& t : teacher->parameters())
            t.set_requires_grad(false);
    }
    for (const auto* w : usable)
        for (const auto id : w->ids)
            if (id < 0 || id >= student.config().vocabSize)
                throw Error("token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                            std::to_string(student.config().vocabSize));

    BlockTrainResult result;
    result.parameters = student.parameterCount();
    result.windows = static_cast<std::int64_t>(usable.size());
    const std::vector<at::Tensor> all = student.parameters();
    torch::optim::AdamW optimizer = detail::adamW(all, o.learningRate, 0.9, 0.95, o.weightDecay);

    std::mt19937_64 rng(o.seed);
    State state;
    if (o.resume) {
        state = readState(outDir, o, usable.size());
        std::istringstream(state.rng) >> rng;
        const fs::path opt = outDir / kStateOptimizer;
        try {
            torch::load(optimizer, opt.string());
        } catch (const std::exception& e) {
            throw Error(std::string("cannot read the optimizer state: ") + e.what(), {.file = opt.string()});
        }
    }
    auto checkpoint = [&] {
        student.write(outDir, tokenizerJson);
        detail::replaceFileWhole(outDir / kStateOptimizer, [&](const fs::path& p) { torch::save(optimizer, p.string()); });
        std::ostringstream r;
        r << rng;
        state.rng = r.str();
        detail::replaceFileWhole(outDir / kStateJson, [&](const fs::path& p) {
            std::ofstream out(p, std::ios::trunc);
            out << stateJson(state, o, usable.size()).dump() << "\n";
            if (!out)
                throw Error("cannot write", {.file = p.string()});
        });
    };

    const std::int64_t warmup = std::min(o.warmup, o.steps);
    std::uniform_int_distribution<std::size_t> pick(0, usable.size() - 1);
    const auto T = static_cast<std::int64_t>(usable.front()->ids.size()) - 1;
    const double secondsBefore = state.seconds;
    const std::int64_t firstStep = state.step + 1;
    const auto t0 = Clock::now();
    detail::LossSinceLog lossSinceLog;
    bool wroteLast = false;
    for (std::int64_t step = firstStep; step <= o.steps; ++step) {
        if (progress.stopRequested() || (o.timeBudgetS && secondsBefore + secondsSince(t0) >= *o.timeBudgetS)) {
            result.stopped = true;
            break;
        }
        std::vector<const BlockWindow*> batch;
        std::vector<WindowBlocks> layouts;
        for (std::int64_t b = 0; b < o.batch; ++b) {
            batch.push_back(usable[pick(rng)]);
            layouts.push_back(dropBoundaries(*batch.back(), o.blockDropout, o.sinkTokens, rng));
        }
        const auto [inputs, targets] = batchTensors(batch);
        const at::Tensor in = inputs.to(device), tgt = targets.to(device);
        const double lr = detail::warmupCosineLr(step, warmup, o.steps, o.learningRate, o.minLrRatio);
        detail::beginStep(optimizer, lr);
        at::Tensor teacherLogits;
        if (teacher) {
            c10::NoGradGuard noGrad;
            teacherLogits = teacher->logits(in, std::vector<WindowBlocks>(batch.size()));     // [B, T, V]
        }
        const at::Tensor studentLogits = student.logits(in, layouts);                       // [B, T, V]
        at::Tensor kl;                                                                       // [B, T]
        if (teacher)
            kl = tokenKl(teacherLogits, studentLogits);
        const at::Tensor perToken = o.recipe == BlockRecipe::Distill
                                        ? kl
                                        : -at::log_softmax(studentLogits, -1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1); // [B, T]
        const at::Tensor mask = lossMask(layouts, T, o.lastBlockLoss).to(device); // [B, T]
        at::Tensor loss;
        if (o.tokenWeighting > 0) {
            const at::Tensor d = kl.detach();
            const at::Tensor meanKl = ((d * mask).sum() / mask.sum()).clamp_min(1e-12);
            const at::Tensor w = mask * (1.0 + o.tokenWeighting * d / meanKl);
            loss = (w * perToken).sum() / w.sum();
        } else if (o.lastBlockLoss) {
            loss = (mask * perToken).sum() / mask.sum();
        } else {
            loss = perToken.mean();
        }
        const double value = detail::finishStep(optimizer, loss, all, o.gradClip);
        state.stepLosses.push_back(value);
        state.step = step;
        state.tokensSeen += o.batch * T;
        state.seconds = secondsBefore + secondsSince(t0);
        lossSinceLog.add(value);
        wroteLast = false;
        const bool last = step == o.steps;
        if (step % o.logEvery == 0 || last) {
            BlockLogEntry e;
            e.step = step;
            e.totalSteps = o.steps;
            e.loss = lossSinceLog.take();
            e.learningRate = lr;
            e.seconds = state.seconds;
            const double runSeconds = secondsSince(t0);
            const auto runSteps = static_cast<double>(step - firstStep + 1);
            e.tokensPerSecond = runSeconds > 0 ? runSteps * static_cast<double>(o.batch * T) / runSeconds : 0;
            e.etaSeconds = runSeconds / runSteps * static_cast<double>(o.steps - step);
            detail::appendLog(result.log, e, onLog);
        }
        if (o.checkpointEvery > 0 && step % o.checkpointEvery == 0 && !last) {
            checkpoint();
            wroteLast = true;
        }
        progress(step, o.steps, "steps");
    }
    if (!wroteLast)
        checkpoint();
    result.steps = state.step;
    result.tokensSeen = state.tokensSeen;
    result.seconds = state.seconds;
    result.stepLosses = state.stepLosses;
    return result;
}

std::vector<float> blockTrainingLogits(const fs::path& modelDir, const BlockWindow& window, bool full, std::int64_t sinkTokens)
{
    c10::NoGradGuard noGrad;
    const TrainableLm model = TrainableLm::load(modelDir, at::Device(at::kCPU));
    WindowBlocks layout;
    if (!full)
        layout = WindowBlocks{window.blockStarts, sinkTokens};
    const at::Tensor logits = model.logits(inputsOf(window), {layout}).contiguous(); // [1, T, V]
    return std::vector<float>(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
}

double distillLoss(const fs::path& studentDir, const fs::path& teacherDir, const BlockWindow& window, bool studentFull,
                   bool lastBlockOnly)
{
    c10::NoGradGuard noGrad;
    const TrainableLm student = TrainableLm::load(studentDir, at::Device(at::kCPU));
    const TrainableLm teacher = TrainableLm::load(teacherDir, at::Device(at::kCPU));
    const at::Tensor in = inputsOf(window);
    WindowBlocks layout;
    if (!studentFull)
        layout.starts = window.blockStarts;
    const at::Tensor kl = tokenKl(teacher.logits(in, {WindowBlocks{}}), student.logits(in, {layout})); // [1, T]
    if (!lastBlockOnly)
        return kl.mean().item<double>();
    const std::int64_t last = window.blockStarts.back();
    return kl.narrow(1, last, kl.size(1) - last).mean().item<double>();
}

} // namespace blocklens::lm
