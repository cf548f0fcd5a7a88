// Training of the cut-marker segmenter (learn/cut_marker_trainer.hpp). Includes libtorch; the
// marking, windows and labels come from the same code the scorer uses at inference, and the
// network is the engine's forward pass with the score head (lm::detail::TrainableLm), so training
// computes what engine::TokenClassifier runs.
#include "learn/cut_marker_trainer.hpp"

#include "engine/cut_marker_scorer.hpp"
#include "learn/examples.hpp"
#include "learn/lm/torch/trainable_lm.hpp"
#include "learn/lm/torch/training_loop.hpp"
#include "segment/metrics.hpp"
#include "segment/token_grid.hpp"
#include "util/error.hpp"

#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

namespace blocklens::learn {
namespace {

namespace fs = std::filesystem;
using lm::detail::secondsSince;
using lm::detail::TrainableLm;
using Clock = lm::detail::TrainingClock;

void checkConfig(const engine::ModelConfig& c, const std::string& where)
{
    if (c.arch != engine::Architecture::Llama || !c.tieWordEmbeddings || c.qkvBias || c.oBias || c.mlpBias || c.qkNorm ||
        c.rope.type != "default")
        throw Error("the cut-marker trainer builds tied llama models without biases and with default RoPE", {.file = where});
    if (c.numLayers < 1 || c.hiddenSize < 1 || c.numHeads < 1 || c.numKvHeads < 1 || c.numHeads % c.numKvHeads != 0
        || c.headDim % 2 != 0 || c.intermediateSize < 1)
        throw Error("layers, hidden size, heads and intermediate size must be positive, heads a multiple of kv heads "
                    "and head_dim even",
                    {.file = where});
}

// One training window: the marked text's ids and, at the positions P(cut) is read from, the labels.
struct Example {
    std::vector<std::int64_t> ids;
    std::vector<std::int64_t> at;  // positions (the marker after each decided candidate)
    std::vector<std::int64_t> label;
};

// The windows of a document exactly as engine::CutMarkerScorer::score makes them, labelled.
void documentWindows(const Document& doc, int level, const engine::CutMarkerTokenizer& marking, std::size_t windowTokens,
                     std::vector<Example>& out)
{
    using namespace segment;
    std::vector<std::size_t> boundaryOffsets;
    for (const auto& b : doc.reference())
        if (b.level <= level)
            boundaryOffsets.push_back(b.offset);
    const TextLayout textLayout(doc);
    const auto shapes = lineShapes(textLayout);
    const auto candidates = findCandidates(textLayout, shapes, {engine::kCutMarkerRules, {}});
    if (candidates.empty())
        return;
    std::vector<std::size_t> offsets;
    for (const auto& c : candidates)
        offsets.push_back(c.offset);
    offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end()); // sorted, one per offset already
    std::vector<std::uint8_t> positive(offsets.size(), 0);
    for (std::size_t c : lineCarriers(textLayout, candidates, boundaryLines(doc.lineStarts(), boundaryOffsets)))
        if (c != static_cast<std::size_t>(-1))
            positive[static_cast<std::size_t>(std::lower_bound(offsets.begin(), offsets.end(), candidates[c].offset) - offsets.begin())] = 1;
    const TokenGrid grid = TokenGrid::approximate(doc);
    const std::string_view text = doc.text();
    for (const auto& w : engine::cutMarkerWindows(doc, grid, offsets, marking.markers(), windowTokens)) {
        const engine::CutMarkerPass pass = marking.mark(text.substr(w.byteBegin, w.byteEnd - w.byteBegin), w.cutBytes);
        Example e;
        e.ids.assign(pass.ids.begin(), pass.ids.end());
        for (std::size_t j = 0; j < w.decided.size(); ++j) {
            if (w.decided[j] == engine::kNoCandidate)
                continue;
            const auto slot = static_cast<std::size_t>(std::lower_bound(offsets.begin(), offsets.end(), w.decided[j]) - offsets.begin());
            e.at.push_back(pass.markerPositions[j + 1]);
            e.label.push_back(positive[slot]);
        }
        if (!e.at.empty())
            out.push_back(std::move(e));
    }
}

// The base tokenizer with `<cut 0>` .. `<cut markers-1>` appended as added special tokens (ids
// from its vocabulary size on), unless it has them already; written to `path`.
void writeMarkerTokenizer(const fs::path& base, std::size_t markers, const fs::path& path)
{
    std::ifstream in(base, std::ios::binary);
    if (!in)
        throw Error("cannot read the tokenizer", {.file = base.string()});
    nlohmann::ordered_json t = nlohmann::ordered_json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!t.is_object() || !t.contains("model") || !t["model"].is_object())
        throw Error("not a tokenizer.json (no \"model\" object)", {.file = base.string()});
    const Tokenizer existing = Tokenizer::fromFile(base);
    if (!existing.tokenToId(engine::cutMarker(0))) {
        if (markers < 3)
            throw Error("at least 3 cut markers are needed (<cut 0> before the text, one per cut, one at the end)");
        if (!t.contains("added_tokens") || !t["added_tokens"].is_array())
            t["added_tokens"] = nlohmann::ordered_json::array();
        const auto first = static_cast<std::int64_t>(existing.vocabSize());
        for (std::size_t j = 0; j < markers; ++j)
            t["added_tokens"].push_back({{"id", first + static_cast<std::int64_t>(j)}, {"content", engine::cutMarker(j)},
                                         {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                                         {"normalized", false}, {"special", true}});
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << t.dump();
    if (!out)
        throw Error("cannot write", {.file = path.string()});
}

// The threshold with the best boundary F1 over (P(cut), label) pairs, as a logit; 0 when there
// is no positive.
double bestF1Logit(std::vector<std::pair<double, std::int64_t>> scored)
{
    const auto positives = std::count_if(scored.begin(), scored.end(), [](const auto& s) { return s.second == 1; });
    if (positives == 0)
        return 0;
    std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    double best = -1, at = 0;
    std::int64_t tp = 0;
    for (std::size_t i = 0; i < scored.size(); ++i) {
        tp += scored[i].second;
        const double f1 = 2.0 * static_cast<double>(tp) / (static_cast<double>(i + 1) + static_cast<double>(positives));
        if (f1 > best && (i + 1 == scored.size() || scored[i + 1].first < scored[i].first)) {
            best = f1;
            at = i + 1 < scored.size() ? 0.5 * (scored[i].first + scored[i + 1].first) : scored[i].first;
        }
    }
    return at;
}

} // namespace

CutMarkerTrainResult trainCutMarkerModel(const Dataset& train, const CutMarkerTrainOptions& o, const fs::path& outDir,
                                         const std::function<void(const CutMarkerLogEntry&)>& onLog,
                                         const Progress& progress)
{
    if (o.steps < 1 || o.batch < 1 || o.windowTokens < 16 || o.level < 1)
        throw Error("steps and batch must be at least 1, the window at least 16 tokens, the level at least 1");
    if (!(o.learningRate > 0) || !(o.weightDecay >= 0) || !(o.timeBudgetS >= 0))
        throw Error("the learning rate must be > 0, the weight decay and time budget >= 0");
    // The device first: a CUDA request on a CPU-only build fails before the slow part.
    at::Device device(at::kCPU);
    try {
        device = lm::detail::trainingDevice(o.device);
    } catch (const Error& e) {
        throw Error(e.message(), {.item = "device"});
    }
    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec || !fs::is_directory(outDir))
        throw Error("cannot create the output directory: " + ec.message(), {.file = outDir.string()});

