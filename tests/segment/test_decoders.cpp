// Decoders on synthetic grids: "w w w ..." puts token i at code point 2i, so sizes are exact.
#include "segment/decoders.hpp"

#include <QtTest>

#include <algorithm>
#include <random>

using namespace blocklens;
using namespace blocklens::segment;

namespace {

TokenGrid words(std::size_t n)
{
    std::string text;
    for (std::size_t i = 0; i < n; ++i)
        text += i ? " w" : "w";
    return TokenGrid::approximate(std::string_view(text));
}

// Candidates at the given token indices with the given scores.
ScoredCuts at(const TokenGrid& g, const std::vector<std::size_t>& tokens, const std::vector<double>& scores)
{
    ScoredCuts c;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        c.offsets.push_back(g.tokenBegin(tokens[i]));
        c.scores.push_back(scores[i]);
        c.tokens.push_back(tokens[i]);
    }
    return c;
}

ScoredCuts everyToken(const TokenGrid& g, double score = 1.0)
{
    std::vector<std::size_t> t;
    for (std::size_t i = 1; i < g.size(); ++i)
        t.push_back(i);
    return at(g, t, std::vector<double>(t.size(), score));
}

std::vector<std::size_t> sizes(const TokenGrid& g, const std::vector<std::size_t>& cuts)
{
    std::vector<std::size_t> out;
    std::size_t prev = 0;
    for (std::size_t c : cuts) {
        out.push_back(g.count(prev, c));
        prev = c;
    }
    out.push_back(g.count(prev, g.textLength()));
    return out;
}

std::vector<std::size_t> tokenIndices(const TokenGrid& g, const std::vector<std::size_t>& cuts)
{
    std::vector<std::size_t> out;
    for (std::size_t c : cuts)
        out.push_back(g.tokensBefore(c));
    return out;
}

bool wellFormed(const TokenGrid& g, const std::vector<std::size_t>& cuts)
{
    for (std::size_t i = 0; i < cuts.size(); ++i)
        if (cuts[i] == 0 || cuts[i] >= g.textLength() || (i && cuts[i] <= cuts[i - 1]) || !g.isCutPoint(cuts[i]))
            return false;
    return true;
}

} // namespace

Q_DECLARE_METATYPE(std::vector<std::size_t>)

