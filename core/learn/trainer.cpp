// The only file of core/learn that includes libtorch (ARCHITECTURE.md: torch stays behind plain
// headers).
#include "learn/trainer.hpp"

#include "util/error.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace blocklens::learn {
namespace {

// Restores the intra-op thread count on exit (the CLI may run in-process, e.g. in tests).
class ThreadScope {
public:
    explicit ThreadScope(int n) : previous_(at::get_num_threads()) { at::set_num_threads(n); }
    ~ThreadScope() { at::set_num_threads(previous_); }
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

private:
    int previous_;
};

std::vector<float> toVector(const at::Tensor& t)
{
    const at::Tensor c = t.contiguous().to(at::kFloat);
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// F1-optimal logit threshold over the candidates (unweighted counts).
double bestThreshold(const std::vector<float>& logits, const std::vector<float>& labels)
{
    std::vector<std::size_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return logits[a] > logits[b]; });
    const double positives = std::count(labels.begin(), labels.end(), 1.0f);
    double tp = 0, best = -1, threshold = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
        tp += labels[order[k]];
        const double predicted = static_cast<double>(k + 1);
        const double f1 = 2 * tp / (predicted + positives);
        const bool distinct = k + 1 == order.size() || logits[order[k + 1]] < logits[order[k]];
        if (distinct && f1 > best) {
            best = f1;
            threshold = k + 1 < order.size() ? 0.5 * (logits[order[k]] + logits[order[k + 1]]) : logits[order[k]] - 1.0;
        }
    }
    return threshold;
}

// One network whose logit is the mean of the members' logits: hidden layers side by side, the
// output layer's weights and bias divided by the number of members. Members without a hidden
// layer (logistic regression) average into one linear layer.
std::vector<DenseLayer> mergeEnsemble(const std::vector<std::vector<DenseLayer>>& members)
{
    const float k = static_cast<float>(members.size());
    if (members.size() == 1)
        return members.front();
    if (members.front().size() == 1) {
        DenseLayer out = members.front().front();
        std::fill(out.weight.begin(), out.weight.end(), 0.0f);
        std::fill(out.bias.begin(), out.bias.end(), 0.0f);
        for (const auto& m : members) {
            for (std::size_t i = 0; i < out.weight.size(); ++i)
                out.weight[i] += m.front().weight[i] / k;
            out.bias[0] += m.front().bias[0] / k;
        }
        return {out};
    }
    DenseLayer hidden, output;
    hidden.in = members.front()[0].in;
    output.out = 1;
    output.bias = {0.0f};
    for (const auto& m : members) {
        hidden.out += m[0].out;
        hidden.weight.insert(hidden.weight.end(), m[0].weight.begin(), m[0].weight.end()); // rows = hidden units
        hidden.bias.insert(hidden.bias.end(), m[0].bias.begin(), m[0].bias.end());
        for (float v : m[1].weight)
            output.weight.push_back(v / k);
        output.bias[0] += m[1].bias[0] / k;
    }
    output.in = hidden.out;
    return {hidden, output};
}

void checkOptions(const TrainingSet& data, const TrainOptions& o)
{
    if (data.rows() == 0 || data.cols == 0)
        throw Error("nothing to train on: no candidates in the training documents");
    if (data.positives == 0)
        throw Error("nothing to learn: the training documents have no reference boundaries at candidates");
    if (o.epochs < 1 || o.batch < 1 || !(o.learningRate > 0))
        throw Error("training needs at least one epoch, a batch of at least one and a positive learning rate");
    if (o.activation != "tanh" && o.activation != "relu")
        throw Error("unknown activation '" + o.activation + "' (known: tanh, relu)");
    if (o.ensemble < 1)
        throw Error("the ensemble needs at least one member");
}

// The columns the model uses: every feature but the excluded and the legacy ones.
std::vector<std::int64_t> keptColumns(const std::vector<std::string_view>& names, const std::vector<std::string>& excluded)
{
    std::vector<std::int64_t> kept;
    for (std::size_t c = 0; c < names.size(); ++c)
        if (std::find(excluded.begin(), excluded.end(), names[c]) == excluded.end() && !isLegacyFeature(names[c]))
            kept.push_back(static_cast<std::int64_t>(c));
    for (const auto& e : excluded)
        if (std::find(names.begin(), names.end(), e) == names.end())
            throw Error("unknown feature '" + e + "' to leave out");
    if (kept.empty())
        throw Error("every feature was left out");
    return kept;
}

