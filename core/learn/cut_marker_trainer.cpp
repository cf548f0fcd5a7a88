// Training of the cut-marker segmenter (learn/cut_marker_trainer.hpp). Includes libtorch; the
// marking, windows and labels come from the same code the scorer uses at inference.
#include "learn/cut_marker_trainer.hpp"

#include "engine/cut_marker_scorer.hpp"
#include "engine/safetensors.hpp"
#include "learn/examples.hpp"
#include "segment/metrics.hpp"
#include "segment/token_grid.hpp"
#include "util/error.hpp"

#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>

namespace blocklens::learn {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Parameters by Hugging Face name (LlamaForTokenClassification), float32.
using Params = std::map<std::string, at::Tensor>;

std::string layerName(std::int64_t i, const char* rest) { return "model.layers." + std::to_string(i) + "." + rest; }
constexpr const char* kLayerTensors[] = {"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                                         "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                                         "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
                                         "mlp.down_proj.weight"};

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

// The shapes of every tensor of the classifier, in the order the checkpoint is written.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> layout(const engine::ModelConfig& c)
{
    const std::int64_t h = c.hiddenSize;
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> out{{"model.embed_tokens.weight", {c.vocabSize, h}}};
    for (std::int64_t i = 0; i < c.numLayers; ++i) {
        const std::vector<std::vector<std::int64_t>> shapes = {
            {h}, {c.qDim(), h}, {c.kvDim(), h}, {c.kvDim(), h}, {h, c.qDim()}, {h},
            {c.intermediateSize, h}, {c.intermediateSize, h}, {h, c.intermediateSize}};
        for (std::size_t k = 0; k < shapes.size(); ++k)
            out.push_back({layerName(i, kLayerTensors[k]), shapes[k]});
    }
    out.push_back({"model.norm.weight", {h}});
    out.push_back({"score.weight", {2, h}});
    out.push_back({"score.bias", {2}});
    return out;
}

// Random parameters: norms 1, matrices N(0, std) (residual outputs scaled by 1/sqrt(2 layers)), head bias 0.
Params randomParams(const engine::ModelConfig& c, double std)
{
    Params p;
    const double outStd = std / std::sqrt(2.0 * static_cast<double>(c.numLayers));
    for (const auto& [name, shape] : layout(c)) {
        if (shape.size() == 1)
            p[name] = name == "score.bias" ? at::zeros(shape) : at::ones(shape);
        else
            p[name] = at::randn(shape) * ((name.ends_with("o_proj.weight") || name.ends_with("down_proj.weight")) ? outStd : std);
    }
    return p;
}

at::Tensor readFloat(const engine::CheckpointFiles& files, const std::string& name, std::vector<std::int64_t> shape,
                     const fs::path& dir)
{
    const auto located = files.at(name);
    if (located.tensor->shape != shape)
        throw Error("shape does not match config.json", {.file = dir.string(), .item = name});
    std::vector<float> v = located.file->toFloat(*located.tensor);
    return at::from_blob(v.data(), shape, at::kFloat).clone();
}

// Parameters of `target` from checkpoint `dir` (config `source`): its first target.numLayers
// layers; embedding rows beyond the source's vocabulary (the markers) start at the mean row plus
// noise; the head is read when the source has one, else random (randomParams).
Params initFromCheckpoint(const fs::path& dir, const engine::ModelConfig& source, const engine::ModelConfig& target,
                          double std)
{
    const auto files = engine::CheckpointFiles::open(dir);
    Params p = randomParams(target, std);
    for (auto& [name, t] : p) {
        if (name == "model.embed_tokens.weight") {
            const at::Tensor base = readFloat(files, name, {source.vocabSize, source.hiddenSize}, dir);
            const std::int64_t extra = target.vocabSize - source.vocabSize;
            if (extra > 0) {
                const at::Tensor rows = base.mean(0, true).expand({extra, source.hiddenSize}) + at::randn({extra, source.hiddenSize}) * std;
                t = at::cat({base, rows}, 0);
            } else {
                t = base;
            }
        } else if (name.starts_with("score.")) {
            if (source.numLabels == 2)
                t = readFloat(files, name, t.sizes().vec(), dir);
        } else {
            t = readFloat(files, name, t.sizes().vec(), dir);
        }
    }
    return p;
}

// HF LlamaRMSNorm in float32.
at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w, double eps)
{
    return w * (x * at::rsqrt(x.pow(2).mean(-1, true) + eps));
}

