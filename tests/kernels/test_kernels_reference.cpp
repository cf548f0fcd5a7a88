// CPU references of kernels/ (label core, runs in CI): the properties each reference must have,
// checked against independent formulas, so the GPU tests compare with something right.
#include "reference/attention.hpp"
#include "reference/numeric.hpp"
#include "reference/rope.hpp"

#include <QTest>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

using namespace blocklens::kernels::ref;

namespace {

std::vector<double> randomVector(std::size_t n, std::uint32_t seed, double scale = 1.0)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> dist(0.0, scale);
    std::vector<double> v(n);
    for (double& x : v)
        x = dist(rng);
    return v;
}

RopeScaling llama31()
{
    RopeScaling s;
    s.type = "llama3";
    s.factor = 8.0;
    s.lowFreqFactor = 1.0;
    s.highFreqFactor = 4.0;
    s.originalMaxPositions = 8192;
    return s;
}

std::vector<std::int32_t> startsOf(const std::vector<int>& lengths)
{
    std::vector<std::int32_t> s{0};
    for (int l : lengths)
        s.push_back(s.back() + l);
    return s;
}

} // namespace

class TestKernelsReference : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void bf16Conversion()
    {
        QCOMPARE(floatToBf16(1.0f), std::uint16_t(0x3f80));
        QCOMPARE(bf16ToFloat(0x3f80), 1.0f);
        QCOMPARE(floatToBf16(-2.0f), std::uint16_t(0xc000));
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0)
        QCOMPARE(floatToBf16(1.0f + 1.0f / 256), std::uint16_t(0x3f80));
        // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to even (1 + 2^-6)
        QCOMPARE(floatToBf16(1.0f + 3.0f / 256), std::uint16_t(0x3f82));
        QVERIFY(std::isnan(bf16ToFloat(floatToBf16(std::nanf("")))));
        for (float x : {0.1f, -3.14159f, 1e-20f, 6.5e4f, 1e30f})
            QVERIFY(std::fabs(bf16ToFloat(floatToBf16(x)) - x) <= std::fabs(x) / 256);
    }

    void f16Conversion()
    {
        QCOMPARE(floatToF16(1.0f), std::uint16_t(0x3c00));
        QCOMPARE(f16ToFloat(0x3c00), 1.0f);
        QCOMPARE(floatToF16(-2.0f), std::uint16_t(0xc000));
        QCOMPARE(floatToF16(65504.0f), std::uint16_t(0x7bff));
        QCOMPARE(floatToF16(1e6f), std::uint16_t(0x7c00));
        QCOMPARE(f16ToFloat(0x0001), std::ldexp(1.0f, -24)); // smallest subnormal
        QCOMPARE(floatToF16(std::ldexp(1.0f, -24)), std::uint16_t(0x0001));
        QCOMPARE(floatToF16(1.0f + std::ldexp(1.0f, -11)), std::uint16_t(0x3c00)); // tie to even
        QCOMPARE(floatToF16(1.0f + 3 * std::ldexp(1.0f, -11)), std::uint16_t(0x3c02));
        for (std::uint32_t h = 0; h < 0x7c00; ++h) // every finite positive value round-trips
            QCOMPARE(floatToF16(f16ToFloat(static_cast<std::uint16_t>(h))), static_cast<std::uint16_t>(h));
    }

    void relativeErrorBasics()
    {
        const std::vector<double> a{3, 4}, b{3, 4.5}, nan{std::nan(""), 4};
        QCOMPARE(relativeError(a, a), 0.0);
        QVERIFY(std::fabs(relativeError(b, a) - 0.1) < 1e-15);
        QVERIFY(std::isinf(relativeError(nan, a)));
        QCOMPARE(countNonFinite(nan), std::size_t(1));
    }

    void invFreqDefault()
    {
        const auto f = ropeInvFreq(128, 10000.0);
        QCOMPARE(f.size(), std::size_t(64));
        QCOMPARE(f[0], 1.0f);
        for (int i = 0; i < 64; ++i) {
            const double expected = 1.0 / std::pow(10000.0, 2.0 * i / 128.0);
            QVERIFY2(std::fabs(f[static_cast<std::size_t>(i)] - expected) <= 2e-7 * expected, qPrintable(QString::number(i)));
        }
        const auto lin = ropeInvFreq(64, 10000.0, RopeScaling{"linear", 4.0});
        const auto base = ropeInvFreq(64, 10000.0);
        for (std::size_t i = 0; i < lin.size(); ++i)
            QVERIFY(std::fabs(lin[i] - base[i] / 4.0f) <= 1e-7f * base[i]);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ropeInvFreq(127, 10000.0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ropeInvFreq(128, 10000.0, RopeScaling{"yarn"}));
    }

    void invFreqLlama3()
    {
        // Llama 3.1: rope_theta 500000, factor 8, low 1, high 4, original context 8192.
        const auto base = ropeInvFreq(128, 500000.0);
        const auto f = ropeInvFreq(128, 500000.0, llama31());
        int high = 0, low = 0, medium = 0;
        for (std::size_t i = 0; i < f.size(); ++i) {
            const double wavelen = 2 * std::numbers::pi / base[i];
            if (wavelen < 8192.0 / 4) { // high frequency: unchanged
                QCOMPARE(f[i], base[i]);
                ++high;
            } else if (wavelen > 8192.0) { // low frequency: divided by the factor
                QVERIFY(std::fabs(f[i] - base[i] / 8.0) <= 1e-7 * base[i]);
                ++low;
            } else { // in between: smooth interpolation
                const double smooth = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
                const double expected = (1 - smooth) * base[i] / 8.0 + smooth * base[i];
                QVERIFY(std::fabs(f[i] - expected) <= 1e-6 * expected);
                QVERIFY(f[i] < base[i] && f[i] > base[i] / 8.0);
                ++medium;
            }
            if (i > 0)
                QVERIFY(f[i] < f[i - 1]); // still decreasing
        }
        QVERIFY(high > 0 && low > 0 && medium > 0);
    }

    void reencodeComposesWithDirectEncoding_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("position");
        QTest::addColumn<int>("delta");
        QTest::newRow("default d128") << "default" << 128 << 17 << 4096;
        QTest::newRow("llama3 d128") << "llama3" << 128 << 300 << 65000;
        QTest::newRow("llama3 negative delta") << "llama3" << 128 << 70000 << -69000;
        QTest::newRow("d64 zero delta") << "default" << 64 << 5 << 0;
        QTest::newRow("d2") << "default" << 2 << 0 << 123456;
    }

    void reencodeComposesWithDirectEncoding()
    {
        QFETCH(QString, type);
        QFETCH(int, headDim);
        QFETCH(int, position);
        QFETCH(int, delta);
        const auto invFreq = type == "llama3" ? ropeInvFreq(headDim, 500000.0, llama31()) : ropeInvFreq(headDim, 10000.0);
        const auto x = randomVector(static_cast<std::size_t>(headDim), 7);
        std::vector<double> reencoded = x, direct = x;
        ropeRotate(reencoded, invFreq, position);
        ropeRotate(reencoded, invFreq, delta);
        ropeRotate(direct, invFreq, static_cast<double>(position) + delta);
        QVERIFY2(relativeError(reencoded, direct) < 1e-11, qPrintable(QString::number(relativeError(reencoded, direct))));
        // A rotation keeps the norm of each pair.
        for (int i = 0; i < headDim / 2; ++i) {
            const double n0 = std::hypot(x[static_cast<std::size_t>(i)], x[static_cast<std::size_t>(i + headDim / 2)]);
            const double n1 = std::hypot(direct[static_cast<std::size_t>(i)], direct[static_cast<std::size_t>(i + headDim / 2)]);
            QVERIFY(std::fabs(n0 - n1) < 1e-12 * (1 + n0));
        }
    }

    void reencodeBlocks()
    {
        // [outer = 2 layers x 3 heads][tokens][d]: blocks encoded at local positions 0..len-1 and
        // copied to their offsets in a concatenated cache == direct encoding at the global positions.
        const int outer = 6, d = 16;
        const std::vector<int> lengths{5, 1, 9, 3};
        const auto invFreq = ropeInvFreq(d, 500000.0, llama31());
        const int total = 18;
        const auto raw = randomVector(static_cast<std::size_t>(outer * total * d), 11);
        // Local encoding: block b's tokens stored contiguously at srcStart = global start (same layout).
        std::vector<double> local = raw, direct = raw;
        std::vector<RopeBlockRef> blocks;
        int start = 0;
        for (int len : lengths) {
            for (int o = 0; o < outer; ++o)
                for (int t = 0; t < len; ++t) {
                    const auto off = static_cast<std::size_t>((o * total + start + t) * d);
                    ropeRotate(std::span(local).subspan(off, static_cast<std::size_t>(d)), invFreq, t);
                    ropeRotate(std::span(direct).subspan(off, static_cast<std::size_t>(d)), invFreq, start + t);
                }
            blocks.push_back({start, start, len, start});
            start += len;
        }
        // In place.
        std::vector<double> inPlace = local;
        ropeReencodeRef(inPlace, total, inPlace, total, outer, d, blocks, invFreq);
        QVERIFY(relativeError(inPlace, direct) < 1e-12);
        // Copy into a larger cache at an offset of 7; rows outside the blocks untouched.
        const int dstTokens = total + 10;
        std::vector<double> dst(static_cast<std::size_t>(outer * dstTokens * d), 42.0);
        std::vector<RopeBlockRef> moved = blocks;
        for (auto& b : moved) {
            b.dstStart += 7;
            b.delta += 7;
        }
        ropeReencodeRef(local, total, dst, dstTokens, outer, d, moved, invFreq);
        for (int o = 0; o < outer; ++o)
            for (int t = 0; t < dstTokens; ++t) {
                for (int i = 0; i < d; ++i) {
                    const double got = dst[static_cast<std::size_t>((o * dstTokens + t) * d + i)];
                    if (t < 7 || t >= 7 + total) {
                        QCOMPARE(got, 42.0);
                    } else {
                        // equals the direct encoding of the same raw key at global position t
                        std::vector<double> row(raw.begin() + (o * total + t - 7) * d, raw.begin() + (o * total + t - 7 + 1) * d);
                        ropeRotate(row, invFreq, t);
                        QVERIFY(std::fabs(got - row[static_cast<std::size_t>(i)]) < 1e-12 * (1 + std::fabs(row[static_cast<std::size_t>(i)])));
                    }
                }
            }
    }

    void blockPrefillEqualsDenseMasked_data()
    {
        QTest::addColumn<QVector<int>>("lengths");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("headDim");
        QTest::newRow("single block") << QVector<int>{37} << 2 << 1 << 8;
        QTest::newRow("ragged gqa") << QVector<int>{5, 1, 12, 7, 3} << 4 << 2 << 16;
        QTest::newRow("one-token blocks") << QVector<int>{1, 1, 1, 1, 1, 1} << 3 << 3 << 4;
        QTest::newRow("last block one token") << QVector<int>{20, 9, 1} << 4 << 1 << 8;
    }

    void blockPrefillEqualsDenseMasked()
    {
        QFETCH(QVector<int>, lengths);
        QFETCH(int, heads);
        QFETCH(int, kvHeads);
        QFETCH(int, headDim);
        const auto starts = startsOf(std::vector<int>(lengths.begin(), lengths.end()));
        const int n = starts.back();
        const AttentionShape shape{n, heads, kvHeads, headDim, 0.0};
        const auto q = randomVector(static_cast<std::size_t>(heads * n * headDim), 1, 1.5);
        const auto k = randomVector(static_cast<std::size_t>(kvHeads * n * headDim), 2);
        const auto v = randomVector(static_cast<std::size_t>(kvHeads * n * headDim), 3);
        const auto block = blockPrefillRef(q, k, v, shape, starts);
        const auto dense = maskedAttentionRef(q, k, v, shape, [&](int i, int j) { return blockMaskAllows(starts, i, j); });
        QVERIFY2(relativeError(block, dense) < 1e-13, qPrintable(QString::number(relativeError(block, dense))));
        // The last block's rows equal full causal attention; a one-block layout is plain causal.
        const auto causal = maskedAttentionRef(q, k, v, shape, [](int i, int j) { return j <= i; });
        const int lastStart = starts[starts.size() - 2];
        for (int h = 0; h < heads; ++h)
            for (int i = lastStart; i < n; ++i)
                for (int c = 0; c < headDim; ++c) {
                    const auto idx = static_cast<std::size_t>((h * n + i) * headDim + c);
                    QVERIFY(std::fabs(block[idx] - causal[idx]) < 1e-12);
                }
        // Every block local (the engine's batch of blocks encoded alone): the same-block rule alone.
        const auto local = blockPrefillRef(q, k, v, shape, starts, /*lastBlockGlobal=*/false);
        const auto sameBlock = maskedAttentionRef(q, k, v, shape, [&](int i, int j) { return j <= i && blockOf(starts, i) == blockOf(starts, j); });
        QVERIFY2(relativeError(local, sameBlock) < 1e-13, qPrintable(QString::number(relativeError(local, sameBlock))));
        if (starts.size() > 2) // the last block's rows differ from the global ones
            QVERIFY(relativeError(local, block) > 1e-6);
        // A row of the first block only sees its own block: changing later keys does not move it.
        if (starts.size() > 2) {
            auto k2 = k;
            for (std::size_t idx = static_cast<std::size_t>(starts[1] * headDim); idx < static_cast<std::size_t>(n * headDim); ++idx)
                k2[idx] += 1.0; // KV head 0, tokens after the first block
            const auto moved = blockPrefillRef(q, k2, v, shape, starts);
            for (int i = 0; i < starts[1]; ++i)
                for (int c = 0; c < headDim; ++c) {
                    const auto idx = static_cast<std::size_t>(i * headDim + c);
                    QCOMPARE(moved[idx], block[idx]);
                }
        }
    }

    void blockMaskRule()
    {
        const auto starts = startsOf({3, 2, 4});
        QVERIFY(blockMaskAllows(starts, 0, 0));
        QVERIFY(!blockMaskAllows(starts, 1, 2));          // future key
        QVERIFY(!blockMaskAllows(starts, 4, 2));          // other (earlier) block, not the last
        QVERIFY(blockMaskAllows(starts, 4, 3));           // same block
        QVERIFY(blockMaskAllows(starts, 8, 0));           // last block sees everything before it
        QVERIFY(!blockMaskAllows(starts, 5, 6));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, checkBlockStarts(std::vector<std::int32_t>{0, 3, 3, 5}, 5));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, checkBlockStarts(std::vector<std::int32_t>{0, 3}, 5));
        QCOMPARE(blockOf(starts, 0), 0);
        QCOMPARE(blockOf(starts, 3), 1);
        QCOMPARE(blockOf(starts, 8), 2);
    }

    void attentionMass_data()
    {
        QTest::addColumn<QVector<int>>("lengths");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("headDim");
        QTest::newRow("single block") << QVector<int>{23} << 2 << 1 << 8;
        QTest::newRow("ragged gqa") << QVector<int>{4, 1, 10, 6, 2} << 4 << 2 << 16;
        QTest::newRow("one-token blocks") << QVector<int>{1, 1, 1, 1, 1} << 2 << 2 << 4;
    }

    void attentionMass()
    {
        QFETCH(QVector<int>, lengths);
        QFETCH(int, heads);
        QFETCH(int, kvHeads);
        QFETCH(int, headDim);
        const auto starts = startsOf(std::vector<int>(lengths.begin(), lengths.end()));
        const int n = starts.back(), nb = static_cast<int>(lengths.size()), group = heads / kvHeads;
        const AttentionShape shape{n, heads, kvHeads, headDim, 0.3};
        const auto q = randomVector(static_cast<std::size_t>(heads * n * headDim), 4, 2.0);
        const auto k = randomVector(static_cast<std::size_t>(kvHeads * n * headDim), 5);
        const auto r = attentionMassRef(q, k, shape, starts);
        QCOMPARE(r.tokenMass.size(), static_cast<std::size_t>(heads * n * nb));
        QCOMPARE(r.blockMass.size(), static_cast<std::size_t>(heads * nb * nb));
        for (int h = 0; h < heads; ++h) {
            // Independent path: the full probability matrix, then column sums per block.
            for (int i = 0; i < n; ++i) {
                std::vector<double> p(static_cast<std::size_t>(n), 0.0);
                double sum = 0;
                for (int j = 0; j <= i; ++j) {
                    double s = 0;
                    for (int c = 0; c < headDim; ++c)
                        s += q[static_cast<std::size_t>((h * n + i) * headDim + c)] * k[static_cast<std::size_t>(((h / group) * n + j) * headDim + c)];
                    p[static_cast<std::size_t>(j)] = std::exp(0.3 * s);
                    sum += p[static_cast<std::size_t>(j)];
                }
                double rowSum = 0;
                for (int b = 0; b < nb; ++b) {
                    double expected = 0;
                    for (int j = starts[static_cast<std::size_t>(b)]; j < starts[static_cast<std::size_t>(b) + 1]; ++j)
                        expected += p[static_cast<std::size_t>(j)] / sum;
                    const double got = r.tokenMass[static_cast<std::size_t>((h * n + i) * nb + b)];
                    QVERIFY(std::fabs(got - expected) < 1e-12);
                    if (starts[static_cast<std::size_t>(b)] > i)
                        QCOMPARE(got, 0.0);
                    rowSum += got;
                }
                QVERIFY(std::fabs(rowSum - 1.0) < 1e-12);
            }
            // Block rows: means of the token rows; each sums to 1; zero above the diagonal.
            for (int qb = 0; qb < nb; ++qb) {
                double rowSum = 0;
                for (int kb = 0; kb < nb; ++kb) {
                    double mean = 0;
                    for (int i = starts[static_cast<std::size_t>(qb)]; i < starts[static_cast<std::size_t>(qb) + 1]; ++i)
                        mean += r.tokenMass[static_cast<std::size_t>((h * n + i) * nb + kb)];
                    mean /= lengths[qb];
                    const double got = r.blockMass[static_cast<std::size_t>((h * nb + qb) * nb + kb)];
                    QVERIFY(std::fabs(got - mean) < 1e-12);
                    if (kb > qb)
                        QCOMPARE(got, 0.0);
                    rowSum += got;
                }
                QVERIFY(std::fabs(rowSum - 1.0) < 1e-12);
            }
        }
        if (nb == 1)
            for (double m : r.blockMass)
                QVERIFY(std::fabs(m - 1.0) < 1e-12);
    }
};

QTEST_GUILESS_MAIN(TestKernelsReference)
#include "test_kernels_reference.moc"