class TestDecoders : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void thresholdCutsAtStrongCandidates()
    {
        const auto g = words(100);
        const auto c = at(g, {10, 20, 30, 40, 50, 60, 70, 80, 90}, {0.9, 0.1, 0.8, 0.2, 0.95, 0.3, 0.5, 0.4, 0.7});
        SizeLimits limits;
        QCOMPARE(tokenIndices(g, decodeThreshold(c, g, {0.5, 0, 0}, limits)), (std::vector<std::size_t>{10, 30, 50, 70, 90}));
        QCOMPARE(tokenIndices(g, decodeThreshold(c, g, {0.85, 0, 0}, limits)), (std::vector<std::size_t>{10, 50}));
        // A minimum of 25 tokens skips cuts that would leave smaller blocks (greedy, left to right).
        limits.minTokens = 25;
        QCOMPARE(tokenIndices(g, decodeThreshold(c, g, {0.5, 0, 0}, limits)), (std::vector<std::size_t>{30, 70}));
    }

    void thresholdDepthRefinesLargeBlocks_data()
    {
        QTest::addColumn<int>("depth");
        QTest::addColumn<std::vector<std::size_t>>("cuts");
        // One strong cut at 50; blocks over 25 tokens are split again at their best candidate.
        QTest::newRow("depth 0") << 0 << std::vector<std::size_t>{50};
        QTest::newRow("depth 1") << 1 << std::vector<std::size_t>{20, 50, 80};
        QTest::newRow("depth 2") << 2 << std::vector<std::size_t>{20, 40, 50, 60, 80};
        QTest::newRow("depth 5") << 5 << std::vector<std::size_t>{20, 40, 50, 60, 80};
    }
    void thresholdDepthRefinesLargeBlocks()
    {
        QFETCH(int, depth);
        QFETCH(std::vector<std::size_t>, cuts);
        const auto g = words(100);
        const auto c = at(g, {10, 20, 40, 50, 60, 80}, {0.3, 0.4, 0.2, 0.9, 0.2, 0.4});
        QCOMPARE(tokenIndices(g, decodeThreshold(c, g, {0.5, depth, 25}, {})), cuts);
    }

    void dpTargetGivesEvenBlocksWithUniformScores()
    {
        const auto g = words(100);
        const auto cuts = decodeDp(everyToken(g), g, {10, 0, 1.0}, {});
        QCOMPARE(sizes(g, cuts), std::vector<std::size_t>(10, 10));
    }

    void dpTargetPrefersStrongCandidatesNearTheTarget()
    {
        const auto g = words(100);
        // Weak candidates everywhere, strong ones at 45 and 55: one cut, at a strong one.
        auto c = everyToken(g, 0.0);
        c.scores[44] = c.scores[54] = 1.0; // tokens 45 and 55
        const auto cuts = tokenIndices(g, decodeDp(c, g, {50, 0, 1.0}, {}));
        QCOMPARE(cuts.size(), std::size_t(1));
        QVERIFY(cuts[0] == 45 || cuts[0] == 55);
    }

    void dpExactCount_data()
    {
        QTest::addColumn<int>("blocks");
        QTest::addColumn<std::vector<std::size_t>>("cuts");
        QTest::newRow("1 block") << 1 << std::vector<std::size_t>{};
        QTest::newRow("2 blocks") << 2 << std::vector<std::size_t>{50};
        QTest::newRow("4 blocks") << 4 << std::vector<std::size_t>{30, 50, 80};
        QTest::newRow("6 blocks") << 6 << std::vector<std::size_t>{10, 30, 50, 70, 80};
    }
    void dpExactCount()
    {
        QFETCH(int, blocks);
        QFETCH(std::vector<std::size_t>, cuts);
        const auto g = words(100);
        const auto c = at(g, {10, 20, 30, 40, 50, 60, 70, 80, 90}, {0.6, 0.1, 0.8, 0.2, 0.95, 0.3, 0.5, 0.85, 0.4});
        // A tiny size weight: the scores decide, sizes only break ties.
        QCOMPARE(tokenIndices(g, decodeDp(c, g, {0, static_cast<std::size_t>(blocks), 0.002}, {})), cuts);
    }

    void dpExactCountWithTiesIsEven()
    {
        const auto g = words(120);
        for (std::size_t k : {2u, 3u, 5u, 7u, 12u}) {
            const auto cuts = decodeDp(everyToken(g), g, {0, k, 0.01}, {});
            QCOMPARE(cuts.size(), k - 1);
            const auto s = sizes(g, cuts);
            QVERIFY(*std::max_element(s.begin(), s.end()) - *std::min_element(s.begin(), s.end()) <= 1);
        }
    }

    void dpKeepsMinAndMax()
    {
        const auto g = words(200);
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> u(0, 1);
        auto c = everyToken(g);
        for (auto& s : c.scores)
            s = u(rng);
        SizeLimits limits;
        limits.minTokens = 8;
        limits.maxTokens = 30;
        for (const DpParams& p : {DpParams{20, 0, 1.0}, DpParams{0, 9, 0.01}, DpParams{0, 20, 0.01}}) {
            const auto cuts = decodeDp(c, g, p, limits);
            QVERIFY(wellFormed(g, cuts));
            for (std::size_t s : sizes(g, cuts)) {
                QVERIFY2(s >= 8 && s <= 30, qPrintable(QString::number(s)));
            }
            if (p.blocks)
                QCOMPARE(cuts.size() + 1, p.blocks);
        }
    }

    void dpExactCountYieldsToTheMaximum()
    {
        // 3 blocks of at most 20 tokens cannot hold 100 tokens: the maximum wins.
        const auto g = words(100);
        SizeLimits limits;
        limits.maxTokens = 20;
        const auto cuts = decodeDp(everyToken(g), g, {0, 3, 0.01}, limits);
        for (std::size_t s : sizes(g, cuts))
            QVERIFY(s <= 20);
        QVERIFY(cuts.size() + 1 >= 5);
    }

    void dpWithoutCandidatesFallsBackToTokenStarts()
    {
        const auto g = words(100);
        SizeLimits limits;
        limits.maxTokens = 16;
        const auto cuts = decodeDp(ScoredCuts{}, g, {10, 0, 1.0}, limits);
        QVERIFY(wellFormed(g, cuts));
        for (std::size_t s : sizes(g, cuts))
            QVERIFY(s <= 16);
    }

    void evenSplits()
    {
        const auto g = words(100);
        QCOMPARE(sizes(g, decodeEven(g, 30, 0, {})), (std::vector<std::size_t>{30, 30, 30, 10}));
        QCOMPARE(sizes(g, decodeEven(g, 0, 4, {})), (std::vector<std::size_t>{25, 25, 25, 25}));
        SizeLimits limits;
        limits.maxTokens = 20;
        QCOMPARE(sizes(g, decodeEven(g, 30, 0, limits)), std::vector<std::size_t>(5, 20)); // target capped at max
        QCOMPARE(sizes(g, decodeEven(g, 0, 2, limits)), std::vector<std::size_t>(5, 20));  // count yields to max
    }

    void recursivePacksSeparatorsWithinTheChunk()
    {
        const auto g = words(100);
        // Paragraph breaks (3) at 40 and 70, line breaks (2) every 10 tokens.
        std::vector<std::size_t> t;
        std::vector<double> s;
        for (std::size_t i = 10; i < 100; i += 10) {
            t.push_back(i);
            s.push_back(i == 40 || i == 70 ? 3 : 2);
        }
        const auto c = at(g, t, s);
        // Chunks of 50: paragraphs [0,40) [40,70) [70,100) each fit, and [0,40)+[40,70) does not.
        QCOMPARE(tokenIndices(g, decodeRecursive(c, g, 50, {})), (std::vector<std::size_t>{40, 70}));
        // Chunks of 25: paragraphs are too large and fall back to line breaks, packed greedily.
        const auto small = decodeRecursive(c, g, 25, {});
        QCOMPARE(tokenIndices(g, small), (std::vector<std::size_t>{20, 40, 60, 70, 90}));
        // Chunks of 7: below the weakest separator, even token cuts; nothing over 7.
        for (std::size_t size : sizes(g, decodeRecursive(c, g, 7, {})))
            QVERIFY(size <= 7);
    }

    void enforceMaxSplitsAtBestCandidatesFirst()
    {
        const auto g = words(100);
        const auto c = at(g, {30, 60}, {0.5, 0.9});
        SizeLimits limits;
        limits.maxTokens = 50;
        QCOMPARE(tokenIndices(g, enforceMaxSize({}, c, g, limits)), (std::vector<std::size_t>{30, 60}));
        limits.maxTokens = 70;
        QCOMPARE(tokenIndices(g, enforceMaxSize({}, c, g, limits)), (std::vector<std::size_t>{60}));
        // Without candidates: even cuts at token starts.
        limits.maxTokens = 30;
        QCOMPARE(sizes(g, enforceMaxSize({}, ScoredCuts{}, g, limits)), std::vector<std::size_t>(4, 25));
    }

    void hardMaximumHoldsForRandomInputs_data()
    {
        QTest::addColumn<int>("seed");
        for (int s = 1; s <= 40; ++s)
            QTest::newRow(qPrintable(QString("seed %1").arg(s))) << s;
    }
    void hardMaximumHoldsForRandomInputs()
    {
        QFETCH(int, seed);
        std::mt19937 rng(static_cast<unsigned>(seed));
        const auto g = words(50 + rng() % 400);
        std::vector<std::size_t> t;
        std::vector<double> s;
        for (std::size_t i = 1; i < g.size(); ++i)
            if (rng() % 9 == 0) {
                t.push_back(i);
                s.push_back(static_cast<double>(rng() % 100) / 50.0);
            }
        const auto c = at(g, t, s);
        SizeLimits limits;
        limits.maxTokens = 1 + rng() % 60;
        limits.minTokens = 1 + rng() % (limits.maxTokens);
        const std::size_t k = 1 + rng() % 20;
        const std::vector<std::vector<std::size_t>> results{
            decodeThreshold(c, g, {0.8, static_cast<int>(rng() % 4), 20}, limits),
            decodeDp(c, g, {static_cast<std::size_t>(1 + rng() % 50), 0, 1.0}, limits),
            decodeDp(c, g, {0, k, 0.01}, limits),
            decodeEven(g, 1 + rng() % 100, 0, limits),
            decodeRecursive(c, g, 1 + rng() % 100, limits),
        };
        for (const auto& cuts : results) {
            QVERIFY(wellFormed(g, cuts));
            const auto sz = sizes(g, cuts);
            for (std::size_t i = 0; i < sz.size(); ++i) {
                QVERIFY2(sz[i] <= limits.maxTokens, qPrintable(QString("%1 > %2").arg(sz[i]).arg(limits.maxTokens)));
                // Issue 15: the minimum holds as the maximum does: a block under it has no
                // neighbour it could join without passing the maximum.
                if (sz[i] < limits.minTokens) {
                    const bool canJoinBefore = i > 0 && sz[i - 1] + sz[i] <= limits.maxTokens;
                    const bool canJoinAfter = i + 1 < sz.size() && sz[i] + sz[i + 1] <= limits.maxTokens;
                    QVERIFY2(!canJoinBefore && !canJoinAfter,
                             qPrintable(QString("block %1 of %2 tokens < min %3 (max %4)").arg(i).arg(sz[i]).arg(limits.minTokens).arg(limits.maxTokens)));
                }
            }
        }
    }

    // Issue 15: every decoder keeps the minimum block size, the fixed-size remainder and the
    // recursive packer's small pieces included; a run of one-token candidates (comment lines)
    // joins into one block.
    void minimumHoldsInEveryDecoder()
    {
        const auto g = words(100);
        SizeLimits limits;
        limits.minTokens = 15;
        // Fixed-size: the 10-token remainder joins the block before.
        QCOMPARE(sizes(g, decodeEven(g, 30, 0, limits)), (std::vector<std::size_t>{30, 30, 40}));
        // Ten strong one-token candidates in a row (ten "#" lines) plus one at 60.
        std::vector<std::size_t> t{60};
        for (std::size_t i = 20; i < 30; ++i)
            t.push_back(i);
        std::sort(t.begin(), t.end());
        const auto c = at(g, t, std::vector<double>(t.size(), 1.0));
        for (std::size_t size : sizes(g, decodeThreshold(c, g, {0.5, 0, 0}, limits)))
            QVERIFY(size >= 15);
        for (std::size_t size : sizes(g, decodeRecursive(c, g, 30, limits)))
            QVERIFY(size >= 15);
        for (std::size_t size : sizes(g, enforceSizeLimits({g.tokenBegin(20), g.tokenBegin(21), g.tokenBegin(22), g.tokenBegin(60)}, c, g, limits)))
            QVERIFY(size >= 15);
        // Merging stops at the maximum: a 5-token block between blocks of 47 and 48 stays.
        limits.maxTokens = 51;
        limits.minTokens = 10;
        QCOMPARE(sizes(g, enforceMinSize({g.tokenBegin(47), g.tokenBegin(52)}, g, limits)), (std::vector<std::size_t>{47, 5, 48}));
        limits.maxTokens = 0;
        QCOMPARE(sizes(g, enforceMinSize({g.tokenBegin(47), g.tokenBegin(52)}, g, limits)), (std::vector<std::size_t>{47, 53}));
    }
};

QTEST_GUILESS_MAIN(TestDecoders)
#include "test_decoders.moc"
