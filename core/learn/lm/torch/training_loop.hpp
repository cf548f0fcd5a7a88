#pragma once
// Internal to core/learn (included only by .cpp files that use libtorch, never by a public
// header): the scaffolding every trainer's loop shares (the language model's, block
// fine-tuning's, the cut-marker segmenter's), so that the optimizer, the learning-rate schedule,
// the step and the loss logged mean exist once.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace blocklens::lm::detail {

using TrainingClock = std::chrono::steady_clock;
double secondsSince(TrainingClock::time_point t);

// AdamW over `parameters` with weight decay on the matrices only (dim >= 2: not norms, biases).
torch::optim::AdamW adamW(const std::vector<at::Tensor>& parameters, double learningRate, double beta1, double beta2,
                          double weightDecay);

// The learning rate of `step` (from 1): linear warm-up to `peak` over `warmup` steps, then cosine
// decay to minRatio x peak at step `total`.
double warmupCosineLr(std::int64_t step, std::int64_t warmup, std::int64_t total, double peak, double minRatio);

// Before a step's forward pass: the step's learning rate in every group, gradients cleared.
void beginStep(torch::optim::AdamW& optimizer, double learningRate);
// After it: gradients of `loss`, their total norm clipped to `gradClip`, the update. -> the loss.
double finishStep(torch::optim::AdamW& optimizer, const at::Tensor& loss, const std::vector<at::Tensor>& parameters,
                  double gradClip);

// The mean training loss over the steps since the last log entry.
class LossSinceLog {
public:
    void add(double loss)
    {
        sum_ += loss;
        ++count_;
    }
    // The mean (0 before any step), and a fresh start for the next entry.
    double take();

private:
    double sum_ = 0;
    std::int64_t count_ = 0;
};

// Appends a log entry and shows it to `onLog` (when set).
template <typename Entry>
void appendLog(std::vector<Entry>& log, const Entry& entry, const std::function<void(const Entry&)>& onLog)
{
    log.push_back(entry);
    if (onLog)
        onLog(entry);
}

} // namespace blocklens::lm::detail
