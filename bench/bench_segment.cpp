// bench_segment: one-core speed of the segmenters on a 32k-token document.
//
//   bench_segment [--text PATH] [--tokens N] [--tokenizer PATH] [--reps N]
//
// The document is the first N tokens (default 32768, cut at a line end) of --text (default: the
// 1 MB bench text unpacked into the build tree). Sizes are measured in approx-tokens and, when a
// tokenizer is given (default: the Llama 3 fixture, if unpacked), again in its tokens on a text
// cut to N of those. Every row times the whole of Segmenter::segment() (layout, candidates,
// scores, decoding, the hard maximum) on one thread with the token grid prebuilt (its build time
// has a row of its own): two warm-up runs, then the median and minimum of --reps runs (default 15).
// Prints a markdown table.
#include "document/document.hpp"
#include "segment/segmenter.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace blocklens;
using namespace blocklens::segment;

namespace {

std::string readAll(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot open", {.file = path});
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Timing {
    double median = 0, min = 0;
};

Timing time(int reps, const std::function<void()>& f)
{
    using clock = std::chrono::steady_clock;
    f();
    f();
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = clock::now();
        f();
        ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms.front()};
}

// The longest prefix of whole lines holding at most `tokens` tokens of `count`.
std::string prefixWithTokens(const std::string& text, std::size_t tokens,
                             const std::function<std::size_t(std::string_view)>& count)
{
    // Binary search over line ends (token counts grow with the prefix).
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

struct Case {
    std::string segmenter;
    std::string mode;
    SegmentOptions options;
};

} // namespace

int main(int argc, char** argv)
{
    std::string textPath = std::string(BLOCKLENS_FIXTURES_DIR) + "/bench/english-1mb.txt";
    std::string tokenizerPath = std::string(BLOCKLENS_FIXTURES_DIR) + "/tokenizers/llama3/tokenizer.json";
    std::size_t tokens = 32768;
    int reps = 15;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--text" && i + 1 < argc)
            textPath = argv[++i];
        else if (a == "--tokenizer" && i + 1 < argc)
            tokenizerPath = argv[++i];
        else if (a == "--tokens" && i + 1 < argc)
            tokens = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
        else if (a == "--reps" && i + 1 < argc)
            reps = std::max(1, std::atoi(argv[++i]));
        else {
            std::cerr << "usage: bench_segment [--text PATH] [--tokens N] [--tokenizer PATH] [--reps N]\n";
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    try {
        const std::string full = readAll(textPath);
        std::vector<Case> cases = {
            {"structural", "default (threshold)", {}},
            {"texttiling", "default (threshold)", {}},
            {"hybrid", "default (threshold)", {}},
            {"hybrid", "--target-tokens 512 (DP)", {Granularity::target(512), {}}},
            {"hybrid", "--blocks 64 (DP, exact)", {Granularity::exactBlocks(64), {}}},
            {"paragraphs", "default (DP)", {}},
            {"recursive", "default (chunks of 512)", {}},
            {"fixed", "default (512)", {}},
        };
        std::printf("| document | unit | tokens | segmenter | mode | blocks | median ms | min ms |\n");
        std::printf("| --- | --- | ---: | --- | --- | ---: | ---: | ---: |\n");

        auto runAll = [&](const Document& doc, const TokenGrid& grid, const std::string& docName,
                          const std::function<TokenGrid()>& build) {
            const Timing g = time(reps, [&] { (void)build(); });
            std::printf("| %s | %s | %zu | (token grid) | build | - | %.2f | %.2f |\n", docName.c_str(),
                        grid.unit().c_str(), grid.size(), g.median, g.min);
            for (const auto& c : cases) {
                const Segmenter& seg = findSegmenter(c.segmenter);
                std::size_t blocks = 0;
                const Timing t = time(reps, [&] { blocks = seg.segment(doc, grid, c.options).blocks.size(); });
                std::printf("| %s | %s | %zu | %s | %s | %zu | %.2f | %.2f |\n", docName.c_str(), grid.unit().c_str(),
                            grid.size(), c.segmenter.c_str(), c.mode.c_str(), blocks, t.median, t.min);
            }
        };

        const std::string name = std::filesystem::path(textPath).filename().string();
        {
            const std::string text = prefixWithTokens(full, tokens, [](std::string_view s) { return TokenGrid::approximate(s).size(); });
            const Document doc(text);
            const TokenGrid grid = TokenGrid::approximate(doc);
            runAll(doc, grid, name + " prefix", [&] { return TokenGrid::approximate(doc); });
        }
        if (std::filesystem::exists(tokenizerPath)) {
            const Tokenizer tok = Tokenizer::fromFile(tokenizerPath);
            const std::string text = prefixWithTokens(full, tokens, [&](std::string_view s) { return tok.encode(s).ids.size(); });
            const Document doc(text);
            const TokenGrid grid = TokenGrid::fromEncoding(tok.encode(doc.text()), doc.length(), tok.describe());
            runAll(doc, grid, name + " prefix", [&] { return TokenGrid::fromEncoding(tok.encode(doc.text()), doc.length(), tok.describe()); });
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench_segment: error: " << e.what() << "\n";
        return 1;
    }
}
