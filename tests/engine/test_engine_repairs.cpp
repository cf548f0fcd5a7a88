// Repairs of block attention (issue 18; definitions in engine/repair.hpp), on random checkpoints
// of every architecture the engine runs: the properties that pin each definition (its limits equal
// full or plain block-cached attention), cached and uncached runs alike, FLOPs counted here
// independently of engine/flops.cpp, and the one-line errors for bad settings.
#include "engine/make_model.hpp"
#include "engine/metrics.hpp"
#include "engine/model.hpp"
#include "engine/repairs.hpp"
#include "engine/runner.hpp"
#include "support/cli_capture.hpp"
#include "support/error_of.hpp"

#include <QTemporaryDir>
#include <nlohmann/json.hpp>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

using namespace blocklens;
using namespace blocklens::engine;

namespace {

// 30 tokens: context blocks [0,7) [7,8) [8,15) [15,24), query [24,30). Block 1 has one token.
const std::vector<std::int64_t> kBlocks = {0, 7, 8, 15, 24};
constexpr std::int64_t kTokens = 30;

std::vector<std::int32_t> inputIds(std::int32_t bos)
{
    std::vector<std::int32_t> ids = {bos};
    for (std::int32_t i = 1; i < kTokens; ++i)
        ids.push_back((i * 7 + 3) % 64);
    return ids;
}

// Independent FLOP count: every multiply-add of the matrix products is 2 FLOPs.
struct Count {
    const ModelConfig& c;
    double qkvPerTokenLayer() const // q, k, v projections
    {
        const double h = double(c.hiddenSize);
        return 2 * (h * double(c.numHeads * c.headDim) + 2 * h * double(c.numKvHeads * c.headDim));
    }
    double afterQkvPerTokenLayer() const // o projection + gate, up, down
    {
        const double h = double(c.hiddenSize);
        return 2 * (double(c.numHeads * c.headDim) * h + 3 * h * double(c.intermediateSize));
    }
    double linearPerTokenLayer() const { return qkvPerTokenLayer() + afterQkvPerTokenLayer(); }
    double attentionPerPairLayer() const { return 2 * 2 * double(c.numHeads * c.headDim); } // QK^T and PV
    // keys a query at slot q sees from slot `from` on (causal, window)
    std::int64_t keysSeen(std::int64_t q, std::int64_t from) const
    {
        std::int64_t n = 0;
        for (std::int64_t k = from; k <= q; ++k)
            if (!c.slidingWindow || q - k < *c.slidingWindow)
                ++n;
        return n;
    }
    // `tokens` at slots [q0, q0 + tokens) attending from slot `from`, through `layers` layers
    double forward(std::int64_t q0, std::int64_t tokens, std::int64_t from, std::int64_t layers) const
    {
        double pairs = 0;
        for (std::int64_t q = q0; q < q0 + tokens; ++q)
            pairs += double(keysSeen(q, from));
        return double(layers) * (linearPerTokenLayer() * double(tokens) + attentionPerPairLayer() * pairs);
    }
    double atSlots(const std::vector<std::int64_t>& slots, std::int64_t layers) const
    {
        double pairs = 0;
        for (const auto s : slots)
            pairs += double(keysSeen(s, 0));
        return double(layers) * (linearPerTokenLayer() * double(slots.size()) + attentionPerPairLayer() * pairs);
    }
    // Recomputed tokens through `layers` layers, the last of them only up to its q/k/v
    // projections (nothing reads the rest of that layer for them).
    double recomputedAtSlots(const std::vector<std::int64_t>& slots, std::int64_t layers) const
    {
        return atSlots(slots, layers - 1) + qkvPerTokenLayer() * double(slots.size());
    }
    double lmHeadRow() const { return 2 * double(c.hiddenSize) * double(c.vocabSize); }
    // A cold block-cached prefill (every context block encoded, after a sink of `sink` tokens for
    // blocks after the first), the query block and the first token's logits row.
    double blockCachedCold(std::int64_t sink) const
    {
        double f = 0;
        for (std::size_t b = 0; b + 1 < kBlocks.size(); ++b) { // the context blocks
            const std::int64_t len = kBlocks[b + 1] - kBlocks[b], pre = b > 0 ? sink : 0;
            f += forward(0, pre + len, 0, c.numLayers);
        }
        return f + forward(kBlocks.back(), kTokens - kBlocks.back(), 0, c.numLayers) + lmHeadRow();
    }
    // A full prefill that needs only the last position's logits: layers 0 .. L-2 for every token;
    // the last layer's q/k/v for every token (their K/V are kept), its attention, output projection
    // and MLP for the last token alone; the first token's logits row.
    double fullLastRowOnly() const
    {
        const std::int64_t last = kTokens - 1;
        return forward(0, kTokens, 0, c.numLayers - 1) + qkvPerTokenLayer() * double(kTokens) + afterQkvPerTokenLayer() +
               attentionPerPairLayer() * double(keysSeen(last, 0)) + lmHeadRow();
    }
    double blockCachedWarm() const { return forward(kBlocks.back(), kTokens - kBlocks.back(), 0, c.numLayers) + lmHeadRow(); }
};

bool near(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)); }

