// blocklens-cli train-segmenter --form cut-markers: trains the paper's segmenter form on the CPU
// (or --device cuda) in a bounded time (--time-budget), prints progress and the loss, and stops cleanly on Ctrl-C
// (the checkpoint of the steps done is still written); then compares the checkpoint, loaded as the
// `cut-markers` segmenter, with the default segmenter on the held-out documents.
#include "cli/train_cut_markers.hpp"

#include "cli/json_output.hpp"
#include "cli/progress_printer.hpp"
#include "usecases/cut_marker_training.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <stop_token>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

std::atomic<bool> interrupted{false};
extern "C" void onInterrupt(int) { interrupted.store(true); }

json number(double v) { return std::isnan(v) ? json(nullptr) : json(std::round(v * 1e4) / 1e4); }

std::vector<fs::path> pathList(const std::string& list)
{
    std::vector<fs::path> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        if (comma > start)
            out.emplace_back(list.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

std::int64_t atLeast(const ArgSpec::Parsed& a, const char* name, std::int64_t min)
{
    const std::int64_t v = a.integer(name);
    if (v < min)
        throw UsageError{std::string("--") + name + " must be at least " + std::to_string(min) + ", got " + a.value(name)};
    return v;
}

} // namespace

ArgSpec& addCutMarkerTrainOptions(ArgSpec& spec)
{
    return spec.option("extra-data", "FILES", "cut-markers: comma-separated datasets trained on in full (never held out), "
                                              "e.g. the tools/segcorpus corpus")
        .option("init", "DIR", "cut-markers: start from this tied llama checkpoint and its tokenizer.json "
                               "(e.g. resources/models/demo); without it, a random model (--layers ...)")
        .option("init-layers", "N", "cut-markers: keep the first N layers of --init (0: all)", "0")
        .option("tokenizer", "PATH", "cut-markers without --init: tokenizer.json of the random model")
        .option("layers", "N", "cut-markers without --init: decoder layers", "2")
        .option("hidden-size", "H", "cut-markers without --init: hidden size", "128")
        .option("heads", "A", "cut-markers without --init: attention heads (head_dim = H / A)", "4")
        .option("kv-heads", "K", "cut-markers without --init: key/value heads", "2")
        .option("intermediate", "I", "cut-markers without --init: SwiGLU MLP size", "384")
        .option("markers", "M", "cut-markers: <cut j> tokens added to a tokenizer without them", "256")
        .option("window-tokens", "N", "cut-markers: approx-tokens per window, as the segmenter will cut documents", "1024")
        .option("steps", "N", "cut-markers: optimizer steps (at most, with --time-budget)", "2000")
        .option("batch", "B", "cut-markers: windows per step", "4")
        .option("warmup", "N", "cut-markers: linear warm-up steps", "20")
        .option("time-budget", "SECONDS", "cut-markers: cut the step count to what fits in this time (0: off)", "0")
        .option("threads", "N", "cut-markers: CPU threads for libtorch (0: its default)", "0")
        .flag("no-eval", "cut-markers: skip the held-out comparison");
}

int trainCutMarkers(const ArgSpec::Parsed& a, Io& io)
{
    if (!a.has("data"))
        throw UsageError{"--data DATASET.jsonl is required (the split applies to it)"};
    if (!a.has("out"))
        throw UsageError{"--out DIR is required (where the checkpoint is written)"};
    if (a.has("db") || a.has("lm"))
        throw UsageError{"--db and --lm go with --form learned"};
    if (a.has("dtype"))
        throw UsageError{"--dtype goes with --lm; --form cut-markers trains in float32 (on --device)"};
    learn::CutMarkerRunOptions o;
    o.data = a.value("data");
    if (a.has("extra-data"))
        o.extraData = pathList(a.value("extra-data"));
    o.split = a.number("split");
    if (!(o.split > 0.0 && o.split <= 1.0))
        throw UsageError{"--split must be in (0, 1], got " + a.value("split")};
    o.seed = static_cast<std::uint64_t>(a.integer("seed"));
    o.evaluate = !a.flag("no-eval");
    learn::CutMarkerTrainOptions& t = o.train;
    t.level = static_cast<int>(atLeast(a, "level", 1));
    t.seed = static_cast<std::uint64_t>(a.has("train-seed") ? a.integer("train-seed") : a.integer("seed"));
    if (a.has("init")) {
        t.init = fs::path(a.value("init"));
        t.initLayers = atLeast(a, "init-layers", 0);
    } else {
        if (!a.has("tokenizer"))
            throw UsageError{"give --init DIR (a checkpoint to start from) or --tokenizer PATH (a random model)"};
        t.tokenizer = fs::path(a.value("tokenizer"));
        engine::ModelConfig& c = t.config;
        c.arch = engine::Architecture::Llama;
        c.tieWordEmbeddings = true;
        c.numLayers = atLeast(a, "layers", 1);
        c.hiddenSize = atLeast(a, "hidden-size", 2);
        c.numHeads = atLeast(a, "heads", 1);
        c.numKvHeads = atLeast(a, "kv-heads", 1);
        c.intermediateSize = atLeast(a, "intermediate", 1);
        if (c.hiddenSize % c.numHeads != 0)
            throw UsageError{"--hidden-size must be a multiple of --heads"};
        c.headDim = c.hiddenSize / c.numHeads;
        c.maxPositions = 4096;
        c.rmsNormEps = 1e-5;
    }
    t.markers = static_cast<std::size_t>(atLeast(a, "markers", 3));
    t.windowTokens = static_cast<std::size_t>(atLeast(a, "window-tokens", 16));
    t.steps = atLeast(a, "steps", 1);
    t.batch = atLeast(a, "batch", 1);
    t.warmup = atLeast(a, "warmup", 0);
    t.timeBudgetS = a.number("time-budget");
    if (!(t.timeBudgetS >= 0))
        throw UsageError{"--time-budget must be >= 0 seconds"};
    t.threads = static_cast<int>(atLeast(a, "threads", 0));
    t.device = a.value("device");
    t.learningRate = a.has("learning-rate") ? a.number("learning-rate") : 1e-3;
    t.weightDecay = a.number("weight-decay");
    if (!(t.learningRate > 0) || !(t.weightDecay >= 0))
        throw UsageError{"--learning-rate must be > 0 and --weight-decay >= 0"};
    const fs::path outDir = a.value("out");

    // Ctrl-C stops training at the next step; the checkpoint of the steps done is written.
    std::stop_source stop;
    interrupted.store(false);
    const auto previous = std::signal(SIGINT, onInterrupt);
    std::unique_ptr<ProgressPrinter> printer;
    learn::CutMarkerRunResult r;
    try {
        r = learn::runCutMarkerTraining(
            o, outDir,
            [&](const std::string& stage) {
                printer.reset();
                printer = std::make_unique<ProgressPrinter>(io.err, stage);
                Progress p = printer->progress();
                p.stop = stop.get_token();
                ProgressFn report = std::move(p.report);
                p.report = [&stop, report](std::int64_t done, std::int64_t total, std::string_view what) {
                    if (interrupted.load())
                        stop.request_stop();
                    if (report)
                        report(done, total, what);
                };
                return p;
            },
            [&](const learn::CutMarkerLogEntry& e) {
                char line[160];
                std::snprintf(line, sizeof line, "step %lld  lr %.2e  loss %.4f  %.0f s\n", static_cast<long long>(e.step),
                              e.learningRate, e.loss, e.seconds);
                io.err << line;
            });
    } catch (...) {
        std::signal(SIGINT, previous);
        throw;
    }
    std::signal(SIGINT, previous);
    printer.reset();

    const learn::CutMarkerTrainResult& tr = r.training;
    json report;
    report["form"] = "cut-markers";
    report["checkpoint"] = outDir.string();
    report["documents"] = tr.documents;
    report["held_out_documents"] = r.heldOut.documents.size();
    report["windows"] = tr.windows;
    report["labelled_markers"] = tr.labelled;
    report["positives"] = tr.positives;
    report["tokens"] = tr.tokens;
    report["parameters"] = tr.parameters;
    report["steps"] = tr.steps;
    report["stopped"] = tr.stopped;
    report["training_seconds"] = number(tr.seconds);
    report["first_loss"] = number(tr.firstLoss);
    report["final_loss"] = number(tr.finalLoss);
    report["bias_shift"] = number(tr.biasShift);
    if (r.onHeldOut) {
        json groups = json::array();
        for (std::size_t i = 0; i < r.onHeldOut->learned.groups.size(); ++i) {
            const auto& g = r.onHeldOut->learned.groups[i];
            const auto& h = r.onHeldOut->baseline.groups[i];
            groups.push_back({{"category", g.category}, {"variant", g.variant}, {"documents", g.documents},
                              {"pk", number(g.pk)}, {"baseline_pk", number(h.pk)}, {"windowdiff", number(g.windowDiff)},
                              {"f1_t0", number(g.exact.f1())}});
        }
        report["protocol"] = "oracle-count";
        report["baseline"] = std::string(segment::kDefaultSegmenter);
        report["held_out_groups"] = groups;
        report["evaluation_seconds"] = number(r.evaluationSeconds);
        json ids = json::array();
        for (const auto& d : r.heldOut.documents)
            ids.push_back(d.meta().id);
        report["held_out_ids"] = ids;
    }
    {
        const fs::path rp = outDir / "report.json";
        std::ofstream out(rp, std::ios::binary | std::ios::trunc);
        out << jsonText(report) << "\n";
        if (!out)
            throw Error("cannot write the report", {.file = rp.string()});
    }
    if (a.flag("json")) {
        io.out << jsonText(report) << "\n";
        return 0;
    }
    io.out << "trained " << tr.steps << " steps" << (tr.stopped ? " (stopped)" : "") << " on " << tr.windows
           << " windows of " << tr.documents << " documents (" << tr.labelled << " markers, " << tr.positives
           << " cuts): loss " << tr.firstLoss << " -> " << tr.finalLoss << ", " << tr.parameters << " parameters, "
           << tr.seconds << " s\ncheckpoint: " << outDir.string() << "\n";
    if (r.onHeldOut) {
        io.out << "\nheld-out documents, oracle-count, level " << o.train.level << ", Pk (lower is better):\n";
        char line[200];
        for (std::size_t i = 0; i < r.onHeldOut->learned.groups.size(); ++i) {
            const auto& g = r.onHeldOut->learned.groups[i];
            const auto& h = r.onHeldOut->baseline.groups[i];
            std::snprintf(line, sizeof line, "%-10s %-11s %5zu  cut-markers %.3f  %s %.3f\n", g.category.c_str(),
                          g.variant.c_str(), g.documents, g.pk, segment::kDefaultSegmenter.data(), h.pk);
            io.out << line;
        }
    }
    return 0;
}

} // namespace blocklens::cli
