// The trainers' shared loop scaffolding (see torch/training_loop.hpp).
#include "learn/lm/torch/training_loop.hpp"

#include <algorithm>
#include <cmath>

namespace blocklens::lm::detail {

double secondsSince(TrainingClock::time_point t) { return std::chrono::duration<double>(TrainingClock::now() - t).count(); }

torch::optim::AdamW adamW(const std::vector<at::Tensor>& parameters, double learningRate, double beta1, double beta2,
                          double weightDecay)
{
    std::vector<at::Tensor> decay, noDecay;
    for (const auto& t : parameters)
        (t.dim() >= 2 ? decay : noDecay).push_back(t);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(learningRate).betas({beta1, beta2}).weight_decay(weightDecay)));
    groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                     torch::optim::AdamWOptions(learningRate).betas({beta1, beta2}).weight_decay(0.0)));
    return torch::optim::AdamW(std::move(groups));
}

double warmupCosineLr(std::int64_t step, std::int64_t warmup, std::int64_t total, double peak, double minRatio)
{
    if (step <= warmup)
        return peak * static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
    const double done = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
    return peak * (minRatio + (1.0 - minRatio) * 0.5 * (1.0 + std::cos(M_PI * done)));
}

void beginStep(torch::optim::AdamW& optimizer, double learningRate)
{
    for (auto& g : optimizer.param_groups())
        static_cast<torch::optim::AdamWOptions&>(g.options()).lr(learningRate);
    optimizer.zero_grad();
}

double finishStep(torch::optim::AdamW& optimizer, const at::Tensor& loss, const std::vector<at::Tensor>& parameters,
                  double gradClip)
{
    loss.backward();
    torch::nn::utils::clip_grad_norm_(parameters, gradClip);
    optimizer.step();
    return loss.item<double>();
}

double LossSinceLog::take()
{
    const double mean = sum_ / static_cast<double>(std::max<std::int64_t>(1, count_));
    sum_ = 0;
    count_ = 0;
    return mean;
}

} // namespace blocklens::lm::detail
