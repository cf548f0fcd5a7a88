#include "engine/fair_timing.hpp"

#include "util/error.hpp"

#include <algorithm>

namespace blocklens::engine {

std::string describeTiming(const TimingProtocol& p)
{
    std::string s = "TTFT: ";
    s += p.repeats > 1 ? "median of " + std::to_string(p.repeats) + " runs" : std::string("1 run");
    if (p.warmUps > 0)
        s += " after " + std::to_string(p.warmUps) + " untimed warm-up" + (p.warmUps > 1 ? "s" : "");
    else
        s += ", no warm-up (the first mode timed pays the model's start-up)";
    return s;
}

void warmUp(const Runner& runner, const RunRequest& like, const TimingProtocol& protocol, const Progress& progress)
{
    RunRequest req = like;
    req.mode = AttentionMode::Full;
    req.maxNewTokens = std::min<std::int64_t>(like.maxNewTokens, 1);
    req.onToken = nullptr;
    req.attention = {};
    req.wantHidden = false;
    for (int i = 0; i < protocol.warmUps; ++i)
        (void)runner.run(req, progress);
}

RunResult runTimed(const Runner& runner, const RunRequest& request, const TimingProtocol& protocol,
                   const std::function<void()>& beforeEach, const Progress& progress)
{
    if (protocol.repeats < 1)
        throw Error("the number of timed repeats must be at least 1");
    if (beforeEach)
        beforeEach();
    RunResult first = runner.run(request, progress);
    std::vector<double> ttft{first.stats.ttftMs};
    RunRequest again = request;
    again.maxNewTokens = std::min<std::int64_t>(request.maxNewTokens, 1);
    again.onToken = nullptr;
    for (int i = 1; i < protocol.repeats; ++i) {
        if (beforeEach)
            beforeEach();
        ttft.push_back(runner.run(again, progress).stats.ttftMs);
    }
    first.stats.ttftMs = medianOf(std::move(ttft));
    return first;
}

double medianOf(std::vector<double> v)
{
    if (v.empty())
        throw Error("median of no values");
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

} // namespace blocklens::engine
