#include "cli/progress_printer.hpp"

#include <cstdio>
#include <ostream>

namespace blocklens::cli {

ProgressPrinter::ProgressPrinter(std::ostream& err, std::string label)
    : err_(err), label_(std::move(label)), start_(std::chrono::steady_clock::now()), last_(start_)
{
}

ProgressPrinter::~ProgressPrinter()
{
    if (printed_)
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
    using namespace std::chrono;
    const auto now = steady_clock::now();
    // Quiet for short work; then at most four updates a second.
    if (now - start_ < milliseconds(500) || now - last_ < milliseconds(250))
        return;
    last_ = now;
    printed_ = true;
    char line[160];
    if (total > 0)
        std::snprintf(line, sizeof line, "\r%s: %3.0f%% (%lld/%lld)", label_.c_str(), 100.0 * done / total,
                      static_cast<long long>(done), static_cast<long long>(total));
    else
        std::snprintf(line, sizeof line, "\r%s: %lld", label_.c_str(), static_cast<long long>(done));
    err_ << line << std::flush;
}

} // namespace blocklens::cli
