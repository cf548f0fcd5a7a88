// bench_learned: one-core inference speed of the learned segmenter (no language model) on a
// 32k-token document.
//
//   bench_learned [--text PATH] [--tokens N] [--model learned.json] [--reps N]
//
// The document is the first N approx-tokens (default 32768, cut at a line end) of --text
// (default: the 1 MB bench text unpacked into the build tree); the model is --model or the one the
// built-in `learned` segmenter finds (resources/segmenters/learned.json). Rows: the features
// alone, the model over them, the scorer (features + model), and the whole of
// Segmenter::segment() with the default threshold decoder, a target size and an exact count;
// `hybrid` for comparison. Two warm-up runs, then the median and minimum of --reps runs
// (default 15). Run it pinned to one core (taskset -c N). Prints a markdown table.
#include "document/document.hpp"
#include "learn/boundary_model.hpp"
#include "learn/features.hpp"
#include "learn/learned_scorer.hpp"
#include "segment/segmenter.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
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

// The longest prefix of whole lines with at most `tokens` approx-tokens.
std::string prefixWithTokens(const std::string& text, std::size_t tokens)
{
    std::vector<std::size_t> ends;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n')
            ends.push_back(i + 1);
    std::size_t a = 0, b = ends.size();
    while (a < b) {
        const std::size_t m = (a + b + 1) / 2;
        if (TokenGrid::approximate(std::string_view(text).substr(0, ends[m - 1])).size() <= tokens)
            a = m;
        else
            b = m - 1;
    }
    return text.substr(0, a ? ends[a - 1] : 0);
}

} // namespace

int main(int argc, char** argv)
{
    std::string textPath = std::string(BLOCKLENS_FIXTURES_DIR) + "/bench/english-1mb.txt";
    std::string modelPath;
    std::size_t tokens = 32768;
    int reps = 15;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--text" && i + 1 < argc)
            textPath = argv[++i];
        else if (a == "--model" && i + 1 < argc)
            modelPath = argv[++i];
        else if (a == "--tokens" && i + 1 < argc)
            tokens = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
        else if (a == "--reps" && i + 1 < argc)
            reps = std::max(1, std::atoi(argv[++i]));
        else {
            std::cerr << "usage: bench_learned [--text PATH] [--tokens N] [--model learned.json] [--reps N]\n";
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    try {
        std::string source;
        const auto model = std::make_shared<const learn::BoundaryModel>(
            modelPath.empty() ? learn::loadDefaultModel(&source) : learn::BoundaryModel::load(modelPath));
        if (source.empty())
            source = modelPath;
        const Segmenter learned = learn::learnedSegmenter(model, source);
        const Document doc(prefixWithTokens(readAll(textPath), tokens));
        const TokenGrid grid = TokenGrid::approximate(doc);
        const TextLayout layout(doc);
        const auto shapes = lineShapes(layout);
        const auto candidates = findCandidates(layout, shapes, {learned.spec().rules, {}});
        const SegmentContext ctx{doc, layout, shapes, grid};
        const learn::FeatureMatrix x = learn::computeFeatures(ctx, candidates);

        std::printf("model: %s (%zu features, %zu parameters)\n", source.c_str(), model->features.size(),
                    model->parameterCount());
        std::printf("document: %s, first %zu approx-tokens: %zu lines, %zu candidates\n\n",
                    std::filesystem::path(textPath).filename().string().c_str(), grid.size(), layout.size(),
                    candidates.size());
        std::printf("| step | blocks | median ms | min ms |\n| --- | ---: | ---: | ---: |\n");
        auto row = [&](const char* name, std::size_t blocks, const Timing& t) {
            std::printf("| %s | %s | %.2f | %.2f |\n", name, blocks ? std::to_string(blocks).c_str() : "-", t.median,
                        t.min);
        };
        row("features (learn::computeFeatures)", 0, time(reps, [&] { (void)learn::computeFeatures(ctx, candidates); }));
        row("model over the features", 0, time(reps, [&] { (void)model->scores(x); }));
        row("scorer (layout, candidates, features, model)", 0,
            time(reps, [&] { (void)learned.score(doc, grid); }));
        struct Case {
            const char* name;
            const Segmenter* seg;
            SegmentOptions options;
        };
        const Segmenter& hybrid = findSegmenter("hybrid");
        const std::vector<Case> cases = {
            {"learned: segment, default (threshold)", &learned, {}},
            {"learned: segment, --target-tokens 512 (DP)", &learned, {Granularity::target(512), {}}},
            {"learned: segment, --blocks 64 (DP, exact count)", &learned, {Granularity::exactBlocks(64), {}}},
            {"hybrid: segment, default (threshold)", &hybrid, {}},
            {"hybrid: segment, --blocks 64 (DP, exact count)", &hybrid, {Granularity::exactBlocks(64), {}}},
        };
        for (const auto& c : cases) {
            std::size_t blocks = 0;
            const Timing t = time(reps, [&] { blocks = c.seg->segment(doc, grid, c.options).blocks.size(); });
            row(c.name, blocks, t);
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench_learned: error: " << e.what() << "\n";
        return 1;
    }
}