    // Model config and tokenizer: from the init checkpoint or given.
    engine::ModelConfig source, c;
    fs::path baseTokenizer;
    if (o.init) {
        source = engine::ModelConfig::fromFile(*o.init / "config.json");
        checkConfig(source, (*o.init / "config.json").string());
        if (o.initLayers < 0 || o.initLayers > source.numLayers)
            throw Error("the init checkpoint has " + std::to_string(source.numLayers) + " layers; cannot keep "
                        + std::to_string(o.initLayers), {.file = (*o.init / "config.json").string()});
        c = source;
        if (o.initLayers > 0)
            c.numLayers = o.initLayers;
        baseTokenizer = *o.init / "tokenizer.json";
    } else {
        if (!o.tokenizer)
            throw Error("a random start needs a tokenizer.json (or start from a checkpoint)");
        c = o.config;
        checkConfig(c, "the model options");
        baseTokenizer = *o.tokenizer;
    }
    const fs::path tokenizerPath = outDir / "tokenizer.json";
    writeMarkerTokenizer(baseTokenizer, o.markers, tokenizerPath);
    const engine::CutMarkerTokenizer marking(Tokenizer::fromFile(tokenizerPath));
    c.vocabSize = std::max<std::int64_t>(c.vocabSize, static_cast<std::int64_t>(marking.tokenizer().vocabSize()));
    c.numLabels = 2;
    c.dtype = engine::DType::F32;

