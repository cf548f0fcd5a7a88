#pragma once
// How every timed comparison measures (CLI `compare`, the app's side by side, its TTFT race and
// presentation mode): one untimed warm-up pass of the model over the same tokens before any
// timed mode, then the modes in turn (A B A B ...), `repeats` times each, TTFT taken as the median.
//
// Why: the first pass of a freshly loaded model pays for faulting in the weights, growing the
// allocator and starting the thread pool. Measured without a warm-up, whichever mode runs first
// looks slower (issue 15: `--modes full,full` gave 918 ms then 571 ms for identical work).
#include "engine/runner.hpp"

#include <functional>
#include <string>
#include <vector>

namespace blocklens::engine {

struct TimingProtocol {
    int warmUps = 1; // untimed passes (full attention, same tokens) before the first timed mode
    int repeats = 1; // timed runs per mode; TTFT is their median
};

// "TTFT: median of 3 runs after 1 untimed warm-up", "TTFT: 1 run after 1 untimed warm-up".
std::string describeTiming(const TimingProtocol& protocol);

// The untimed warm-up: `like`'s tokens under full attention, at most one generated token, no
// streaming, no attention capture. Never touches the block KV cache (full attention does not use it).
void warmUp(const Runner& runner, const RunRequest& like, const TimingProtocol& protocol, const Progress& progress = {});

// Runs `request` protocol.repeats times; `beforeEach` (may be empty) runs before every repeat, e.g.
// to clear the block cache when cold-cache timings are wanted. Returns the first run's result
// (its logits and generated tokens) with stats.ttftMs replaced by the median TTFT of all runs.
// Repeats after the first generate at most one token and stream nothing: TTFT ends at the first.
RunResult runTimed(const Runner& runner, const RunRequest& request, const TimingProtocol& protocol,
                   const std::function<void()>& beforeEach = {}, const Progress& progress = {});

// Several requests timed against each other (a comparison's two modes): after the warm-up they
// run interleaved, A B A B ... for the repeats, so that drift during the measurement (clock
// boosts, the allocator, other load) hits every side alike instead of whichever ran last. Each
// side's first run is the one whose logits, generated tokens and streaming are kept; its
// stats.ttftMs becomes the median of that side's runs. `beforeEach` (may be empty) runs before
// every run of its side; `finished` (may be empty) is told as soon as a side's last run is done.
struct TimedSide {
    RunRequest request;
    std::function<void()> beforeEach;
    Progress progress;
};
std::vector<RunResult> runTimedInterleaved(const Runner& runner, const std::vector<TimedSide>& sides, const TimingProtocol& protocol,
                                           const std::function<void(std::size_t side, const RunResult&)>& finished = {});

double medianOf(std::vector<double> values); // of a non-empty list

} // namespace blocklens::engine
