#pragma once
// Prints progress of long CLI work to stderr, throttled and quiet for short work. On a terminal
// one line is redrawn in place ('\r'); anywhere else (a log file, a pipe, a test) each update is
// a plain line of its own, less often, so logs hold no carriage returns.
#include "util/progress.hpp"

#include <chrono>
#include <iosfwd>
#include <string>

namespace blocklens::cli {

// True when `stream` is std::cerr / std::clog and file descriptor 2 is a terminal (isatty).
bool isTerminal(const std::ostream& stream);

class ProgressPrinter {
public:
    struct Style {
        bool terminal = false;                        // redraw one line with '\r'
        std::chrono::milliseconds quietFor{500};      // print nothing for work shorter than this
        std::chrono::milliseconds every{250};         // at most one update per this long
    };
    // The style for `err`: a terminal redraws four times a second, a plain line every 5 s.
    static Style styleFor(const std::ostream& err);

    ProgressPrinter(std::ostream& err, std::string label);
    ProgressPrinter(std::ostream& err, std::string label, Style style);
    ~ProgressPrinter();
    Progress progress();

private:
    void report(std::int64_t done, std::int64_t total);
    std::ostream& err_;
    std::string label_;
    Style style_;
    std::chrono::steady_clock::time_point start_, last_;
    bool printed_ = false;
};

} // namespace blocklens::cli