    // Examples: every window of every training document.
    CutMarkerTrainResult result;
    std::vector<Example> examples;
    for (const Document& doc : train.documents) {
        const std::size_t before = examples.size();
        documentWindows(doc, o.level, marking, o.windowTokens, examples);
        result.documents += examples.size() > before ? 1 : 0;
        if (progress.stopRequested())
            throw Error("stopped");
    }
    for (const Example& e : examples) {
        result.labelled += e.at.size();
        result.positives += static_cast<std::size_t>(std::count(e.label.begin(), e.label.end(), 1));
        result.tokens += static_cast<std::int64_t>(e.ids.size());
    }
    result.windows = examples.size();
    if (result.positives == 0)
        throw Error("no candidate of the training documents carries a reference boundary of level <= "
                    + std::to_string(o.level) + ": nothing to learn");
    for (const Example& e : examples)
        for (std::int64_t id : e.ids)
            if (id < 0 || id >= c.vocabSize)
                throw Error("token id " + std::to_string(id) + " is outside the model's vocabulary of " + std::to_string(c.vocabSize));

    if (o.threads > 0)
        at::set_num_threads(o.threads);
    // The init checkpoint's first layers, its embedding grown by the marker rows, a new head
    // (or its own, when it is a 2-way classifier); else random.
    // Initialised on the CPU's generator either way (TrainableLm draws there and moves the leaves), so
    // the start does not depend on the device.
    const TrainableLm model = o.init ? TrainableLm::initializeFrom(*o.init, source, c, o.initStd, o.seed, device)
                                     : TrainableLm::initialize(c, o.initStd, o.seed, device);
    const std::vector<at::Tensor> all = model.parameters();
    result.parameters = model.parameterCount();
    torch::optim::AdamW optimizer = lm::detail::adamW(all, o.learningRate, 0.9, 0.95, o.weightDecay);

    // Class weights: both classes the same total weight (or 1 each).
    const double negatives = static_cast<double>(result.labelled - result.positives);
    const double positiveWeight = o.balance ? negatives / static_cast<double>(result.positives) : 1.0;
    const at::Tensor classWeight = at::tensor({1.0f, static_cast<float>(positiveWeight)}).to(device);