at::Tensor rotateHalf(const at::Tensor& x)
{
    const std::int64_t half = x.size(-1) / 2;
    return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// ids [B, T] int64 -> logits [B, T, 2] float32, causal (padding at the end of a row changes
// nothing before it).
at::Tensor classify(const engine::ModelConfig& c, const Params& p, const at::Tensor& ids)
{
    const std::int64_t B = ids.size(0), T = ids.size(1), H = c.numHeads, K = c.numKvHeads, d = c.headDim;
    const at::Tensor invFreq = 1.0 / at::pow(c.rope.theta, at::arange(0, d, 2, at::kFloat) / static_cast<double>(d)); // [d/2]
    const at::Tensor freqs = at::outer(at::arange(T, at::kFloat), invFreq);                                        // [T, d/2]
    const at::Tensor emb = at::cat({freqs, freqs}, -1);                                                            // [T, d]
    const at::Tensor cos = emb.cos(), sin = emb.sin();
    const at::Tensor mask = at::ones({T, T}, at::kBool).triu(1);
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    at::Tensor x = at::embedding(p.at("model.embed_tokens.weight"), ids); // [B, T, hidden]
    for (std::int64_t i = 0; i < c.numLayers; ++i) {
        const at::Tensor h = rmsNorm(x, p.at(layerName(i, "input_layernorm.weight")), c.rmsNormEps);
        at::Tensor q = at::linear(h, p.at(layerName(i, "self_attn.q_proj.weight"))).view({B, T, H, d}).transpose(1, 2); // [B, H, T, d]
        at::Tensor k = at::linear(h, p.at(layerName(i, "self_attn.k_proj.weight"))).view({B, T, K, d}).transpose(1, 2); // [B, K, T, d]
        at::Tensor v = at::linear(h, p.at(layerName(i, "self_attn.v_proj.weight"))).view({B, T, K, d}).transpose(1, 2); // [B, K, T, d]
        q = q * cos + rotateHalf(q) * sin;
        k = k * cos + rotateHalf(k) * sin;
        if (K != H) { // query head j uses kv head j / (H / K)
            k = k.repeat_interleave(H / K, 1);
            v = v.repeat_interleave(H / K, 1);
        }
        const at::Tensor probs = at::softmax((at::matmul(q, k.transpose(-2, -1)) * scale).masked_fill(mask, -INFINITY), -1); // [B, H, T, T]
        const at::Tensor merged = at::matmul(probs, v).transpose(1, 2).reshape({B, T, H * d});
        x = x + at::linear(merged, p.at(layerName(i, "self_attn.o_proj.weight")));
        const at::Tensor h2 = rmsNorm(x, p.at(layerName(i, "post_attention_layernorm.weight")), c.rmsNormEps);
        x = x + at::linear(at::silu(at::linear(h2, p.at(layerName(i, "mlp.gate_proj.weight"))))
                               * at::linear(h2, p.at(layerName(i, "mlp.up_proj.weight"))),
                           p.at(layerName(i, "mlp.down_proj.weight")));
    }
    x = rmsNorm(x, p.at("model.norm.weight"), c.rmsNormEps);
    return at::linear(x, p.at("score.weight"), p.at("score.bias")); // [B, T, 2]
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

void writeCheckpoint(const fs::path& dir, const engine::ModelConfig& c, const Params& p)
{
    engine::ModelConfig stored = c;
    stored.dtype = engine::DType::F32;
    stored.numLabels = 2;
    {
        std::ofstream cfg(dir / "config.json", std::ios::binary | std::ios::trunc);
        cfg << stored.toJson();
        if (!cfg)
            throw Error("cannot write", {.file = (dir / "config.json").string()});
    }
    std::vector<at::Tensor> host;
    std::vector<engine::TensorToWrite> tensors;
    for (const auto& [name, shape] : layout(c)) {
        host.push_back(p.at(name).detach().to(at::kFloat).contiguous());
        const at::Tensor& t = host.back();
        tensors.push_back({name, engine::DType::F32, t.sizes().vec(),
                           std::span<const std::byte>(static_cast<const std::byte*>(t.data_ptr()),
                                                      static_cast<std::size_t>(t.numel()) * 4)});
    }
    engine::writeSafetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
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
    torch::manual_seed(o.seed);
    Params params = o.init ? initFromCheckpoint(*o.init, source, c, o.initStd) : randomParams(c, o.initStd);
    std::vector<at::Tensor> decay, noDecay, all;
    for (auto& [name, t] : params) {
        t.set_requires_grad(true);
        result.parameters += t.numel();
        (t.dim() >= 2 ? decay : noDecay).push_back(t);
        all.push_back(t);
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(o.learningRate).betas({0.9, 0.95}).weight_decay(o.weightDecay)));
    groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                     torch::optim::AdamWOptions(o.learningRate).betas({0.9, 0.95}).weight_decay(0.0)));
    torch::optim::AdamW optimizer(std::move(groups));

    // Class weights: both classes the same total weight (or 1 each).
    const double negatives = static_cast<double>(result.labelled - result.positives);
    const double positiveWeight = o.balance ? negatives / static_cast<double>(result.positives) : 1.0;
    const at::Tensor classWeight = at::tensor({1.0f, static_cast<float>(positiveWeight)});

    std::mt19937_64 rng(o.seed);
    std::vector<std::size_t> order(examples.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    std::size_t cursor = 0;
    std::int64_t total = o.steps;
    const std::int64_t warmup = std::min(o.warmup, total);
    auto lrAt = [&](std::int64_t step) { // step counts from 1
        if (step <= warmup)
            return o.learningRate * static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
        const double f = std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
        return o.learningRate * (o.minLrRatio + (1.0 - o.minLrRatio) * 0.5 * (1.0 + std::cos(M_PI * f)));
    };

    std::vector<std::pair<double, std::int64_t>> lateScores; // (logit margin, label) of the last fifth
    const auto t0 = Clock::now();
    double lossSum = 0;
    std::int64_t lossCount = 0;
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
        const double lr = lrAt(step);
        for (auto& g : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
        optimizer.zero_grad();
        const at::Tensor logits = classify(c, params, ids).reshape({-1, 2}).index_select(0, at::tensor(flatAt, at::kLong)); // [labelled, 2]
        const at::Tensor target = at::tensor(labels, at::kLong);
        const at::Tensor loss = at::nll_loss(at::log_softmax(logits, -1), target, classWeight);
        loss.backward();
        torch::nn::utils::clip_grad_norm_(all, o.gradClip);
        optimizer.step();
        lossSum += loss.item<double>();
        ++lossCount;
        result.steps = step;
        if (o.calibrate && step * 5 > total * 4) {
            const at::Tensor margin = (logits.select(1, 1) - logits.select(1, 0)).detach().to(at::kDouble).contiguous();
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
            e.loss = lossSum / static_cast<double>(std::max<std::int64_t>(1, lossCount));
            e.seconds = secondsSince(t0);
            if (result.log.empty())
                result.firstLoss = e.loss;
            result.finalLoss = e.loss;
            lossSum = 0;
            lossCount = 0;
            result.log.push_back(e);
            if (onLog)
                onLog(e);
        }
        progress(step, total, "steps");
    }
    result.seconds = secondsSince(t0);

    // Calibration: the best-F1 threshold of the late training scores becomes P(cut) = 0.5.
    if (o.calibrate && !lateScores.empty()) {
        c10::NoGradGuard noGrad;
        result.biasShift = -bestF1Logit(std::move(lateScores));
        params.at("score.bias")[1].add_(result.biasShift);
    }
    writeCheckpoint(outDir, c, params);
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
    const engine::CutMarkerTokenizer marking(Tokenizer::fromFile(dir / "tokenizer.json"));
    const engine::CutMarkerPass pass = marking.mark(text, cutBytes);
    const auto files = engine::CheckpointFiles::open(dir);
    Params p;
    for (const auto& [name, shape] : layout(c))
        p[name] = readFloat(files, name, shape, dir);
    const auto n = static_cast<std::int64_t>(pass.ids.size());
    at::Tensor ids = at::empty({1, n}, at::kLong);
    std::copy(pass.ids.begin(), pass.ids.end(), ids.data_ptr<std::int64_t>());
    const at::Tensor logits = classify(c, p, ids)[0].to(at::kDouble).contiguous(); // [n, 2]
    const double* l = logits.data_ptr<double>();
    std::vector<double> probability(pass.markerPositions.size(), 0.0);
    for (std::size_t j = 0; j + 1 < pass.markerPositions.size(); ++j) {
        const std::int64_t r = pass.markerPositions[j + 1];
        probability[j] = 1.0 / (1.0 + std::exp(l[2 * r] - l[2 * r + 1]));
    }
    return probability;
}

} // namespace blocklens::learn