Repair parse(const std::string& text) { return parseAttentionVariant(text).repair; }

} // namespace

class TestEngineRepairs : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    int counter_ = 0;

    Model makeRandomModel(const QString& arch)
    {
        const auto a = parseArchitecture(arch.toStdString());
        if (!a)
            qFatal("unknown arch");
        MakeModelOptions o;
        const bool qwen3 = *a == Architecture::Qwen3;
        o.config = defaultConfig(*a, 3, 32, 4, qwen3 ? 1 : 2, 64, 64, qwen3 ? 16 : 8);
        if (*a == Architecture::Mistral)
            o.config.slidingWindow = 6;
        if (*a == Architecture::Qwen2)
            o.config.tieWordEmbeddings = true;
        o.seed = 7;
        o.initStd = 0.2;
        const auto dir = std::filesystem::path(tmp_.path().toStdString()) / ("m" + std::to_string(counter_++));
        makeModel(o, dir);
        return Model::load(dir);
    }

    static RunRequest request(const Runner& runner, const AttentionVariant& v, LogitsWanted logits = LogitsWanted::LastBlock)
    {
        RunRequest req;
        req.ids = inputIds(static_cast<std::int32_t>(*runner.model().config().bosTokenId));
        req.blocks = kBlocks;
        req.mode = v.mode;
        req.repair = v.repair;
        req.logits = logits;
        return req;
    }
    static RunResult run(const Runner& runner, const std::string& variant, LogitsWanted logits = LogitsWanted::LastBlock)
    {
        return runner.run(request(runner, parseAttentionVariant(variant), logits));
    }
    // Cold: the block cache emptied first.
    static RunResult cold(const Runner& runner, const std::string& variant)
    {
        runner.cache().clear();
        return run(runner, variant);
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(tmp_.isValid()); }

    void architectures_data()
    {
        QTest::addColumn<QString>("arch");
        QTest::newRow("llama gqa") << "llama";
        QTest::newRow("mistral sliding window") << "mistral";
        QTest::newRow("qwen2 bias tied") << "qwen2";
        QTest::newRow("qwen3 qk-norm mqa") << "qwen3";
    }

    // The limits of each definition: k >= every block, r = 1 -> full; k = 0, r = 0, sink 0 ->
    // block-cached; and a setting in between changes the logits (the repair does something).
    void limitsEqualFullOrBlockCached_data() { architectures_data(); }
    void limitsEqualFullOrBlockCached()
    {
        QFETCH(QString, arch);
        const Runner runner(makeRandomModel(arch));
        const RunResult full = run(runner, "full");
        const RunResult plain = cold(runner, "block-cached");
        auto err = [](const RunResult& a, const RunResult& b) { return relativeError(a.logits.values, b.logits.values); };
        QVERIFY2(err(plain, full) > 1e-3, "block-cached should differ from full on this input");
        for (const std::string v : {"block-cached+recompute-first:9", "block-cached+recompute-first:1000", "block-cached+recompute-frac:1"}) {
            const double e = err(cold(runner, v), full);
            QVERIFY2(e < 1e-4, qPrintable(QString::fromStdString(v) + ": " + QString::number(e)));
        }
        for (const std::string v : {"block-cached+recompute-first:0", "block-cached+recompute-frac:0", "block-cached+sink:0"}) {
            const RunResult r = cold(runner, v);
            QVERIFY2(err(r, plain) < 1e-6, qPrintable(QString::fromStdString(v) + ": " + QString::number(err(r, plain))));
            QVERIFY(r.recomputed.empty());
            QCOMPARE(r.stats.repairFlops.total(), 0.0);
        }
        // (k = 5, r = 0.9: some of slots 19..23, within the mistral window of 6 of the query, are recomputed.)
        for (const std::string v : {"block-cached+recompute-first:5", "block-cached+recompute-frac:0.9", "block-cached+sink:1", "block-cached+sink:bos"}) {
            const double moved = err(cold(runner, v), plain);
            QVERIFY2(moved > 1e-5, qPrintable(QString::fromStdString(v) + " left block-cached unchanged: " + QString::number(moved)));
        }
    }

    // Every variant gives the same logits from an empty cache and from a full one; a block
    // encoded after a sink is its own cache entry.
    void cachedEqualsUncached_data() { architectures_data(); }
    void cachedEqualsUncached()
    {
        QFETCH(QString, arch);
        const Runner runner(makeRandomModel(arch));
        for (const std::string v : {"block-cached", "block-cached+sink:1", "block-cached+sink:4", "block-cached+recompute-first:2",
                                    "block-cached+recompute-frac:0.15", "block-cached+recompute-frac:0.5"}) {
            const RunResult first = cold(runner, v);
            QCOMPARE(first.stats.cacheMisses, 4);
            const RunResult again = run(runner, v);
            QCOMPARE(again.stats.cacheHits, 4);
            QCOMPARE(again.recomputed, first.recomputed);
            const double e = relativeError(again.logits.values, first.logits.values);
            QVERIFY2(e < 1e-6, qPrintable(QString::fromStdString(v) + ": " + QString::number(e)));
        }
        // After sink:4 filled the cache, plain block-cached finds only the first block (the
        // others were cached encoded after the sink, under other keys), and vice versa.
        cold(runner, "block-cached+sink:4");
        QCOMPARE(run(runner, "block-cached").stats.cacheHits, 1);
        QCOMPARE(run(runner, "block-cached+sink:2").stats.cacheHits, 1);
        QCOMPARE(run(runner, "block-cached+sink:4").stats.cacheHits, 4);
    }

    // The FLOPs reported equal the count derived here from the definitions.
    void flopsMatchIndependentCount_data() { architectures_data(); }
    void flopsMatchIndependentCount()
    {
        QFETCH(QString, arch);
        const Runner runner(makeRandomModel(arch));
        const ModelConfig& c = runner.model().config();
        const Count count{c};
        const auto layers = c.numLayers;
        auto check = [&](const std::string& what, double reported, double expected) {
            QVERIFY2(near(reported, expected), qPrintable(QString::fromStdString(what) + ": reported " + QString::number(reported, 'g', 12) +
                                                           ", counted " + QString::number(expected, 'g', 12)));
        };
        // Full: what runs. Only the last logits wanted: the last layer finishes the last row alone;
        // the last block's logits wanted: every row. A full prefill for comparison is the former.
        const RunResult fullLast = run(runner, "full", LogitsWanted::None);
        check("full, last logits only", fullLast.stats.prefillFlops.total(), count.fullLastRowOnly());
        check("full, every row", run(runner, "full", LogitsWanted::LastBlock).stats.prefillFlops.total(),
              count.forward(0, kTokens, 0, layers) + count.lmHeadRow());
        check("full prefill for comparison", fullLast.stats.fullFlops.total(), count.fullLastRowOnly());
        const RunResult plainCold = cold(runner, "block-cached");
        check("block-cached cold", plainCold.stats.prefillFlops.total(), count.blockCachedCold(0));
        check("block-cached: full prefill for comparison", plainCold.stats.fullFlops.total(), count.fullLastRowOnly());

        for (const std::int64_t k : {1, 3, 100}) {
            const std::string v = "block-cached+recompute-first:" + std::to_string(k);
            std::vector<std::int64_t> slots; // the first k tokens of blocks 1 .. m-2
            for (std::size_t b = 1; b + 1 < kBlocks.size(); ++b)
                for (std::int64_t s = kBlocks[b]; s < std::min(kBlocks[b] + k, kBlocks[b + 1]); ++s)
                    slots.push_back(s);
            const RunResult r = cold(runner, v);
            QCOMPARE(r.recomputed, slots);
            check(v + " repair", r.stats.repairFlops.total(), count.recomputedAtSlots(slots, layers));
            check(v + " prefill", r.stats.prefillFlops.total(), count.blockCachedCold(0) + count.recomputedAtSlots(slots, layers));
            check(v + " warm", run(runner, v).stats.prefillFlops.total(), count.blockCachedWarm() + count.recomputedAtSlots(slots, layers));
        }

        std::vector<std::int64_t> candidates; // the tokens of context blocks after the first
        for (std::int64_t s = kBlocks[1]; s < kBlocks.back(); ++s)
            candidates.push_back(s);
        for (const double frac : {0.15, 0.5, 1.0}) {
            const std::string v = "block-cached+recompute-frac:" + QString::number(frac).toStdString();
            const RunResult r = run(runner, v);
            QCOMPARE(static_cast<std::int64_t>(r.recomputed.size()), std::llround(frac * double(candidates.size())));
            QVERIFY(std::is_sorted(r.recomputed.begin(), r.recomputed.end()));
            QVERIFY(std::includes(candidates.begin(), candidates.end(), r.recomputed.begin(), r.recomputed.end()));
            // Probe: layer 0 for every candidate, then layer 1's k/v projection of each; then
            // layers 1 .. L-1 for the chosen ones.
            const double h = double(c.hiddenSize);
            const double probe = count.atSlots(candidates, 1) + 2 * h * double(2 * c.numKvHeads * c.headDim) * double(candidates.size());
            check(v + " repair", r.stats.repairFlops.total(), probe + count.recomputedAtSlots(r.recomputed, layers - 1));
            check(v + " warm prefill", r.stats.prefillFlops.total(), count.blockCachedWarm() + probe + count.recomputedAtSlots(r.recomputed, layers - 1));
        }

        for (const std::int64_t sink : {1, 5}) {
            const std::string v = "block-cached+sink:" + std::to_string(sink);
            const RunResult r = cold(runner, v);
            check(v + " cold", r.stats.prefillFlops.total(), count.blockCachedCold(sink));
            check(v + " cold repair", r.stats.repairFlops.total(), count.blockCachedCold(sink) - count.blockCachedCold(0));
            const RunResult warm = run(runner, v);
            check(v + " warm", warm.stats.prefillFlops.total(), count.blockCachedWarm());
            QCOMPARE(warm.stats.repairFlops.total(), 0.0);
        }
    }

    // Bad settings: one line naming the setting, from the parser, the runner and the CLI.
    void badSettings_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::addColumn<QString>("message");
        QTest::newRow("k < 0") << "block-cached+recompute-first:-1" << "recompute-first:-1: the number of tokens must not be negative";
        QTest::newRow("k not a number") << "block-cached+recompute-first:x" << "recompute-first:x: 'x' is not a whole number";
        QTest::newRow("r > 1") << "block-cached+recompute-frac:1.5" << "recompute-frac:1.5: the fraction must be between 0 and 1";
        QTest::newRow("r < 0") << "block-cached+recompute-frac:-0.1" << "recompute-frac:-0.1: the fraction must be between 0 and 1";
        QTest::newRow("r nan") << "block-cached+recompute-frac:nan" << "recompute-frac:nan: 'nan' is not a number";
        QTest::newRow("unknown repair") << "block-cached+sinks:1" << "unknown repair 'sinks'";
        QTest::newRow("unknown mode") << "cached-block" << "unknown attention mode 'cached-block'";
        QTest::newRow("repair on full") << "full+sink:1" << "is a variant of block-cached, not of full";
        QTest::newRow("no setting") << "block-cached+sink" << "needs its setting after a colon";
    }
    void badSettings()
    {
        QFETCH(QString, mode);
        QFETCH(QString, message);
        const std::string e = test::errorOf([&] { parseAttentionVariant(mode.toStdString()); });
        QVERIFY2(e.find(message.toStdString()) != std::string::npos, e.c_str());
        const auto r = test::runCliCaptured({"logits", "--model", "unused", "--ids", "1,2", "--mode", mode.toStdString(), "--out", "x.npy"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.find("--mode: ") != std::string::npos && r.err.find(message.toStdString()) != std::string::npos, r.err.c_str());
        QCOMPARE(std::count(r.err.begin(), r.err.end(), '\n'), 1);
    }

    // Settings that parse but do not fit the input: refused by the runner, naming them.
    void settingsThatDoNotFit()
    {
        const Runner runner(makeRandomModel("llama"));
        auto errorFor = [&](const std::string& v, std::vector<std::int32_t> ids) {
            return test::errorOf([&] {
                RunRequest req;
                req.ids = std::move(ids);
                req.blocks = kBlocks;
                req.mode = AttentionMode::BlockCached;
                req.repair = parse(v);
                runner.run(req);
            });
        };
        const auto ids = inputIds(1);
        std::string e = errorFor("block-cached+sink:8", ids);
        QVERIFY2(e.find("sink:8: the sink is longer than the first block (7 tokens)") != std::string::npos, e.c_str());
        auto noBos = ids;
        noBos[0] = 5;
        e = errorFor("block-cached+sink:bos", noBos);
        QVERIFY2(e.find("sink:bos: the input does not start with the model's BOS token (id 1)") != std::string::npos, e.c_str());
        // A context shorter than the sink: one context block of 3 tokens, then the query.
        e = test::errorOf([&] {
            RunRequest req;
            req.ids = ids;
            req.blocks = {0, 3};
            req.mode = AttentionMode::BlockCached;
            req.repair = parse("block-cached+sink:5");
            runner.run(req);
        });
        QVERIFY2(e.find("sink:5: the sink is longer than the context (3 tokens before the query block)") != std::string::npos, e.c_str());
        // A repair given to another mode through the API.
        e = test::errorOf([&] {
            RunRequest req;
            req.ids = ids;
            req.mode = AttentionMode::Full;
            req.repair = parse("block-cached+recompute-first:2");
            runner.run(req);
        });
        QVERIFY2(e.find("is a variant of block-cached, not of full") != std::string::npos, e.c_str());
    }

    // compare --sweep: every setting of the family against full, each a run in the workspace; the
    // limits of each family land on block-cached and full, and a sink that does not fit is skipped.
    void compareSweep()
    {
        const auto model = std::filesystem::path(tmp_.path().toStdString()) / "sweep-model";
        auto made = test::runCliCaptured({"make-model", "--arch", "llama", "--layers", "3", "--hidden", "32", "--heads", "4", "--kv-heads", "2",
                                          "--vocab", "64", "--seed", "7", "--init-std", "0.2", "--out", model.string()});
        QVERIFY2(made.code == 0, made.err.c_str());
        std::string ids;
        for (std::int64_t i = 0; i < kTokens; ++i)
            ids += (i ? "," : "") + std::to_string(i == 0 ? 1 : (i * 7 + 3) % 64);
        const auto db = std::filesystem::path(tmp_.path().toStdString()) / "sweep.db";
        const auto r = test::runCliCaptured({"compare", "--model", model.string(), "--ids", ids, "--block-starts", "0,7,8,15,24",
                                             "--max-new-tokens", "3", "--sweep", "--db", db.string(), "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        const auto j = nlohmann::json::parse(r.out);
        const auto& settings = j["settings"];
        QCOMPARE(settings.size(), repairSweepFamily().size());
        std::map<std::string, nlohmann::json> by;
        for (const auto& s : settings)
            by[s["mode"].get<std::string>()] = s;
        QVERIFY2(by["block-cached+sink:16"]["skipped"].get<std::string>().find("longer than the first block (7 tokens)") != std::string::npos,
                 by["block-cached+sink:16"].dump().c_str());
        const double plainKl = by["block-cached+recompute-first:0"]["mean_kl"].get<double>();
        QVERIFY(plainKl > 1e-4);
        for (const std::string limit : {"block-cached+sink:0", "block-cached+recompute-frac:0"})
            QVERIFY(std::abs(by[limit]["mean_kl"].get<double>() - plainKl) < 1e-9);
        for (const std::string limit : {"block-cached+recompute-first:64", "block-cached+recompute-frac:1"}) {
            QVERIFY2(by[limit]["mean_kl"].get<double>() < 1e-8, by[limit].dump().c_str());
            QCOMPARE(by[limit]["top1_agreement"].get<double>(), 1.0);
            QVERIFY(by[limit]["extra_flops_share_warm"].get<double>() > 0);
        }
        QCOMPARE(by["block-cached+recompute-first:0"]["extra_flops_share_warm"].get<double>(), 0.0);
        QVERIFY(by["block-cached+sink:4"]["extra_flops_share_cold"].get<double>() > 0);
        QCOMPARE(by["block-cached+sink:4"]["extra_flops_share_warm"].get<double>(), 0.0);
        // The reference and every setting that ran are runs of the workspace, named by variant.
        const auto runs = test::runCliCaptured({"runs", "--db", db.string(), "--json"});
        QVERIFY2(runs.code == 0, runs.err.c_str());
        std::multiset<std::string> modes;
        for (const auto& run : nlohmann::json::parse(runs.out))
            modes.insert(run["attention_mode"].get<std::string>());
        QCOMPARE(modes.size(), repairSweepFamily().size()); // 13 settings + the reference (sink:16 skipped)
        QCOMPARE(modes.count("full"), std::size_t(1));
        QCOMPARE(modes.count("block-cached+recompute-frac:0.15"), std::size_t(1));
        QCOMPARE(modes.count("block-cached+sink:16"), std::size_t(0));
    }

    void namesRoundTrip()
    {
        for (const std::string v : {"full", "block", "block-cached", "block-cached+sink:4", "block-cached+sink:bos",
                                    "block-cached+recompute-first:16", "block-cached+recompute-frac:0.15", "block-cached+recompute-frac:1"})
            QCOMPARE(variantName(parseAttentionVariant(v)), v);
        QCOMPARE(repairSweepFamily().size(), std::size_t(14));
    }
};

QTEST_GUILESS_MAIN(TestEngineRepairs)
#include "test_engine_repairs.moc"
