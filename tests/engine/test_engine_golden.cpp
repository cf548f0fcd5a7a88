// The engine against Hugging Face transformers: every fixture model (tests/fixtures/engine), in
// full, block and block-cached mode, matches the golden logits to a relative error under 1e-4 at
// every position and picks the same top-1 token everywhere; greedy continuations match too.
#include "engine/metrics.hpp"
#include "engine/model.hpp"
#include "engine/npy.hpp"
#include "engine/runner.hpp"
#include "support/temp_files.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <fstream>

using namespace blocklens;
using namespace blocklens::engine;

namespace {

constexpr double kTolerance = 1e-4;

struct Golden {
    std::filesystem::path dir;
    std::vector<std::int32_t> ids;
    std::vector<std::int64_t> blocks;
    std::vector<std::int32_t> greedyFull, greedyBlock;
    NpyArray full, block;
};

Golden loadGolden(const std::string& name)
{
    Golden g;
    g.dir = test::fixturesDir() / "engine" / name;
    std::ifstream in(g.dir / "golden.json");
    const auto j = nlohmann::json::parse(in);
    g.ids = j["ids"].get<std::vector<std::int32_t>>();
    g.blocks = j["blocks"].get<std::vector<std::int64_t>>();
    g.greedyFull = j["greedy_full"].get<std::vector<std::int32_t>>();
    g.greedyBlock = j["greedy_block"].get<std::vector<std::int32_t>>();
    g.full = readNpy(g.dir / "logits_full.npy");
    g.block = readNpy(g.dir / "logits_block.npy");
    return g;
}

struct Agreement {
    double worstRelError = 0;
    std::int64_t worstRow = -1;
    std::int64_t top1Mismatches = 0;
};

// Row by row: ||ours - ref|| / ||ref|| and argmax.
Agreement agreement(const Logits& ours, const NpyArray& ref)
{
    Agreement a;
    const std::int64_t vocab = ref.shape[1];
    for (std::int64_t r = 0; r < ref.shape[0]; ++r) {
        const std::span<const float> o(ours.row(r), static_cast<std::size_t>(vocab));
        const std::span<const float> g(ref.data.data() + r * vocab, static_cast<std::size_t>(vocab));
        const double e = relativeError(o, g);
        if (e > a.worstRelError) {
            a.worstRelError = e;
            a.worstRow = r;
        }
        a.top1Mismatches += std::max_element(o.begin(), o.end()) - o.begin() != std::max_element(g.begin(), g.end()) - g.begin();
    }
    return a;
}

} // namespace

