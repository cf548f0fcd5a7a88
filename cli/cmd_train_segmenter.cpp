// blocklens-cli train-segmenter --data DATASET.jsonl [--db PATH] --out DIR: trains the learned
// segmenter (core/learn) on a dataset's reference boundaries and on the corrections annotators
// stored in a workspace, writes DIR/learned.json and DIR/report.json, and prints training and
// held-out figures next to the best non-learned segmenter on the same held-out documents.
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "cli/input.hpp"
#include "cli/progress_printer.hpp"
#include "cli/train_cut_markers.hpp"
#include "learn/examples.hpp"
#include "learn/learned_scorer.hpp"
#include "cli/engine_args.hpp"
#include "learn/lm_states.hpp"
#include "learn/trainer.hpp"
#include "usecases/training_run.hpp"
#include "segment/evaluation.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <ostream>
#include <unordered_map>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

json number(double v) { return std::isnan(v) ? json(nullptr) : json(std::round(v * 1e4) / 1e4); }

using Comparison = learn::SegmenterComparison;

json comparisonJson(const Comparison& c)
{
    json groups = json::array();
    for (std::size_t i = 0; i < c.learned.groups.size(); ++i) {
        const auto& g = c.learned.groups[i];
        const auto& h = c.baseline.groups[i];
        groups.push_back({{"category", g.category}, {"variant", g.variant}, {"documents", g.documents},
                          {"pk", number(g.pk)}, {"windowdiff", number(g.windowDiff)},
                          {"f1_t0", number(g.exact.f1())}, {"f1_t1", number(g.tolerant.f1())},
                          {"baseline_pk", number(h.pk)}, {"baseline_windowdiff", number(h.windowDiff)},
                          {"baseline_f1_t0", number(h.exact.f1())}});
    }
    return groups;
}

void printComparison(std::ostream& out, const Comparison& c)
{
    char line[200];
    std::snprintf(line, sizeof line, "%-10s %-11s %5s %8s %8s %8s %8s %8s\n", "category", "variant", "docs",
                  "learned", segment::kDefaultSegmenter.data(), "WD lrn", "WD hyb", "F1@0 lrn");
    out << line;
    for (std::size_t i = 0; i < c.learned.groups.size(); ++i) {
        const auto& g = c.learned.groups[i];
        const auto& h = c.baseline.groups[i];
        std::snprintf(line, sizeof line, "%-10s %-11s %5zu %8.3f %8.3f %8.3f %8.3f %8.3f%s\n", g.category.c_str(),
                      g.variant.c_str(), g.documents, g.pk, h.pk, g.windowDiff, h.windowDiff, g.exact.f1(),
                      g.pk < h.pk ? "" : "   (not better)");
        out << line;
    }
}

} // namespace

