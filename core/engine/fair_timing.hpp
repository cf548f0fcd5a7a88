#pragma once
// How every timed comparison measures (CLI `compare`, the app's side by side, its TTFT race and
// presentation mode): one untimed warm-up pass of the model over the same tokens before any
// timed mode, then each mode `repeats` times, TTFT taken as the median.
//
// Why: the first pass of a freshly loaded model pays for faulting in the weights, growing the
// allocator and starting the thread pool. Measured without a warm-up, whichever mode runs first
// looks slower (issue 15: `--modes full,full` gave 918 ms then 571 ms for identical work).
#include "engine/runner.hpp"

#include <functional>
#include <string>

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

double medianOf(std::vector<double> values); // of a non-empty list

} // namespace blocklens::engine