    std::mt19937_64 rng(o.seed);
    std::vector<std::size_t> order(examples.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    std::size_t cursor = 0;
    std::int64_t total = o.steps;
    const std::int64_t warmup = std::min(o.warmup, total);

    std::vector<std::pair<double, std::int64_t>> lateScores; // (logit margin, label) of the last fifth
    const auto t0 = Clock::now();
    lm::detail::LossSinceLog lossSinceLog;
    for (std::int64_t step = 1; step <= total; ++step) {
        if (progress.stopRequested()) {
            result.stopped = true;
            break;
        }
        // A batch of windows, padded at the end (causal: padding changes nothing before it).
        std::vector<const Example*> batch;
        std::size_t longest = 0;
        for (std::int64_t b = 0; b < o.batch; ++b) {
            if (cursor == order.size()) {
                std::shuffle(order.begin(), order.end(), rng);
                cursor = 0;
            }
            batch.push_back(&examples[order[cursor++]]);
            longest = std::max(longest, batch.back()->ids.size());
        }
        at::Tensor ids = at::zeros({static_cast<std::int64_t>(batch.size()), static_cast<std::int64_t>(longest)}, at::kLong);
        std::vector<std::int64_t> flatAt, labels;
        for (std::size_t b = 0; b < batch.size(); ++b) {
            std::copy(batch[b]->ids.begin(), batch[b]->ids.end(), ids[static_cast<std::int64_t>(b)].data_ptr<std::int64_t>());
            for (std::size_t k = 0; k < batch[b]->at.size(); ++k) {
                flatAt.push_back(static_cast<std::int64_t>(b * longest) + batch[b]->at[k]);
                labels.push_back(batch[b]->label[k]);
            }
        }
        const double lr = lm::detail::warmupCosineLr(step, warmup, total, o.learningRate, o.minLrRatio);
        lm::detail::beginStep(optimizer, lr);
        const at::Tensor logits = model.logits(ids.to(device), std::vector<lm::WindowBlocks>(batch.size())) // [B, longest, 2], causal
                                      .reshape({-1, 2})
                                      .index_select(0, at::tensor(flatAt, at::kLong).to(device)); // [labelled, 2]
        const at::Tensor target = at::tensor(labels, at::kLong).to(device);
        const at::Tensor loss = at::nll_loss(at::log_softmax(logits, -1), target, classWeight);
        lossSinceLog.add(lm::detail::finishStep(optimizer, loss, all, o.gradClip));
        result.steps = step;
        if (o.calibrate && step * 5 > total * 4) {
            const at::Tensor margin = (logits.select(1, 1) - logits.select(1, 0)).detach().to(at::kCPU, at::kDouble).contiguous();
            for (std::size_t k = 0; k < labels.size(); ++k)
                lateScores.emplace_back(margin.data_ptr<double>()[k], labels[k]);
        }
        // Time budget: the step count is cut once, from the time of steps 3..12 (after warm-up of the allocator).
        if (o.timeBudgetS > 0 && step == std::min<std::int64_t>(12, total) && total == o.steps && step < total) {
            const double perStep = secondsSince(t0) / static_cast<double>(step);
            const double left = o.timeBudgetS - secondsSince(t0);
            total = std::min(o.steps, step + std::max<std::int64_t>(0, static_cast<std::int64_t>(left / perStep)));
        }
        const bool last = step == total;
        if (step % std::max<std::int64_t>(1, o.logEvery) == 0 || last || step == 1) {
            CutMarkerLogEntry e;
            e.step = step;
            e.learningRate = lr;
            e.loss = lossSinceLog.take();
            e.seconds = secondsSince(t0);
            if (result.log.empty())
                result.firstLoss = e.loss;
            result.finalLoss = e.loss;
            lm::detail::appendLog(result.log, e, onLog);
        }
        progress(step, total, "steps");
    }
    result.seconds = secondsSince(t0);

    // Calibration: the best-F1 threshold of the late training scores becomes P(cut) = 0.5.
    if (o.calibrate && !lateScores.empty()) {
        c10::NoGradGuard noGrad;
        result.biasShift = -bestF1Logit(std::move(lateScores));
        model.scoreHead().bias[1].add_(result.biasShift);
    }
    model.write(outDir, std::nullopt); // the marker tokenizer is there already
    nlohmann::ordered_json info;
    info["window_tokens"] = o.windowTokens;
    info["markers"] = marking.markers();
    info["level"] = o.level;
    info["training"] = {{"documents", result.documents}, {"windows", result.windows}, {"labelled", result.labelled},
                        {"positives", result.positives}, {"tokens", result.tokens}, {"steps", result.steps},
                        {"batch", o.batch}, {"learning_rate", o.learningRate}, {"seconds", result.seconds},
                        {"first_loss", result.firstLoss}, {"final_loss", result.finalLoss},
                        {"bias_shift", result.biasShift}, {"parameters", result.parameters},
                        {"init", o.init ? o.init->string() : std::string("random")}, {"init_layers", o.initLayers},
                        {"seed", o.seed}, {"torch", TORCH_VERSION}};
    std::ofstream out(outDir / engine::kCutMarkerInfoFile, std::ios::binary | std::ios::trunc);
    out << info.dump(2) << "\n";
    if (!out)
        throw Error("cannot write", {.file = (outDir / engine::kCutMarkerInfoFile).string()});
    return result;
}

std::vector<double> trainerCutProbabilities(const fs::path& dir, std::string_view text, std::span<const std::size_t> cutBytes)
{
    c10::NoGradGuard noGrad;
    const auto c = engine::ModelConfig::fromFile(dir / "config.json");
    checkConfig(c, (dir / "config.json").string());
    if (c.numLabels != 2)
        throw Error("not a cut-marker checkpoint: it needs a 2-way score head (num_labels 2)", {.file = (dir / "config.json").string()});
    const engine::CutMarkerTokenizer marking(Tokenizer::fromFile(dir / "tokenizer.json"));
    const engine::CutMarkerPass pass = marking.mark(text, cutBytes);
    const TrainableLm model = TrainableLm::load(dir, at::Device(at::kCPU));
    const auto n = static_cast<std::int64_t>(pass.ids.size());
    at::Tensor ids = at::empty({1, n}, at::kLong);
    std::copy(pass.ids.begin(), pass.ids.end(), ids.data_ptr<std::int64_t>());
    const at::Tensor logits = model.logits(ids, {lm::WindowBlocks{}})[0].to(at::kDouble).contiguous(); // [n, 2]
    const double* l = logits.data_ptr<double>();
    std::vector<double> probability(pass.markerPositions.size(), 0.0);
    for (std::size_t j = 0; j + 1 < pass.markerPositions.size(); ++j) {
        const std::int64_t r = pass.markerPositions[j + 1];
        probability[j] = 1.0 / (1.0 + std::exp(l[2 * r] - l[2 * r + 1]));
    }
    return probability;
}

} // namespace blocklens::learn
