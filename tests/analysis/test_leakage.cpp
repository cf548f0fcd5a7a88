// Leakage analysis against a direct computation: a random llama checkpoint runs in full mode with
// one capture bin per token (the capture then is the attention matrix summed per head, nothing
// aggregated), the definitions of analysis/leakage.hpp are evaluated on it with plain loops, and
// the library's results from coarser captures (token rows and byBlock over the common refinement,
// separate runs) must agree.
#include "analysis/leakage.hpp"
#include "engine/make_model.hpp"
#include "engine/memory.hpp"
#include "engine/model.hpp"
#include "engine/runner.hpp"
#include "util/error.hpp"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>

using namespace blocklens;
using namespace blocklens::analysis;

namespace {

constexpr std::int64_t kTokens = 48;
constexpr std::int64_t kHeads = 4;
const std::vector<std::int64_t> kLayers = {0, 1};
const std::vector<std::int64_t> kSegA = {0, 10, 22, 35, 41};     // the last block is the query
const std::vector<std::int64_t> kSegB = {0, 7, 22, 30, 41};

std::vector<std::int64_t> everyToken()
{
    std::vector<std::int64_t> v(kTokens);
    for (std::int64_t i = 0; i < kTokens; ++i)
        v[static_cast<std::size_t>(i)] = i;
    return v;
}

// a(l, h, t, s) from a per-token capture: the attention weight itself.
struct Direct {
    const engine::AttentionMass* m;
    double a(std::size_t l, std::int64_t h, std::int64_t t, std::int64_t s) const { return m->at(l, h, t, s); }
    // M[i][j] for one (l, h), straight from the definition.
    double M(std::size_t l, std::int64_t h, const std::vector<std::int64_t>& starts, std::int64_t i, std::int64_t j) const
    {
        auto end = [&](std::int64_t b) { return b + 1 < static_cast<std::int64_t>(starts.size()) ? starts[static_cast<std::size_t>(b + 1)] : kTokens; };
        double sum = 0;
        for (std::int64_t t = starts[static_cast<std::size_t>(i)]; t < end(i); ++t)
            for (std::int64_t s = starts[static_cast<std::size_t>(j)]; s < end(j); ++s)
                sum += a(l, h, t, s);
        return sum / static_cast<double>(end(i) - starts[static_cast<std::size_t>(i)]);
    }
    double meanM(const std::vector<std::int64_t>& starts, std::int64_t i, std::int64_t j, const HeadSelection& sel) const
    {
        double sum = 0;
        int n = 0;
        for (std::size_t l = 0; l < m->layers.size(); ++l) {
            if (sel.layer && m->layers[l] != *sel.layer)
                continue;
            for (std::int64_t h = 0; h < m->heads; ++h)
                if (!sel.head || *sel.head == h) {
                    sum += M(l, h, starts, i, j);
                    ++n;
                }
        }
        return sum / n;
    }
};

} // namespace