// The training set as tensors: x [n, kept] standardised with its own statistics (mean, sd), the
// labels y [n] and the example weights w [n] (finer levels and the positive balance applied,
// mean 1), and where each document's rows begin (TrainingSet keeps a document's rows together).
struct TrainingTensors {
    at::Tensor x, mean, sd, y, w;
    std::vector<std::int64_t> docBegin; // one past the last document at the end
    std::size_t rows() const { return static_cast<std::size_t>(y.size(0)); }
    std::size_t documents() const { return docBegin.size() - 1; }
};

TrainingTensors trainingTensors(const TrainingSet& data, const std::vector<std::int64_t>& kept, const TrainOptions& o)
{
    const std::size_t n = data.rows(), f = data.cols;
    TrainingTensors t;
    at::Tensor x = torch::from_blob(const_cast<float*>(data.x.data()), {static_cast<std::int64_t>(n), static_cast<std::int64_t>(f)},
                                    at::kFloat)
                       .index_select(1, torch::tensor(kept, at::kLong))
                       .clone();
    t.mean = x.mean(0);
    at::Tensor sd = x.std(0, /*unbiased=*/false);
    t.sd = at::where(sd < 1e-6, at::ones_like(sd), sd);
    t.x = (x - t.mean) / t.sd;
    t.y = torch::from_blob(const_cast<float*>(data.label.data()), {static_cast<std::int64_t>(n)}, at::kFloat).clone();
    at::Tensor w = torch::from_blob(const_cast<float*>(data.weight.data()), {static_cast<std::int64_t>(n)}, at::kFloat).clone();
    if (o.finerWeight != 1.0 && data.finer.size() == n) {
        const at::Tensor finer = torch::from_blob(const_cast<std::uint8_t*>(data.finer.data()), {static_cast<std::int64_t>(n)}, at::kByte)
                                     .to(at::kFloat);
        w = w * (1 - finer + finer * static_cast<float>(o.finerWeight));
    }
    {
        const double pos = (w * t.y).sum().item<double>(), neg = (w * (1 - t.y)).sum().item<double>();
        if (pos > 0 && neg > 0)
            w = at::where(t.y > 0.5, w * static_cast<float>(o.positiveBalance * neg / pos), w);
        t.w = w / w.mean(); // mean weight 1: the loss scale (and learning rate) does not depend on n
    }
    for (std::size_t r = 0; r < n; ++r)
        if (r == 0 || data.document[r] != data.document[r - 1])
            t.docBegin.push_back(static_cast<std::int64_t>(r));
    t.docBegin.push_back(static_cast<std::int64_t>(n));
    return t;
}

// The network: one hidden layer (or none: a logistic regression).
torch::nn::Sequential makeNetwork(std::size_t inputs, const TrainOptions& o)
{
    torch::nn::Sequential net;
    if (o.hidden > 0) {
        net->push_back(torch::nn::Linear(static_cast<std::int64_t>(inputs), static_cast<std::int64_t>(o.hidden)));
        if (o.activation == "relu")
            net->push_back(torch::nn::ReLU());
        else
            net->push_back(torch::nn::Tanh());
        net->push_back(torch::nn::Linear(static_cast<std::int64_t>(o.hidden), 1));
    } else {
        net->push_back(torch::nn::Linear(static_cast<std::int64_t>(inputs), 1));
    }
    return net;
}

// AdamW that decays the weights only (biases free).
torch::optim::AdamW makeOptimizer(const torch::nn::Sequential& net, const TrainOptions& o)
{
    std::vector<at::Tensor> decayed, free;
    for (const auto& p : net->named_parameters())
        (p.key().find("bias") != std::string::npos ? free : decayed).push_back(p.value());
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(
                                     torch::optim::AdamWOptions(o.learningRate).weight_decay(o.weightDecay)));
    groups.emplace_back(free, std::make_unique<torch::optim::AdamWOptions>(
                                  torch::optim::AdamWOptions(o.learningRate).weight_decay(0.0)));
    return torch::optim::AdamW(std::move(groups), torch::optim::AdamWOptions(o.learningRate));
}

