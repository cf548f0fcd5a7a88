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
    return runTimedInterleaved(runner, {TimedSide{request, beforeEach, progress}}, protocol).front();
}

std::vector<RunResult> runTimedInterleaved(const Runner& runner, const std::vector<TimedSide>& sides, const TimingProtocol& protocol,
                                           const std::function<void(std::size_t, const RunResult&)>& finished)
{
    if (protocol.repeats < 1)
        throw Error("the number of timed repeats must be at least 1");
    std::vector<RunResult> first(sides.size());
    std::vector<std::vector<double>> ttft(sides.size());
    for (int repeat = 0; repeat < protocol.repeats; ++repeat) {
        for (std::size_t s = 0; s < sides.size(); ++s) {
            const TimedSide& side = sides[s];
            if (side.beforeEach)
                side.beforeEach();
            if (repeat == 0) {
                first[s] = runner.run(side.request, side.progress);
                ttft[s].push_back(first[s].stats.ttftMs);
            } else {
                // Repeats time the first token only: at most one generated, nothing streamed.
                RunRequest again = side.request;
                again.maxNewTokens = std::min<std::int64_t>(side.request.maxNewTokens, 1);
                again.onToken = nullptr;
                ttft[s].push_back(runner.run(again, side.progress).stats.ttftMs);
            }
            if (repeat + 1 == protocol.repeats) {
                first[s].stats.ttftMs = medianOf(ttft[s]);
                if (finished)
                    finished(s, first[s]);
            }
        }
    }
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
