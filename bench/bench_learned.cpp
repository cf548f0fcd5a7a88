// bench_learned: one-core inference speed of the learned segmenter on a 32k-token document,
// without and (optionally) with a language model.
//
//   bench_learned [--text PATH] [--tokens N] [--model learned.json] [--reps N]
//                 [--lm DIR [--lm-model learned-lm.json] [--lm-window N] [--lm-reps N]]
//
// The document is the first N approx-tokens (default 32768, cut at a line end) of --text
// (default: the 1 MB bench text unpacked into the build tree); the model is --model or the one the
// built-in `learned` segmenter finds (resources/segmenters/learned.json). Rows: the features
// alone, the model over them, the scorer (features + model), and the whole of
// Segmenter::segment() with the default threshold decoder, a target size and an exact count;
// `hybrid` for comparison. With --lm (an engine checkpoint with tokenizer.json; libtorch builds):
// the language model's hidden states over the document (tokenize + forward in windows of
// --lm-window tokens, default 1024, on the CPU), the lm_* features from them, and with --lm-model
// (a model trained with `train-segmenter --lm`) the whole scorer and segment(). Two warm-up runs,
// then the median and minimum of --reps runs (default 15; --lm-reps, default 3, for rows that run
// the language model). Run it pinned to one core (taskset -c N). Prints a markdown table.
#include "bench_harness.hpp"
#include "document/document.hpp"
#include "learn/boundary_model.hpp"
#include "learn/features.hpp"
#include "learn/learned_scorer.hpp"
#include "usecases/segmenters.hpp"
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

#ifdef BLOCKLENS_WITH_TORCH
#include "learn/lm_states.hpp"
#endif

using bench::measure;
using bench::Timing;

int main(int argc, char** argv)
{
    bench::CommonArgs args;
    std::string modelPath, lmPath, lmModelPath;
    std::size_t lmWindow = 1024;
    int lmReps = 3;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (args.parse(argc, argv, i))
            continue;
        if (a == "--model" && i + 1 < argc)
            modelPath = argv[++i];
        else if (a == "--lm" && i + 1 < argc)
            lmPath = argv[++i];
        else if (a == "--lm-model" && i + 1 < argc)
            lmModelPath = argv[++i];
        else if (a == "--lm-window" && i + 1 < argc)
            lmWindow = static_cast<std::size_t>(std::max(16, std::atoi(argv[++i])));
        else if (a == "--lm-reps" && i + 1 < argc)
            lmReps = std::max(1, std::atoi(argv[++i]));
        else {
            std::cerr << "usage: bench_learned [--text PATH] [--tokens N] [--model learned.json] [--reps N] [--lm DIR "
                         "[--lm-model learned-lm.json] [--lm-window N] [--lm-reps N]]\n";
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    const std::string& textPath = args.textPath;
    const int reps = args.reps;
    try {
        std::string source;
        const auto model = std::make_shared<const learn::BoundaryModel>(
            modelPath.empty() ? learn::loadDefaultModel(&source) : learn::BoundaryModel::load(modelPath));
        if (source.empty())
            source = modelPath;
        const Segmenter learned = learn::learnedSegmenter(model, source);
        const Document doc(bench::prefixWithApproxTokens(bench::readAll(textPath), args.tokens));
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
        row("features (learn::computeFeatures)", 0, measure(reps, [&] { (void)learn::computeFeatures(ctx, candidates); }));
        row("model over the features", 0, measure(reps, [&] { (void)model->scores(x); }));
        row("scorer (layout, candidates, features, model)", 0,
            measure(reps, [&] { (void)learned.score(doc, grid); }));
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
            const Timing t = measure(reps, [&] { blocks = c.seg->segment(doc, grid, c.options).blocks.size(); });
            row(c.name, blocks, t);
        }
        if (!lmPath.empty()) {
#ifdef BLOCKLENS_WITH_TORCH
            const auto lm = learn::EngineLmSource::load(lmPath, {}, lmWindow);
            const auto& cfg = lm->model().config();
            std::printf("\nlanguage model: %s (%lld layers, hidden %lld, %lld parameters), window %zu tokens\n\n",
                        lmPath.c_str(), static_cast<long long>(cfg.numLayers), static_cast<long long>(cfg.hiddenSize),
                        static_cast<long long>(cfg.parameterCount()), lmWindow);
            std::printf("| step (with the language model) | blocks | median ms | min ms |\n| --- | ---: | ---: | ---: |\n");
            learn::LmStates states;
            const Timing st = measure(lmReps, [&] { states = lm->states(doc); });
            const std::string what = "hidden states (tokenize + forward, " + std::to_string(states.tokens()) + " tokens)";
            row(what.c_str(), 0, st);
            row("lm_* features from the states (+ the other features)", 0,
                measure(reps, [&] { (void)learn::computeFeatures(ctx, candidates, states); }));
            if (!lmModelPath.empty()) {
                const auto lmModel = std::make_shared<const learn::BoundaryModel>(learn::BoundaryModel::load(lmModelPath));
                const Segmenter withLm = learn::learnedSegmenter(lmModel, lmModelPath, lm);
                row("learned+LM: scorer (states, features, model)", 0, measure(lmReps, [&] { (void)withLm.score(doc, grid); }));
                std::size_t blocks = 0;
                const Timing t = measure(lmReps, [&] { blocks = withLm.segment(doc, grid, {}).blocks.size(); });
                row("learned+LM: segment, default (threshold)", blocks, t);
            }
#else
            throw Error("--lm needs a build with libtorch (BLOCKLENS_WITH_TORCH)");
#endif
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench_learned: error: " << e.what() << "\n";
        return 1;
    }
}