// A few whole documents: cross-entropy on their candidates plus, per document, each boundary
// against all of the document's other candidates (what oracle-count asks: boundaries must outrank
// the rest of their own document). Undefined when the batch holds no document.
at::Tensor documentBatchLoss(torch::nn::Sequential& net, const TrainingTensors& t, const std::vector<std::size_t>& docOrder,
                             std::size_t b, const TrainOptions& o)
{
    const std::size_t n = t.rows(), docs = t.documents();
    at::Tensor ranking = at::zeros({}, at::kFloat), bce = at::zeros({}, at::kFloat);
    std::size_t used = 0;
    for (std::size_t k = b * o.documentsPerBatch; k < std::min(docs, (b + 1) * o.documentsPerBatch); ++k) {
        const std::size_t d = docOrder[k];
        const std::int64_t r0 = t.docBegin[d], r1 = t.docBegin[d + 1];
        at::Tensor xb = t.x.slice(0, r0, r1);
        if (o.inputNoise > 0)
            xb = xb + torch::randn_like(xb) * o.inputNoise;
        const at::Tensor logits = net->forward(xb).squeeze(1);
        const at::Tensor yb = t.y.slice(0, r0, r1);
        bce = bce + torch::binary_cross_entropy_with_logits(logits, yb, t.w.slice(0, r0, r1), {}, at::Reduction::Sum)
                        / static_cast<double>(n) * static_cast<double>(docs);
        const at::Tensor pos = yb > 0.5;
        const std::int64_t positives = pos.sum().item<std::int64_t>();
        if (positives > 0 && positives < r1 - r0) {
            // Negatives weighted as in the cross-entropy (finer-level boundaries may count less).
            const at::Tensor negW = t.w.slice(0, r0, r1).masked_select(~pos);
            const at::Tensor lseNeg = at::logsumexp(logits.masked_select(~pos) + at::log(negW / negW.mean() + 1e-12), 0);
            ranking = ranking + at::softplus(lseNeg - logits.masked_select(pos)).mean();
        }
        ++used;
    }
    if (used == 0)
        return {};
    return (bce + o.rankingWeight * ranking) / static_cast<double>(used);
}

// Batch b of shuffled rows (`perm`): cross-entropy alone.
at::Tensor rowBatchLoss(torch::nn::Sequential& net, const TrainingTensors& t, const at::Tensor& perm, std::size_t b, const TrainOptions& o)
{
    const std::size_t n = t.rows(), r = b * o.batch;
    const at::Tensor idx = perm.slice(0, static_cast<std::int64_t>(r), static_cast<std::int64_t>(std::min(n, r + o.batch)));
    at::Tensor xb = t.x.index_select(0, idx);
    if (o.inputNoise > 0)
        xb = xb + torch::randn_like(xb) * o.inputNoise;
    const at::Tensor logits = net->forward(xb).squeeze(1);
    return torch::binary_cross_entropy_with_logits(logits, t.y.index_select(0, idx), t.w.index_select(0, idx), {}, at::Reduction::Mean);
}

std::vector<DenseLayer> denseLayers(const torch::nn::Sequential& net)
{
    std::vector<DenseLayer> layers;
    for (const auto& module : net->children()) {
        if (auto* lin = module->as<torch::nn::LinearImpl>()) {
            DenseLayer layer;
            layer.in = static_cast<std::size_t>(lin->weight.size(1));
            layer.out = static_cast<std::size_t>(lin->weight.size(0));
            layer.weight = toVector(lin->weight.detach());
            layer.bias = toVector(lin->bias.detach());
            layers.push_back(std::move(layer));
        }
    }
    return layers;
}

