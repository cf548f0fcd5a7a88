#pragma once
// Prints progress of long CLI work to stderr, throttled, only when stderr is a terminal or
// the work takes long enough to matter.
#include "util/progress.hpp"

#include <chrono>
#include <iosfwd>
#include <string>

namespace blocklens::cli {

class ProgressPrinter {
public:
    ProgressPrinter(std::ostream& err, std::string label);
    ~ProgressPrinter();
    Progress progress();

private:
    void report(std::int64_t done, std::int64_t total);
    std::ostream& err_;
    std::string label_;
    std::chrono::steady_clock::time_point start_, last_;
    bool printed_ = false;
};

} // namespace blocklens::cli
