#pragma once
// What the segmentation benchmarks share: reading the bench text, cutting a prefix of N tokens at a
// line end, the common options (--text, --tokens, --reps), and timing (two warm-up runs, then the
// median and minimum of `reps` runs). Header-only: each benchmark is its own executable.
#include "segment/token_grid.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::bench {

inline std::string readAll(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot open", {.file = path});
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Timing {
    double median = 0, min = 0; // milliseconds
};

inline Timing measure(int reps, const std::function<void()>& f)
{
    using clock = std::chrono::steady_clock;
    f();
    f();
    std::vector<double> ms;
    for (int r = 0; r < std::max(1, reps); ++r) {
        const auto t0 = clock::now();
        f();
        ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms.front()};
}

// The longest prefix of whole lines holding at most `tokens` tokens as `count` counts them
// (binary search over line ends: counts grow with the prefix).
inline std::string prefixWithTokens(const std::string& text, std::size_t tokens,
                                    const std::function<std::size_t(std::string_view)>& count)
{
    std::vector<std::size_t> ends;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n')
            ends.push_back(i + 1);
    std::size_t a = 0, b = ends.size();
    while (a < b) {
        const std::size_t m = (a + b + 1) / 2;
        if (count(std::string_view(text).substr(0, ends[m - 1])) <= tokens)
            a = m;
        else
            b = m - 1;
    }
    return text.substr(0, a ? ends[a - 1] : 0);
}

inline std::string prefixWithApproxTokens(const std::string& text, std::size_t tokens)
{
    return prefixWithTokens(text, tokens, [](std::string_view s) { return segment::TokenGrid::approximate(s).size(); });
}

// --text PATH (default: the 1 MB bench text unpacked into the build tree), --tokens N (32768),
// --reps N (15).
struct CommonArgs {
    std::string textPath = std::string(BLOCKLENS_FIXTURES_DIR) + "/bench/english-1mb.txt";
    std::size_t tokens = 32768;
    int reps = 15;

    // Consumes argv[i] (and its value) when it is one of the common options.
    bool parse(int argc, char** argv, int& i)
    {
        const std::string a = argv[i];
        if (i + 1 >= argc)
            return false;
        if (a == "--text")
            textPath = argv[++i];
        else if (a == "--tokens")
            tokens = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
        else if (a == "--reps")
            reps = std::max(1, std::atoi(argv[++i]));
        else
            return false;
        return true;
    }
};

} // namespace blocklens::bench