class TestEngineGolden : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesTransformers_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("mode");
        QTest::addColumn<QString>("device");
        std::vector<std::string> devices = {"cpu"};
        if (cudaAvailable())
            devices.push_back("cuda"); // fp32 on the GPU too (the GPU machine runs this)
        for (const auto& d : devices)
            for (const char* f : {"llama3_gqa", "llama_tied_bias", "mistral_window", "qwen2_bias", "qwen3_headdim"})
                for (const char* m : {"full", "block", "block-cached"})
                    QTest::newRow((std::string(f) + " " + m + " " + d).c_str()) << QString(f) << QString(m) << QString::fromStdString(d);
    }
    void matchesTransformers()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, mode);
        QFETCH(QString, device);
        const Golden g = loadGolden(fixture.toStdString());
        const auto attention = *parseAttentionMode(mode.toStdString());
        const NpyArray& ref = attention == AttentionMode::Full ? g.full : g.block;
        QCOMPARE(ref.shape, (std::vector<std::int64_t>{static_cast<std::int64_t>(g.ids.size()), ref.shape[1]}));

        Runner runner(Model::load(g.dir, {.device = device.toStdString(), .dtype = DType::F32}));
        QCOMPARE(runner.model().config().vocabSize, ref.shape[1]);
        RunRequest req;
        req.ids = g.ids;
        req.blocks = g.blocks;
        req.mode = attention;
        req.maxNewTokens = static_cast<std::int64_t>(g.greedyFull.size());
        const RunResult r = runner.run(req);
        QCOMPARE(r.logits.rows, ref.shape[0]);
        const Agreement a = agreement(r.logits, ref);
        qInfo("%s %s %s: max relative error %.3g (row %lld), top-1 mismatches %lld", qPrintable(fixture), qPrintable(mode), qPrintable(device),
              a.worstRelError, static_cast<long long>(a.worstRow), static_cast<long long>(a.top1Mismatches));
        QVERIFY2(a.worstRelError < kTolerance, qPrintable(QString::number(a.worstRelError)));
        QCOMPARE(a.top1Mismatches, std::int64_t(0));
        QCOMPARE(r.generated, attention == AttentionMode::Full ? g.greedyFull : g.greedyBlock);
    }

    // Full attention with only the last position's logits asked for: the last layer computes that
    // row alone (runner.cpp, prefillFull) and must still write every row's K/V, which the greedy
    // tokens generated after it read.
    void fullLastTokenOnly_data()
    {
        QTest::addColumn<QString>("fixture");
        for (const char* f : {"llama3_gqa", "llama_tied_bias", "mistral_window", "qwen2_bias", "qwen3_headdim"})
            QTest::newRow(f) << QString(f);
    }
    void fullLastTokenOnly()
    {
        QFETCH(QString, fixture);
        const Golden g = loadGolden(fixture.toStdString());
        Runner runner(Model::load(g.dir));
        RunRequest req;
        req.ids = g.ids;
        req.blocks = g.blocks;
        req.mode = AttentionMode::Full;
        req.logits = LogitsWanted::LastToken;
        req.maxNewTokens = static_cast<std::int64_t>(g.greedyFull.size());
        const RunResult r = runner.run(req);
        QCOMPARE(r.logits.rows, std::int64_t(1));
        QCOMPARE(r.logits.firstRow, std::int64_t(g.ids.size()) - 1);
        const std::size_t v = static_cast<std::size_t>(g.full.shape[1]);
        const double e = relativeError(std::span(r.logits.values), std::span(g.full.data).subspan((g.ids.size() - 1) * v, v));
        qInfo("%s: last row %.3g", qPrintable(fixture), e);
        QVERIFY2(e < kTolerance, qPrintable(QString::number(e)));
        QCOMPARE(r.generated, g.greedyFull);
    }

    // The goldens tell the modes apart (a test that cannot fail proves nothing).
    void goldensAreDiscriminative()
    {
        for (const char* f : {"llama3_gqa", "llama_tied_bias", "mistral_window", "qwen2_bias", "qwen3_headdim"}) {
            const Golden g = loadGolden(f);
            const std::size_t lastBlockStart = static_cast<std::size_t>(g.blocks.back() * g.full.shape[1]);
            const double d = relativeError(std::span(g.block.data).subspan(lastBlockStart), std::span(g.full.data).subspan(lastBlockStart));
            QVERIFY2(d > 1e-2, f);
        }
    }

    void blockCachedEqualsBlockAndHitsTheCache()
    {
        const Golden g = loadGolden("qwen3_headdim");
        BlockKvCache cache;
        Runner runner(Model::load(g.dir), &cache);
        RunRequest req;
        req.ids = g.ids;
        req.blocks = g.blocks;
        req.mode = AttentionMode::Block;
        const RunResult block = runner.run(req);
        req.mode = AttentionMode::BlockCached;
        const RunResult cold = runner.run(req);
        QCOMPARE(cold.stats.cacheMisses, std::int64_t(g.blocks.size() - 1));
        QCOMPARE(cold.stats.cacheHits, std::int64_t(0));
        const RunResult warm = runner.run(req);
        QCOMPARE(warm.stats.cacheHits, std::int64_t(g.blocks.size() - 1));
        QCOMPARE(warm.stats.cacheMisses, std::int64_t(0));
        QVERIFY(warm.stats.savedFlops.total() > 0);
        QVERIFY(warm.stats.prefillFlops.total() < cold.stats.prefillFlops.total());
        const double coldVsBlock = relativeError(cold.logits.values, block.logits.values);
        const double warmVsCold = relativeError(warm.logits.values, cold.logits.values);
        qInfo("block-cached vs block: %.3g; warm vs cold cache: %.3g", coldVsBlock, warmVsCold);
        QVERIFY(coldVsBlock < 1e-5);
        QCOMPARE(warmVsCold, 0.0);
        const auto s = cache.stats();
        QCOMPARE(s.entries, std::int64_t(g.blocks.size() - 1));
        QCOMPARE(s.hits, std::int64_t(g.blocks.size() - 1));
        QVERIFY(s.hostBytes > 0);

        // The same blocks in another order: the cached KV is re-rotated to new offsets.
        std::vector<std::int32_t> swapped(g.ids.begin() + g.blocks[1], g.ids.begin() + g.blocks[2]);
        swapped.insert(swapped.end(), g.ids.begin(), g.ids.begin() + g.blocks[1]);
        swapped.insert(swapped.end(), g.ids.begin() + g.blocks[2], g.ids.end());
        RunRequest moved = req;
        moved.ids = swapped;
        moved.blocks = {0, g.blocks[2] - g.blocks[1], g.blocks[2]};
        moved.blocks.insert(moved.blocks.end(), g.blocks.begin() + 3, g.blocks.end());
        const RunResult movedCached = runner.run(moved);
        QCOMPARE(movedCached.stats.cacheHits, std::int64_t(moved.blocks.size() - 1));
        moved.mode = AttentionMode::Block;
        const RunResult movedBlock = runner.run(moved);
        QVERIFY(relativeError(movedCached.logits.values, movedBlock.logits.values) < 1e-5);
    }

    void cacheEvictsLeastRecentlyUsed()
    {
        const Golden g = loadGolden("llama3_gqa");
        const Model model = Model::load(g.dir);
        // One block of 9 tokens: 2 layers x (K + V) x 2 heads x 16 dims x 4 bytes x 9 + hidden 64 x 4 x 9.
        const std::uint64_t entryBytes = 2 * 2 * 2 * 16 * 4 * 9 + 64 * 4 * 9;
        BlockKvCache cache({.hostBytes = 2 * entryBytes, .deviceBytes = 0});
        Runner runner(model, &cache);
        auto runWith = [&](std::int32_t first) {
            RunRequest req;
            req.ids.assign(g.ids.begin(), g.ids.begin() + 12);
            req.ids[0] = first; // a different first block each time
            req.blocks = {0, 9};
            req.mode = AttentionMode::BlockCached;
            req.logits = LogitsWanted::LastToken;
            return runner.run(req).stats;
        };
        QCOMPARE(runWith(10).cacheMisses, std::int64_t(1));
        QCOMPARE(runWith(11).cacheMisses, std::int64_t(1));
        QCOMPARE(cache.stats().hostBytes, 2 * entryBytes);
        QCOMPARE(runWith(10).cacheHits, std::int64_t(1)); // 10 is now the most recent
        QCOMPARE(runWith(12).cacheMisses, std::int64_t(1)); // evicts 11
        auto s = cache.stats();
        QCOMPARE(s.evictions, std::int64_t(1));
        QCOMPARE(s.entries, std::int64_t(2));
        QCOMPARE(runWith(10).cacheHits, std::int64_t(1));
        QCOMPARE(runWith(11).cacheMisses, std::int64_t(1));
        cache.setBudget({.hostBytes = entryBytes, .deviceBytes = 0});
        QCOMPARE(cache.stats().entries, std::int64_t(1));
        cache.setBudget({.hostBytes = entryBytes / 2, .deviceBytes = 0});
        QCOMPARE(runWith(13).cacheMisses, std::int64_t(1));
        QCOMPARE(cache.stats().rejected, std::int64_t(1));
        QCOMPARE(cache.stats().entries, std::int64_t(0));
    }

    void attentionMassPerBlock()
    {
        const Golden g = loadGolden("qwen3_headdim");
        Runner runner(Model::load(g.dir));
        RunRequest req;
        req.ids = g.ids;
        req.blocks = g.blocks;
        req.logits = LogitsWanted::None;
        req.attention.layers = {1, 0};
        std::map<AttentionMode, AttentionMass> mass;
        for (const auto mode : {AttentionMode::Full, AttentionMode::Block, AttentionMode::BlockCached}) {
            req.mode = mode;
            mass[mode] = runner.run(req).attention;
            const AttentionMass& m = mass[mode];
            QCOMPARE(m.layers, (std::vector<std::int64_t>{0, 1}));
            QCOMPARE(m.rows, std::int64_t(g.ids.size()));
            QCOMPARE(m.blocks, std::int64_t(g.blocks.size()));
            QCOMPARE(m.values.size(), std::size_t(2 * 4 * 40 * 5));
            for (std::size_t l = 0; l < 2; ++l)
                for (std::int64_t h = 0; h < m.heads; ++h)
                    for (std::int64_t r = 0; r < m.rows; ++r) {
                        double sum = 0;
                        for (std::int64_t b = 0; b < m.blocks; ++b)
                            sum += m.at(l, h, r, b);
                        QVERIFY(std::fabs(sum - 1) < 1e-5);
                    }
        }
        // In block modes a non-last block's tokens look only at their own block; in full mode
        // the second block's token (index 9) also looks at the first.
        for (const auto mode : {AttentionMode::Block, AttentionMode::BlockCached})
            QVERIFY(std::fabs(mass[mode].at(0, 2, 15, 2) - 1) < 1e-6);
        QVERIFY(mass[AttentionMode::Full].at(0, 0, 9, 0) > 1e-3);
        // The query block's rows agree between block and block-cached.
        double worst = 0;
        for (std::size_t i = 0; i < mass[AttentionMode::Block].values.size(); ++i)
            worst = std::max(worst, static_cast<double>(std::fabs(mass[AttentionMode::Block].values[i] - mass[AttentionMode::BlockCached].values[i])));
        QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
        // By block: [layers, heads, query blocks, key blocks], the last block's row sums to 1.
        req.attention.byBlock = true;
        req.mode = AttentionMode::BlockCached;
        const AttentionMass byBlock = runner.run(req).attention;
        QCOMPARE(byBlock.rows, std::int64_t(5));
        double lastRow = 0;
        for (std::int64_t b = 0; b < 5; ++b)
            lastRow += byBlock.at(1, 3, 4, b);
        QVERIFY(std::fabs(lastRow - 1) < 1e-5);
        QCOMPARE(byBlock.at(0, 0, 1, 1), 1.0f);
        req.attention.layers = {7};
        try {
            runner.run(req);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("layer 7 does not exist (the model has 2)") != std::string::npos);
        }
    }

    void cacheTiersOnCuda()
    {
        if (!cudaAvailable())
            QSKIP("no CUDA here");
        const Golden g = loadGolden("llama3_gqa");
        BlockKvCache cache({.hostBytes = 1ull << 30, .deviceBytes = 1ull << 30});
        Runner runner(Model::load(g.dir, {.device = "cuda", .dtype = DType::F32}), &cache);
        RunRequest req;
        req.ids = g.ids;
        req.blocks = g.blocks;
        req.mode = AttentionMode::BlockCached;
        const RunResult cold = runner.run(req);
        QVERIFY(cache.stats().deviceBytes > 0);
        QCOMPARE(cache.stats().hostBytes, std::uint64_t(0));
        // A device tier too small for all four blocks demotes the older ones to the host tier;
        // host hits are copied back up and give the same logits.
        cache.setBudget({.hostBytes = 1ull << 30, .deviceBytes = cache.stats().deviceBytes / 3});
        QVERIFY(cache.stats().demotions > 0);
        QVERIFY(cache.stats().hostBytes > 0);
        const RunResult warm = runner.run(req);
        QCOMPARE(warm.stats.cacheHits, std::int64_t(g.blocks.size() - 1));
        QVERIFY(cache.stats().hostHits > 0);
        QVERIFY(relativeError(warm.logits.values, cold.logits.values) < 1e-6);
    }

    void bf16ComputeIsClose()
    {
        const Golden g = loadGolden("llama3_gqa");
        Runner runner(Model::load(g.dir, {.device = "cpu", .dtype = DType::BF16}));
        RunRequest req;
        req.ids = g.ids;
        req.blocks = g.blocks;
        req.mode = AttentionMode::BlockCached;
        const RunResult r = runner.run(req);
        const double e = relativeError(r.logits.values, g.block.data);
        qInfo("bf16 block-cached vs fp32 golden: %.3g", e);
        QVERIFY(e < 5e-2);
    }

    // The GPU's bf16 routes end to end (fused RMSNorm, three-kernel RoPE, SDPA with enable_gqa,
    // flash attention for the last block and decoding, the kernels' RoPE re-encoding of cached
    // blocks) against the fp32 goldens of transformers. Runs on the GPU machine.
    void bf16OnCudaIsClose_data()
    {
        QTest::addColumn<QString>("name");
        for (const char* n : {"llama3_gqa", "mistral_window", "qwen3_headdim", "llama_tied_bias"})
            QTest::newRow(n) << n;
    }
    void bf16OnCudaIsClose()
    {
        if (!cudaAvailable())
            QSKIP("no CUDA here");
        QFETCH(QString, name);
        const Golden g = loadGolden(name.toStdString());
        Runner runner(Model::load(g.dir, {.device = "cuda", .dtype = DType::BF16}));
        RunRequest req;
        req.ids = g.ids;
        req.blocks = g.blocks;
        req.maxNewTokens = 4;
        for (const auto mode : {AttentionMode::Full, AttentionMode::BlockCached, AttentionMode::BlockCached}) { // cold, then warm
            req.mode = mode;
            const RunResult r = runner.run(req);
            const double e = relativeError(r.logits.values, mode == AttentionMode::Full ? g.full.data : g.block.data);
            qInfo("cuda bf16 %s vs fp32 golden: %.3g (hits %lld)", std::string(toString(mode)).c_str(), e,
                  static_cast<long long>(r.stats.cacheHits));
            QVERIFY2(e < 5e-2, qPrintable(QString::number(e)));
            QCOMPARE(r.generated.size(), std::size_t(4));
        }
    }

    void runStatsAndLogitsChoices()
    {
        const Golden g = loadGolden("mistral_window");
        Runner runner(Model::load(g.dir));
        RunRequest req;
        req.ids = g.ids;
        req.blocks = g.blocks;
        req.mode = AttentionMode::BlockCached;
        req.logits = LogitsWanted::LastBlock;
        req.maxNewTokens = 3;
        const RunResult r = runner.run(req);
        QCOMPARE(r.logits.firstRow, g.blocks.back());
        QCOMPARE(r.logits.rows, std::int64_t(g.ids.size()) - g.blocks.back());
        const std::size_t v = static_cast<std::size_t>(g.block.shape[1]);
        QVERIFY(relativeError(std::span(r.logits.values).subspan(0, v),
                              std::span(g.block.data).subspan(static_cast<std::size_t>(g.blocks.back()) * v, v)) < kTolerance);
        QCOMPARE(r.generated.size(), std::size_t(3));
        QVERIFY(r.stats.ttftMs > 0);
        QCOMPARE(r.stats.blocks, std::int64_t(g.blocks.size()));
        // K/V of 40 + 2 fed tokens: 2 layers x (K + V) x 1 KV head x 16 dims x 4 bytes.
        QCOMPARE(r.stats.kvBytes, std::uint64_t(42 * 2 * 2 * 16 * 4));
        // Less work than full attention over every row (RunStats::fullFlops is the cheaper full
        // prefill that finishes only the last row in its last layer: a cold run of this 2-layer
        // model does more than that).
        RunRequest fullReq = req;
        fullReq.mode = AttentionMode::Full;
        const RunResult full = runner.run(fullReq);
        QVERIFY(r.stats.prefillFlops.total() < full.stats.prefillFlops.total());
        QVERIFY(full.stats.fullFlops.total() < full.stats.prefillFlops.total());
        req.logits = LogitsWanted::None;
        QVERIFY(runner.run(req).logits.values.empty());
        // Sampling: reproducible for a seed, and at a tiny temperature the greedy choice.
        req.maxNewTokens = 6;
        req.temperature = 1.5;
        req.seed = 42;
        const auto s1 = runner.run(req).generated, s2 = runner.run(req).generated;
        QCOMPARE(s1, s2);
        req.temperature = 1e-4;
        const auto cold = runner.run(req).generated;
        req.temperature = 0;
        QCOMPARE(cold, runner.run(req).generated);
    }

    void badRequests()
    {
        const Golden g = loadGolden("qwen2_bias");
        Runner runner(Model::load(g.dir));
        auto errorOf = [&](RunRequest req) {
            try {
                runner.run(req);
            } catch (const Error& e) {
                return std::string(e.what());
            }
            return std::string();
        };
        RunRequest req;
        req.ids = {1, 2, 300};
        QVERIFY(errorOf(req).find("token id 300 at index 2 is outside the model's vocabulary of 256") != std::string::npos);
        req.ids = {1, 2, 3};
        req.blocks = {0, 3};
        QVERIFY(errorOf(req).find("block start 3 is outside the 3 tokens") != std::string::npos);
        req.blocks = {0, 2, 1};
        QVERIFY(errorOf(req).find("strictly increasing") != std::string::npos);
        req.ids.clear();
        req.blocks.clear();
        QVERIFY(errorOf(req).find("no tokens") != std::string::npos);
    }

    void loadErrors()
    {
        auto errorOf = [](const std::filesystem::path& dir, LoadOptions o = {}) {
            try {
                (void)Model::load(dir, o);
            } catch (const Error& e) {
                return std::string(e.what());
            }
            return std::string();
        };
        const auto dir = test::fixturesDir() / "engine" / "llama3_gqa";
        auto e = errorOf(dir, {.device = "cpu", .dtype = std::nullopt, .maxTokens = 4096, .memoryBudget = 100000});
        QVERIFY2(e.find("needs about") != std::string::npos && e.find("is available on the memory budget given") != std::string::npos, e.c_str());
        if (!cudaAvailable()) {
            e = errorOf(dir, {.device = "cuda"});
            QVERIFY2(e.find("CUDA was requested but this build of libtorch") != std::string::npos, e.c_str());
        }
        e = errorOf(dir, {.device = "tpu"});
        QVERIFY2(e.find("unknown device") != std::string::npos, e.c_str());
        e = errorOf(test::fixturesDir() / "engine" / "no-such-model");
        QVERIFY2(e.find("no such directory") != std::string::npos, e.c_str());

        // A checkpoint missing a tensor, and one whose tensor has the wrong shape.
        QTemporaryDir tmp;
        const std::filesystem::path t = tmp.path().toStdString();
        std::filesystem::copy_file(dir / "config.json", t / "config.json");
        std::filesystem::copy_file(dir / "model.safetensors", t / "model.safetensors");
        std::string cfg;
        {
            std::ifstream in(t / "config.json");
            cfg.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        const auto replace = [&](const std::string& from, const std::string& to) {
            std::string c = cfg;
            c.replace(c.find(from), from.size(), to);
            std::ofstream(t / "config.json", std::ios::trunc) << c;
        };
        replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
        e = errorOf(t);
        QVERIFY2(e.find("model.layers.2.input_layernorm.weight: missing tensor") != std::string::npos, e.c_str());
        replace("\"intermediate_size\": 128", "\"intermediate_size\": 96");
        e = errorOf(t);
        QVERIFY2(e.find("model.layers.0.mlp.gate_proj.weight: shape [128, 64] does not match config.json, which implies [96, 64]") !=
                     std::string::npos, e.c_str());
        replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true");
        QVERIFY(errorOf(t).empty()); // tied: lm_head.weight is simply not used
    }
};

QTEST_GUILESS_MAIN(TestEngineGolden)
#include "test_engine_golden.moc"
