#include "cli/progress_printer.hpp"

#include <cstdio>
#include <iostream>
#include <ostream>

#include <unistd.h>

namespace blocklens::cli {

bool isTerminal(const std::ostream& stream)
{
    return (&stream == &std::cerr || &stream == &std::clog) && ::isatty(STDERR_FILENO) == 1;
}

ProgressPrinter::Style ProgressPrinter::styleFor(const std::ostream& err)
{
    using std::chrono::milliseconds;
    if (isTerminal(err))
        return {.terminal = true, .quietFor = milliseconds(500), .every = milliseconds(250)};
    return {.terminal = false, .quietFor = milliseconds(500), .every = milliseconds(5000)};
}

ProgressPrinter::ProgressPrinter(std::ostream& err, std::string label) : ProgressPrinter(err, std::move(label), styleFor(err)) {}

ProgressPrinter::ProgressPrinter(std::ostream& err, std::string label, Style style)
    : err_(err), label_(std::move(label)), style_(style), start_(std::chrono::steady_clock::now()), last_(start_)
{
}

ProgressPrinter::~ProgressPrinter()
{
    if (printed_ && style_.terminal)
        err_ << "\n";
}

Progress ProgressPrinter::progress()
{
    Progress p;
    p.report = [this](std::int64_t done, std::int64_t total, std::string_view) { report(done, total); };
    return p;
}

void ProgressPrinter::report(std::int64_t done, std::int64_t total)
{
    const auto now = std::chrono::steady_clock::now();
    if (now - start_ < style_.quietFor || (printed_ && now - last_ < style_.every))
        return;
    last_ = now;
    printed_ = true;
    char line[160];
    const char* lead = style_.terminal ? "\r" : "";
    if (total > 0)
        std::snprintf(line, sizeof line, "%s%s: %3.0f%% (%lld/%lld)", lead, label_.c_str(), 100.0 * done / total,
                      static_cast<long long>(done), static_cast<long long>(total));
    else
        std::snprintf(line, sizeof line, "%s%s: %lld", lead, label_.c_str(), static_cast<long long>(done));
    err_ << line;
    if (!style_.terminal)
        err_ << "\n";
    err_ << std::flush;
}

} // namespace blocklens::cli