Command trainSegmenterCommand()
{
    ArgSpec spec("train-segmenter --data DATASET.jsonl [--db PATH] [--split F] [--seed S] --out DIR [--json]\n"
                 "       train-segmenter --form cut-markers --data DATASET.jsonl [--extra-data FILE,...] [--init DIR] "
                 "[--time-budget S] --out DIR",
                 "Train the learned segmenter on a dataset (and on corrections stored in a workspace); write DIR/learned.json. "
                 "With --form cut-markers: train the paper's segmenter form, a token classifier over <cut j> markers "
                 "(a checkpoint for `cut-markers`).");
    spec.option("form", "NAME", "learned (features + small network) or cut-markers (token-classification transformer)", "learned")
        .option("data", "DATASET.jsonl", "documents with reference boundaries (record or chunks form)")
        .option("db", "PATH", "also train on the workspace's corrected or reviewed dataset rows")
        .option("split", "F", "share of the dataset's source texts to train on; the rest is held out and reported "
                              "(1: train on everything)", "0.5")
        .option("seed", "S", "seed of the split, initialisation and shuffling", "1")
        .option("train-seed", "S", "seed of initialisation and shuffling only (default: --seed)")
        .option("out", "DIR", "output directory (created): learned.json and report.json")
        .option("level", "L", "reference granularity: boundaries with level <= L", "2")
        .option("hidden", "N", "hidden units (0: logistic regression)", "16")
        .option("epochs", "N", "passes over the training candidates", "30")
        .option("ensemble", "K", "train K networks (seeds S, S+1, ...) and average their logits", "4")
        .option("weight-decay", "W", "AdamW weight decay", "0.01")
        .option("learning-rate", "R", "AdamW learning rate (decays linearly to a tenth)", "0.003")
        .option("input-noise", "S", "Gaussian noise on the standardised features while training", "0.1")
        .option("finer-weight", "W", "weight, as negatives, of candidates that carry a boundary finer than --level "
                                           "on a line without a heading shape", "0")
        .option("ranking", "W", "weight of the per-document ranking loss (0: cross-entropy only)", "1")
        .option("leave-out", "NAMES", "comma-separated features the model does not use (see learn/features.hpp)")
        .option("lm", "DIR", "also language-model features: hidden states of this model (engine checkpoint with "
                             "tokenizer.json) around each candidate; the model then needs it at inference")
        .option("lm-window", "N", "with --lm: tokens per model pass", "1024")
        .flag("replace-invalid", "replace invalid UTF-8 with U+FFFD instead of failing")
        .flag("json", "print the report as JSON");
    addCutMarkerTrainOptions(spec);
    addDeviceOptions(spec);
    return {"train-segmenter", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (a.value("form") == "cut-markers")
                    return trainCutMarkers(a, io);
                if (a.value("form") != "learned")
                    throw UsageError{"--form must be learned or cut-markers, got " + a.value("form")};
                using clock = std::chrono::steady_clock;
                const auto start = clock::now();
                if (!a.has("data") && !a.has("db"))
                    throw UsageError{"give --data DATASET.jsonl and/or --db PATH (what to train on)"};
                if (!a.has("out"))
                    throw UsageError{"--out DIR is required (where learned.json is written)"};
                const double split = a.number("split");
                if (!(split > 0.0 && split <= 1.0))
                    throw UsageError{"--split must be in (0, 1], got " + a.value("split")};
                const std::int64_t seed = a.integer("seed");
                const std::int64_t level = a.integer("level");
                if (level < 1 || level > 9)
                    throw UsageError{"--level must be between 1 and 9, got " + std::to_string(level)};
                learn::TrainOptions to;
                const std::int64_t hidden = a.integer("hidden"), epochs = a.integer("epochs");
                if (hidden < 0 || hidden > 1024)
                    throw UsageError{"--hidden must be between 0 and 1024"};
                if (epochs < 1 || epochs > 10000)
                    throw UsageError{"--epochs must be between 1 and 10000"};
                to.hidden = static_cast<std::size_t>(hidden);
                to.epochs = static_cast<int>(epochs);
                const std::int64_t ensemble = a.integer("ensemble");
                if (ensemble < 1 || ensemble > 64)
                    throw UsageError{"--ensemble must be between 1 and 64"};
                to.ensemble = static_cast<int>(ensemble);
                to.weightDecay = a.number("weight-decay");
                to.learningRate = a.number("learning-rate");
                to.inputNoise = a.number("input-noise");
                to.rankingWeight = a.number("ranking");
                to.finerWeight = a.number("finer-weight");
                if (!(to.finerWeight >= 0))
                    throw UsageError{"--finer-weight must be >= 0"};
                to.seed = static_cast<std::uint64_t>(a.has("train-seed") ? a.integer("train-seed") : seed);
                if (a.has("leave-out")) {
                    std::string list = a.value("leave-out");
                    std::size_t start = 0;
                    while (start <= list.size()) {
                        const std::size_t comma = std::min(list.find(',', start), list.size());
                        if (comma > start)
                            to.excluded.push_back(list.substr(start, comma - start));
                        start = comma + 1;
                    }
                }
                // The small network trains on the CPU; --device and --dtype place the --lm model only.
                if (!a.has("lm") && (a.value("device") != "cpu" || a.has("dtype")))
                    throw UsageError{"--device and --dtype go with --lm or --form cut-markers; --form learned trains on the CPU"};
                if (!(to.weightDecay >= 0) || !(to.learningRate > 0) || !(to.inputNoise >= 0) || !(to.rankingWeight >= 0))
                    throw UsageError{"--weight-decay and --input-noise must be >= 0, --learning-rate > 0"};

                // Output directory first: fail before the slow part.
                const fs::path outDir = a.value("out");
                std::error_code ec;
                fs::create_directories(outDir, ec);
                if (ec || !fs::is_directory(outDir))
                    throw Error("cannot create the output directory: " + ec.message(), {.file = outDir.string()});

                learn::TrainingRunOptions ro;
                if (a.has("data"))
                    ro.data = fs::path(a.value("data"));
                if (a.has("db"))
                    ro.db = store::resolveWorkspacePath(a.value("db"));
                ro.split = split;
                ro.seed = static_cast<std::uint64_t>(seed);
                ro.level = static_cast<int>(level);
                ro.replaceInvalid = a.flag("replace-invalid");
                ro.train = to;
                if (a.has("lm")) {
                    const std::int64_t window = a.integer("lm-window");
                    if (window < 16)
                        throw UsageError{"--lm-window must be at least 16"};
                    const auto lm = learn::EngineLmSource::load(a.value("lm"), readLoadOptions(a, window + window / 4),
                                                                static_cast<std::size_t>(window));
                    ro.lm = lm;
                    ro.lmDescription = fs::path(a.value("lm")).filename().string() + " (" + lm->model().fingerprint().substr(0, 12)
                                       + ", window " + std::to_string(window) + ")";
                }
                std::unique_ptr<ProgressPrinter> printer;
                learn::TrainingRunResult run = learn::runTraining(ro, [&](const std::string& stage) {
                    printer.reset(); // finishes the previous stage's line
                    printer = std::make_unique<ProgressPrinter>(io.err, stage);
                    return printer->progress();
                });
                printer.reset();
                const learn::BoundaryModel& model = run.model;
                const learn::TrainStats& stats = run.stats;
                const Dataset& train = run.train;
                const Dataset& heldOut = run.heldOut;
                const std::size_t fromData = run.fromData, fromDb = run.fromDb, dbRows = run.dbRows, replaced = run.replaced;
                const Comparison& onTrain = *run.onTrain;
                const std::optional<Comparison>& onHeldOut = run.onHeldOut;
                const json& info = model.training;
                const fs::path modelPath = outDir / learn::kModelFileName;
                model.save(modelPath);

                json report = info;
                report["model"] = modelPath.string();
                report["protocol"] = "oracle-count";
                report["baseline"] = std::string(segment::kDefaultSegmenter);
                report["train_groups"] = comparisonJson(onTrain);
                if (onHeldOut) {
                    report["held_out_groups"] = comparisonJson(*onHeldOut);
                    json ids = json::array();
                    for (const auto& d : heldOut.documents)
                        ids.push_back(d.meta().id);
                    report["held_out_ids"] = ids;
                }
                report["seconds"] = std::round(std::chrono::duration<double>(clock::now() - start).count() * 10) / 10;
                {
                    const fs::path rp = outDir / "report.json";
                    std::ofstream out(rp, std::ios::binary | std::ios::trunc);
                    out << jsonText(report) << "\n";
                    out.flush();
                    if (!out)
                        throw Error("cannot write the report", {.file = rp.string()});
                }
                if (a.flag("json")) {
                    io.out << jsonText(report) << "\n";
                    return 0;
                }
                io.out << "trained on " << train.documents.size() << " documents (" << fromData << " from the dataset, "
                       << fromDb << " corrected in the workspace";
                if (a.has("db"))
                    io.out << " out of " << dbRows << " rows";
                io.out << "), " << stats.rows << " candidates, " << stats.positives << " boundaries; held out "
                       << heldOut.documents.size() << " documents (split " << split << ", seed " << seed << ")\n";
                if (replaced > 0)
                    io.out << replaced << " dataset document(s) replaced by their corrected version\n";
                char line[200];
                std::snprintf(line, sizeof line, "training: %.1f s, loss %.4f, %zu parameters, score offset %.3f\n",
                              stats.seconds, stats.finalLoss, model.parameterCount(), model.scoreOffset);
                io.out << line;
                io.out << "model: " << modelPath.string() << " (" << fs::file_size(modelPath) << " bytes)\n\n";
                io.out << "training documents, oracle-count, level " << level << ", Pk (lower is better):\n";
                printComparison(io.out, onTrain);
                if (onHeldOut) {
                    io.out << "\nheld-out documents, oracle-count, level " << level << ", Pk (lower is better):\n";
                    printComparison(io.out, *onHeldOut);
                }
                return 0;
            }};
}

} // namespace blocklens::cli