// One member of the ensemble: its own initialisation and shuffling (seed + member), the learning
// rate falling linearly to a tenth.
std::vector<DenseLayer> trainMember(const TrainingTensors& t, const TrainOptions& o, int member, const Progress& progress)
{
    torch::manual_seed(o.seed + static_cast<std::uint64_t>(member));
    std::mt19937_64 rng(o.seed + static_cast<std::uint64_t>(member));
    torch::nn::Sequential net = makeNetwork(static_cast<std::size_t>(t.x.size(1)), o);
    torch::optim::AdamW optimizer = makeOptimizer(net, o);

    const std::size_t n = t.rows(), docs = t.documents();
    std::vector<std::int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::vector<std::size_t> docOrder(docs);
    std::iota(docOrder.begin(), docOrder.end(), 0);
    const std::size_t perEpoch = o.rankingWeight > 0 ? (docs + o.documentsPerBatch - 1) / o.documentsPerBatch
                                                     : (n + o.batch - 1) / o.batch;
    const std::size_t steps = static_cast<std::size_t>(o.epochs) * perEpoch;
    std::size_t step = 0;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        if (progress.stopRequested())
            throw Error("training was stopped");
        std::shuffle(order.begin(), order.end(), rng);
        std::shuffle(docOrder.begin(), docOrder.end(), rng);
        const at::Tensor perm = torch::from_blob(order.data(), {static_cast<std::int64_t>(n)}, at::kLong).clone();
        for (std::size_t b = 0; b < perEpoch; ++b, ++step) {
            const double lr = o.learningRate * (1.0 - 0.9 * static_cast<double>(step) / static_cast<double>(steps));
            for (auto& g : optimizer.param_groups())
                static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
            const at::Tensor loss = o.rankingWeight > 0 ? documentBatchLoss(net, t, docOrder, b, o) : rowBatchLoss(net, t, perm, b, o);
            if (!loss.defined())
                continue;
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        progress(member * o.epochs + epoch + 1, o.ensemble * o.epochs, "epochs");
    }
    return denseLayers(net);
}

} // namespace

BoundaryModel trainModel(const TrainingSet& data, const TrainOptions& o, TrainStats* stats, const Progress& progress)
{
    const auto start = std::chrono::steady_clock::now();
    checkOptions(data, o);
    ThreadScope threads(1);
    const std::size_t n = data.rows(), f = data.cols;

    // With language-model states the examples carry lmFeatureNames() after the others.
    const auto names = allFeatureNames(f > featureNames().size());
    if (names.size() != f)
        throw Error("the training set has " + std::to_string(f) + " feature columns, this build computes "
                    + std::to_string(names.size()));
    const std::vector<std::int64_t> kept = keptColumns(names, o.excluded);
    const TrainingTensors t = trainingTensors(data, kept, o);

    std::vector<std::vector<DenseLayer>> members;
    for (int member = 0; member < o.ensemble; ++member)
        members.push_back(trainMember(t, o, member, progress));

    BoundaryModel m;
    for (std::int64_t c : kept)
        m.features.emplace_back(names[static_cast<std::size_t>(c)]);
    m.mean = toVector(t.mean);
    m.scale = toVector(t.sd);
    m.activation = o.activation;
    m.layers = mergeEnsemble(members);
    {
        torch::NoGradGuard guard;
        FeatureMatrix all;
        all.rows = n;
        all.cols = f;
        all.values = data.x;
        const auto l = m.logits(all);
        const at::Tensor logits = torch::tensor(std::vector<float>(l.begin(), l.end()), at::kFloat);
        const double loss = torch::binary_cross_entropy_with_logits(logits, t.y, t.w, {}, at::Reduction::Mean).item<double>();
        // The threshold on the rounded model the file will hold.
        const BoundaryModel rounded = BoundaryModel::fromJson(nlohmann::json::parse(m.toJson().dump()));
        const auto fileLogits = rounded.logits(all);
        m.scoreOffset = bestThreshold(std::vector<float>(fileLogits.begin(), fileLogits.end()), data.label);
        if (stats) {
            stats->finalLoss = loss;
            stats->rows = n;
            stats->positives = data.positives;
            stats->documents = data.documents;
        }
    }
    if (stats)
        stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return m;
}

} // namespace blocklens::learn