class TestLeakage : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::optional<engine::Runner> runner_;
    std::vector<std::int32_t> ids_;
    engine::RunResult perToken_; // full mode, one bin per token, token rows

    engine::AttentionMass capture(const std::vector<std::int64_t>& bins, bool byBlock, engine::AttentionMode mode = engine::AttentionMode::Full)
    {
        engine::RunRequest req;
        req.ids = ids_;
        req.blocks = bins;
        req.mode = mode;
        req.logits = engine::LogitsWanted::None;
        req.attention.layers = kLayers;
        req.attention.byBlock = byBlock;
        return runner_->run(req).attention;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        engine::MakeModelOptions o;
        o.config = engine::defaultConfig(engine::Architecture::Llama, 2, 64, kHeads, 2, 128, 96, 16);
        o.seed = 5;
        o.initStd = 0.3; // peaky attention, so blocks differ clearly
        const std::filesystem::path model = std::filesystem::path(dir_.path().toStdString()) / "model";
        engine::makeModel(o, model);
        runner_.emplace(engine::Model::load(model));
        std::mt19937 rng(3);
        for (std::int64_t i = 0; i < kTokens; ++i)
            ids_.push_back(static_cast<std::int32_t>(rng() % 128));
        engine::RunRequest req;
        req.ids = ids_;
        req.blocks = everyToken();
        req.logits = engine::LogitsWanted::None;
        req.attention.layers = kLayers;
        perToken_ = runner_->run(req);
        QCOMPARE(perToken_.attention.rows, kTokens);
        QCOMPARE(perToken_.attention.blocks, kTokens);
    }

    void leakageMatchesDirectComputation_data()
    {
        QTest::addColumn<int>("layer"); // -1: mean
        QTest::addColumn<int>("head");  // -1: mean
        QTest::addColumn<QString>("capture");
        for (const char* cap : {"per-token", "refinement-rows", "refinement-byblock"}) {
            QTest::addRow("mean/%s", cap) << -1 << -1 << cap;
            QTest::addRow("layer1/%s", cap) << 1 << -1 << cap;
            QTest::addRow("layer0-head2/%s", cap) << 0 << 2 << cap;
        }
    }
    void leakageMatchesDirectComputation()
    {
        QFETCH(int, layer);
        QFETCH(int, head);
        QFETCH(QString, capture);
        HeadSelection sel;
        if (layer >= 0)
            sel.layer = layer;
        if (head >= 0)
            sel.head = head;
        const auto bins = capture == "per-token" ? everyToken() : commonRefinement(kSegA, kSegB);
        const CapturedAttention cap(capture == "per-token" ? perToken_.attention : this->capture(bins, capture == "refinement-byblock"),
                                    bins, kTokens);
        const Direct direct{&perToken_.attention};

        for (const auto* seg : {&kSegA, &kSegB}) {
            const auto B = static_cast<std::int64_t>(seg->size());
            const BlockMatrix M = blockMass(cap, *seg, sel);
            QCOMPARE(M.blocks, B);
            for (std::int64_t i = 0; i < B; ++i) {
                double rowSum = 0;
                for (std::int64_t j = 0; j < B; ++j) {
                    const double want = direct.meanM(*seg, i, j, sel);
                    QVERIFY2(std::fabs(M.at(i, j) - want) < 2e-5,
                             qPrintable(QString("M[%1][%2] = %3, direct %4").arg(i).arg(j).arg(M.at(i, j)).arg(want)));
                    if (j > i)
                        QVERIFY(M.at(i, j) < 1e-6); // causal
                    rowSum += M.at(i, j);
                }
                QVERIFY(std::fabs(rowSum - 1.0) < 1e-4);
            }
            const LeakageReport r = leakage(cap, *seg, sel);
            QCOMPARE(static_cast<std::int64_t>(r.boundaries.size()), B - 1);
            double lost = 0, counted = 0;
            for (std::int64_t k = 1; k < B; ++k) {
                double cross = 0;
                for (std::int64_t j = 0; j < k; ++j)
                    cross += direct.meanM(*seg, k, j, sel);
                const auto& b = r.boundaries[static_cast<std::size_t>(k - 1)];
                QCOMPARE(b.token, (*seg)[static_cast<std::size_t>(k)]);
                QVERIFY(std::fabs(b.crossMass - cross) < 2e-5);
                QVERIFY(std::fabs(b.adjacent - direct.meanM(*seg, k, k - 1, sel)) < 2e-5);
                QCOMPARE(b.globalQuery, k == B - 1);
                QVERIFY(std::fabs(b.dropped - (k == B - 1 ? 0.0 : cross)) < 2e-5);
                QVERIFY(b.crossMass > 0.01); // random weights spread mass over the past
                if (k < B - 1) {
                    lost += b.queryTokens * cross;
                    counted += b.queryTokens;
                }
            }
            counted += (*seg)[1]; // block 0 loses nothing but is counted
            QVERIFY2(std::fabs(r.total - lost / counted) < 2e-5, qPrintable(QString::number(r.total)));
            // Per-layer and per-head variants against the direct per-(layer, head) numbers.
            for (std::size_t l = 0; l < kLayers.size(); ++l)
                for (std::int64_t h = 0; h < kHeads; ++h)
                    for (std::int64_t k = 1; k < B - 1; ++k) {
                        double cross = 0;
                        for (std::int64_t j = 0; j < k; ++j)
                            cross += direct.M(l, h, *seg, k, j);
                        QVERIFY(std::fabs(r.droppedAt(l, h, static_cast<std::size_t>(k - 1)) - cross) < 2e-5);
                    }
            const auto perLayer = r.droppedForLayer(1);
            double mean1 = 0;
            for (std::int64_t h = 0; h < kHeads; ++h)
                mean1 += r.droppedAt(1, h, 0) / kHeads;
            QVERIFY(std::fabs(perLayer[0] - mean1) < 1e-12);
        }
    }

    void comparisonListsBothSegmentations()
    {
        const CapturedAttention cap(perToken_.attention, everyToken(), kTokens);
        const auto cmp = compareLeakage(cap, kSegA, kSegB);
        // Boundaries 7, 10, 22, 30, 35, 41: 22 and 41 shared.
        QCOMPARE(cmp.rows.size(), std::size_t(6));
        QCOMPARE(cmp.shared, std::int64_t(2));
        QCOMPARE(cmp.onlyA, std::int64_t(2));
        QCOMPARE(cmp.onlyB, std::int64_t(2));
        const std::vector<std::int64_t> tokens = {7, 10, 22, 30, 35, 41};
        for (std::size_t i = 0; i < tokens.size(); ++i)
            QCOMPARE(cmp.rows[i].token, tokens[i]);
        QVERIFY(cmp.rows[0].b && !cmp.rows[0].a);
        QVERIFY(cmp.rows[2].a && cmp.rows[2].b);
        // The same cut drops different mass in each: block [22, 35) vs [22, 30) queries.
        QVERIFY(std::fabs(cmp.rows[2].a->crossMass - cmp.a.boundaries[1].crossMass) < 1e-12);
        QVERIFY(std::fabs(cmp.rows[2].b->crossMass - cmp.b.boundaries[1].crossMass) < 1e-12);
        QVERIFY(cmp.a.total != cmp.b.total);
    }

    void tokenViewMatchesDirect()
    {
        const auto bins = commonRefinement(kSegA, kSegB);
        const CapturedAttention cap(capture(bins, false), bins, kTokens);
        const auto T = tokenBlockMass(cap, kSegA, {});
        QCOMPARE(T.tokens, kTokens);
        const Direct direct{&perToken_.attention};
        for (std::int64_t t : {0, 9, 10, 30, 47}) {
            for (std::int64_t j = 0; j < T.blocks; ++j) {
                const std::int64_t s0 = kSegA[static_cast<std::size_t>(j)];
                const std::int64_t s1 = j + 1 < T.blocks ? kSegA[static_cast<std::size_t>(j + 1)] : kTokens;
                double want = 0;
                for (std::size_t l = 0; l < 2; ++l)
                    for (std::int64_t h = 0; h < kHeads; ++h)
                        for (std::int64_t s = s0; s < s1; ++s)
                            want += direct.a(l, h, t, s) / (2.0 * kHeads);
                QVERIFY(std::fabs(T.at(t, j) - want) < 2e-5);
            }
        }
        // byBlock captures have no token rows.
        const CapturedAttention byBlock(capture(bins, true), bins, kTokens);
        QVERIFY_THROWS_EXCEPTION(Error, tokenBlockMass(byBlock, kSegA, {}));
    }

    // Bounded memory (issues 15/16): a byBlock capture sums each query chunk into its block at
    // once. It must equal the token-row capture averaged per block, in every mode, and over a
    // sequence long enough for many query chunks.
    void byBlockEqualsTokenRowsAveraged_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<int>("tokens");
        QTest::newRow("full") << int(engine::AttentionMode::Full) << int(kTokens);
        QTest::newRow("block") << int(engine::AttentionMode::Block) << int(kTokens);
        QTest::newRow("block-cached") << int(engine::AttentionMode::BlockCached) << int(kTokens);
        QTest::newRow("full, many query chunks") << int(engine::AttentionMode::Full) << 1500;
    }
    void byBlockEqualsTokenRowsAveraged()
    {
        QFETCH(int, mode);
        QFETCH(int, tokens);
        std::vector<std::int32_t> ids = ids_;
        std::mt19937 rng(17);
        while (static_cast<int>(ids.size()) < tokens)
            ids.push_back(static_cast<std::int32_t>(rng() % 128));
        const std::vector<std::int64_t> bins = tokens == kTokens ? kSegA : std::vector<std::int64_t>{0, 1, 300, 301, 900, 1400};
        auto run = [&](bool byBlock) {
            engine::RunRequest req;
            req.ids = ids;
            req.blocks = bins;
            req.mode = engine::AttentionMode(mode);
            req.logits = engine::LogitsWanted::None;
            req.attention.layers = kLayers;
            req.attention.byBlock = byBlock;
            return runner_->run(req).attention;
        };
        const engine::AttentionMass rows = run(false), blocks = run(true);
        const auto B = static_cast<std::int64_t>(bins.size());
        QCOMPARE(blocks.rows, B);
        QCOMPARE(rows.rows, static_cast<std::int64_t>(tokens));
        QCOMPARE(blocks.values.size(), kLayers.size() * kHeads * B * B);
        double worst = 0;
        for (std::size_t l = 0; l < kLayers.size(); ++l)
            for (std::int64_t h = 0; h < kHeads; ++h)
                for (std::int64_t i = 0; i < B; ++i) {
                    const std::int64_t t0 = bins[static_cast<std::size_t>(i)], t1 = i + 1 < B ? bins[static_cast<std::size_t>(i + 1)] : tokens;
                    for (std::int64_t j = 0; j < B; ++j) {
                        double mean = 0;
                        for (std::int64_t t = t0; t < t1; ++t)
                            mean += rows.at(l, h, t, j);
                        mean /= static_cast<double>(t1 - t0);
                        worst = std::max(worst, std::fabs(mean - blocks.at(l, h, i, j)));
                    }
                }
        QVERIFY2(worst < 2e-5, qPrintable(QString::number(worst)));
    }

    // The capture's memory estimate (engine/memory.hpp): by block the result does not grow with
    // the tokens at all and token rows grow linearly; what runs grows linearly (never n^2).
    void captureEstimateIsLinearInTokens()
    {
        const engine::ModelConfig c = engine::defaultConfig(engine::Architecture::Llama, 32, 4096, 32, 8, 128256, 14336, 128);
        for (const std::int64_t n : {2000, 30000, 200000}) {
            const auto a = engine::estimateAttentionCapture(c, n, 500, 8, true), b = engine::estimateAttentionCapture(c, 2 * n, 500, 8, true);
            QCOMPARE(a.keptBytes, b.keptBytes);
            QCOMPARE(a.keptBytes, std::uint64_t(4) * 8 * 32 * 500 * 500);
            QVERIFY2(double(b.peakBytes()) <= 2.05 * double(a.peakBytes()), qPrintable(QString::number(n)));
            const auto r = engine::estimateAttentionCapture(c, n, 500, 8, false), r2 = engine::estimateAttentionCapture(c, 2 * n, 500, 8, false);
            QCOMPARE(r2.keptBytes, 2 * r.keptBytes);
            QVERIFY(double(r2.peakBytes()) <= 2.05 * double(r.peakBytes()));
            QVERIFY(double(r2.transientBytes) <= 2.05 * double(r.transientBytes));
        }
        // The heatmap's bins: the most whose byBlock result stays under a budget.
        const std::int64_t maxBins = engine::maxAttentionCaptureBlocks(c, 8, 256ull << 20);
        QVERIFY(engine::estimateAttentionCapture(c, 30000, maxBins, 8, true).keptBytes <= (256ull << 20));
        QVERIFY(engine::estimateAttentionCapture(c, 30000, maxBins + 1, 8, true).keptBytes > (256ull << 20));
    }

    // A capture beyond the limit is refused before anything is allocated, with a message that
    // names what it needs and the limit.
    void captureBeyondTheLimitIsRefused()
    {
        const engine::ModelConfig c = engine::defaultConfig(engine::Architecture::Llama, 2, 64, kHeads, 2, 128, 96, 16);
        const auto e = engine::estimateAttentionCapture(c, 30000, 30000, 2, false);
        try {
            engine::checkAttentionCaptureFits(e, 1ull << 30);
            QFAIL("expected a refusal");
        } catch (const Error& err) {
            const std::string m = err.what();
            for (const std::string& part : std::initializer_list<std::string>{"attention capture", "30000 tokens in 30000 blocks", "needs about " + engine::formatBytes(e.peakBytes()),
                                           "the limit is 1.00 GiB", "one row per block"})
                QVERIFY2(m.find(part) != std::string::npos, (m + " lacks: " + part).c_str());
            QVERIFY(m.find('\n') == std::string::npos);
        }
        engine::checkAttentionCaptureFits(engine::estimateAttentionCapture(c, 30000, 100, 2, true), 1ull << 30); // fits
        // Through the runner: 12,000 tokens with one bin each in token rows would hold 4.6 GB.
        engine::RunRequest req;
        std::mt19937 rng(1);
        for (int i = 0; i < 12000; ++i) {
            req.ids.push_back(static_cast<std::int32_t>(rng() % 128));
            req.blocks.push_back(i);
        }
        req.logits = engine::LogitsWanted::None;
        req.attention.layers = kLayers;
        try {
            runner_->run(req);
            QFAIL("expected a refusal");
        } catch (const Error& err) {
            QVERIFY2(std::string(err.what()).find("needs about") != std::string::npos, err.what());
            QVERIFY2(std::string(err.what()).find("the limit is") != std::string::npos, err.what());
        }
    }

    void badInputIsRefused()
    {
        const auto bins = kSegA;
        const CapturedAttention cap(capture(bins, true), bins, kTokens);
        // kSegB's 7 is not a bin start: the comparison needs the common refinement.
        try {
            leakage(cap, kSegB);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("block start 7 is not a start of the captured bins") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, leakage(cap, kSegA, HeadSelection{5, std::nullopt}));
        QVERIFY_THROWS_EXCEPTION(Error, leakage(cap, kSegA, HeadSelection{std::nullopt, 9}));
        QVERIFY_THROWS_EXCEPTION(Error, leakage(cap, {3, 10}));
        // Shapes that do not match the bins or tokens.
        QVERIFY_THROWS_EXCEPTION(Error, CapturedAttention(cap.mass(), {0, 10, 22}, kTokens));
        QVERIFY_THROWS_EXCEPTION(Error, CapturedAttention(perToken_.attention, everyToken(), kTokens + 1));
        engine::AttentionMass broken = cap.mass();
        broken.values[3] += 0.5f;
        QVERIFY_THROWS_EXCEPTION(Error, CapturedAttention(broken, bins, kTokens));
        // A block-mode capture's rows are one-hot; its cross mass is 0 except for the global
        // block, so leakage must be measured on a full run (the numbers show it).
        const CapturedAttention blockMode(capture(bins, true, engine::AttentionMode::Block), bins, kTokens);
        const auto r = leakage(blockMode, kSegA);
        for (std::size_t k = 0; k + 1 < r.boundaries.size(); ++k)
            QVERIFY(r.boundaries[k].crossMass < 1e-6);
    }
};

QTEST_GUILESS_MAIN(TestLeakage)
#include "test_leakage.moc"
