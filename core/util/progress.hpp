#pragma once
// How long-running core work reports progress and learns it should stop, without Qt.
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string_view>

namespace blocklens {

// done/total in work units of the caller's choosing; total 0 means unknown.
using ProgressFn = std::function<void(std::int64_t done, std::int64_t total, std::string_view what)>;

struct Progress {
    ProgressFn report;     // may be empty
    std::stop_token stop;  // default: never requested

    void operator()(std::int64_t done, std::int64_t total, std::string_view what = {}) const
    {
        if (report)
            report(done, total, what);
    }
    bool stopRequested() const noexcept { return stop.stop_requested(); }
};

} // namespace blocklens
