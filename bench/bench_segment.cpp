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
#include "bench_harness.hpp"
#include "document/document.hpp"
#include "usecases/segmenters.hpp"
#include "tokenizer/tokenizer.hpp"

#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

using namespace blocklens;
using namespace blocklens::segment;
using bench::measure;
using bench::Timing;

namespace {

struct Case {
    std::string segmenter;
    std::string mode;
    SegmentOptions options;
};

} // namespace

int main(int argc, char** argv)
{
    bench::CommonArgs args;
    std::string tokenizerPath = std::string(BLOCKLENS_FIXTURES_DIR) + "/tokenizers/llama3/tokenizer.json";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (args.parse(argc, argv, i))
            continue;
        if (a == "--tokenizer" && i + 1 < argc) {
            tokenizerPath = argv[++i];
        } else {
            std::cerr << "usage: bench_segment [--text PATH] [--tokens N] [--tokenizer PATH] [--reps N]\n";
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    const std::string& textPath = args.textPath;
    const std::size_t tokens = args.tokens;
    const int reps = args.reps;
    try {
        const std::string full = bench::readAll(textPath);
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
            const Timing g = measure(reps, [&] { (void)build(); });
            std::printf("| %s | %s | %zu | (token grid) | build | - | %.2f | %.2f |\n", docName.c_str(),
                        grid.unit().c_str(), grid.size(), g.median, g.min);
            for (const auto& c : cases) {
                const Segmenter& seg = findSegmenter(c.segmenter);
                std::size_t blocks = 0;
                const Timing t = measure(reps, [&] { blocks = seg.segment(doc, grid, c.options).blocks.size(); });
                std::printf("| %s | %s | %zu | %s | %s | %zu | %.2f | %.2f |\n", docName.c_str(), grid.unit().c_str(),
                            grid.size(), c.segmenter.c_str(), c.mode.c_str(), blocks, t.median, t.min);
            }
        };

        const std::string name = std::filesystem::path(textPath).filename().string();
        {
            const std::string text = bench::prefixWithTokens(full, tokens, [](std::string_view s) { return TokenGrid::approximate(s).size(); });
            const Document doc(text);
            const TokenGrid grid = TokenGrid::approximate(doc);
            runAll(doc, grid, name + " prefix", [&] { return TokenGrid::approximate(doc); });
        }
        if (std::filesystem::exists(tokenizerPath)) {
            const Tokenizer tok = Tokenizer::fromFile(tokenizerPath);
            const std::string text = bench::prefixWithTokens(full, tokens, [&](std::string_view s) { return tok.encode(s).ids.size(); });
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
