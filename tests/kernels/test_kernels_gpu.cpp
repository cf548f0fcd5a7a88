// Each CUDA kernel of kernels/ against its CPU reference in double (label gpu; run on the GPU
// machine by tools/device/kernels.sh). For every case: fresh random inputs, outputs poisoned with
// NaN first, ||out - ref|| / ||ref|| under 1e-3 for fp32 results and under 1e-2 for bf16 results
// (fp16 RoPE: 1e-3), no NaN or Inf anywhere in what must be written, and what must not be
// written left alone. Both implementations of each op (simple and fast) are checked, over ragged
// blocks, one-token blocks, a single block, GQA, strided layouts and split-KV plans.
#include "attention_mass.cuh"
#include "block_prefill.cuh"
#include "rope_apply.cuh"
#include "rope_reencode.cuh"
#include "silu_mul.cuh"

#include "kernels/gpu_test_util.hpp"
#include "reference/attention.hpp"
#include "reference/numeric.hpp"
#include "reference/rope.hpp"

#include <QTest>

#include <cmath>
#include <cstring>
#include <random>
#include <utility>

using namespace blocklens::kernels;
using namespace blocklens::kernels::testing;

namespace {

const char* implName(Impl i)
{
    return i == Impl::simple ? "simple" : i == Impl::fast ? "fast" : i == Impl::hopper ? "hopper" : "auto";
}

// ---------------------------------------------------------------- RoPE re-encoding

struct RopeCase {
    const char* name;
    DType dtype;
    int layers, heads, headDim;
    int srcTokens, dstTokens;
    bool tokenMajor;   // [layers][tokens][heads][d] instead of [layers][heads][tokens][d]
    bool inPlace;
    bool llama3;
    std::vector<RopeBlock> blocks;
};

std::vector<RopeBlock> compactBlocks(const std::vector<int>& lengths, int dstOffset, int extraDelta)
{
    std::vector<RopeBlock> out;
    int s = 0;
    for (int len : lengths) {
        out.push_back({s, s + dstOffset, len, s + dstOffset + extraDelta});
        s += len;
    }
    return out;
}

std::vector<RopeCase> ropeCases()
{
    std::vector<RopeCase> c;
    const std::vector<int> ragged{1, 30, 7, 1, 38};
    c.push_back({"in place, engine cache, ragged, bf16", DType::bf16, 2, 3, 128, 77, 77, false, true, true, compactBlocks(ragged, 0, 0)});
    c.push_back({"in place, ragged, fp16", DType::f16, 2, 3, 128, 77, 77, false, true, true, compactBlocks(ragged, 0, 0)});
    c.push_back({"copy into concatenated cache, bf16", DType::bf16, 1, 8, 128, 300, 420, false, false, true,
                 compactBlocks({100, 1, 64, 135}, 60, 0)});
    c.push_back({"copy, token-major, d64, fp16", DType::f16, 3, 4, 64, 90, 200, true, false, false, compactBlocks({33, 57}, 100, 7)});
    c.push_back({"large offsets and negative delta, bf16", DType::bf16, 1, 2, 128, 64, 64, false, true, true,
                 {{0, 0, 32, 65000}, {32, 32, 32, -70000}}});
    c.push_back({"single block, bf16", DType::bf16, 4, 8, 128, 129, 129, false, true, true, compactBlocks({129}, 0, 1000)});
    std::vector<int> ones(600, 1); // > 256 blocks: several launches
    c.push_back({"600 one-token blocks, bf16", DType::bf16, 1, 2, 128, 600, 600, false, true, true, compactBlocks(ones, 0, 3)});
    c.push_back({"d24 (scalar path only), bf16", DType::bf16, 1, 2, 24, 40, 40, false, true, false, compactBlocks({13, 27}, 0, 5)});
    return c;
}

// ---------------------------------------------------------------- attention shapes

struct AttnCase {
    const char* name;
    std::vector<int> lengths;
    int heads, kvHeads, headDim;
    bool tokenMajor;    // q/k/v/o as [n][heads][d] (FlashAttention's layout) instead of [heads][n][d]
    int globalChunk;    // block prefill only: forced split of the last block (0 = automatic)
};

std::vector<AttnCase> attnCases()
{
    std::vector<AttnCase> c;
    c.push_back({"single block (plain causal)", {300}, 4, 2, 128, false, 0});
    c.push_back({"ragged, gqa 4", {1, 130, 7, 1, 300, 64, 1, 200}, 4, 1, 128, false, 0});
    c.push_back({"one-token blocks", std::vector<int>(40, 1), 2, 2, 128, false, 0});
    c.push_back({"last block one token", {128, 256, 1}, 4, 2, 128, false, 0});
    c.push_back({"multiples of 128, token-major", {256, 128, 384, 128}, 4, 2, 128, true, 0});
    c.push_back({"split last block (chunk 256)", {1000, 13, 300}, 4, 2, 128, false, 256});
    c.push_back({"split, one-token last block", {700, 1}, 2, 1, 128, false, 128});
    c.push_back({"d64 (simple path only)", {50, 1, 77}, 4, 2, 64, false, 0});
    // More blocks than the Hopper kernel's small parameter tables hold (kSmallBlocks = 127).
    std::vector<int> many;
    for (int i = 0; i < 200; ++i)
        many.push_back(1 + (i * 7) % 5);
    c.push_back({"200 ragged blocks (large parameter tables)", many, 2, 1, 128, false, 0});
    return c;
}

struct AttnData {
    std::vector<double> q, k, v; // reference layout [heads][n][d] / [kv][n][d]
    DeviceBuffer dq, dk, dv;
    std::int64_t qHead, qTok, kHead, kTok; // strides on the device (v like k, o like q)
};

// Random bf16 q/k/v uploaded in the case's layout.
AttnData makeAttnData(const AttnCase& c, std::mt19937& rng, double qScale)
{
    AttnData d;
    const int n = static_cast<int>(startsOf(c.lengths).back());
    const std::size_t nq = static_cast<std::size_t>(c.heads) * n * c.headDim, nk = static_cast<std::size_t>(c.kvHeads) * n * c.headDim;
    const auto qb = randomHalf(nq, rng, qScale, DType::bf16, d.q);
    const auto kb = randomHalf(nk, rng, 1.0, DType::bf16, d.k);
    const auto vb = randomHalf(nk, rng, 1.0, DType::bf16, d.v);
    d.qHead = c.tokenMajor ? c.headDim : static_cast<std::int64_t>(n) * c.headDim;
    d.qTok = c.tokenMajor ? static_cast<std::int64_t>(c.heads) * c.headDim : c.headDim;
    d.kHead = c.tokenMajor ? c.headDim : static_cast<std::int64_t>(n) * c.headDim;
    d.kTok = c.tokenMajor ? static_cast<std::int64_t>(c.kvHeads) * c.headDim : c.headDim;
    auto relayout = [&](const std::vector<std::uint16_t>& src, int heads, std::int64_t hs, std::int64_t ts) {
        std::vector<std::uint16_t> out(src.size());
        for (int h = 0; h < heads; ++h)
            for (int t = 0; t < n; ++t)
                for (int i = 0; i < c.headDim; ++i)
                    out[static_cast<std::size_t>(h * hs + t * ts + i)] = src[(static_cast<std::size_t>(h) * n + t) * c.headDim + i];
        return out;
    };
    const auto qd = relayout(qb, c.heads, d.qHead, d.qTok);
    const auto kd = relayout(kb, c.kvHeads, d.kHead, d.kTok);
    const auto vd = relayout(vb, c.kvHeads, d.kHead, d.kTok);
    d.dq = DeviceBuffer(qd.size() * 2);
    d.dk = DeviceBuffer(kd.size() * 2);
    d.dv = DeviceBuffer(vd.size() * 2);
    d.dq.upload(qd.data(), qd.size() * 2);
    d.dk.upload(kd.data(), kd.size() * 2);
    d.dv.upload(vd.data(), vd.size() * 2);
    return d;
}

// |got - want| in units of the storage type's last place at want's magnitude, with an allowance of
// a few 2^-24 of `mag` for fp32 arithmetic (cancellation between two products).
double ulpsOff(double got, double want, double mag, DType dtype)
{
    const double ulp = std::max(std::ldexp(1.0, std::ilogb(std::max(std::fabs(want), 1e-30)) - (dtype == DType::bf16 ? 7 : 10)),
                                dtype == DType::f16 ? std::ldexp(1.0, -24) : 0.0);
    return std::fabs(got - want) / (ulp + std::ldexp(mag, -22));
}

} // namespace

class TestKernelsGpu : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        int count = 0;
        const cudaError_t e = cudaGetDeviceCount(&count);
        QVERIFY2(e == cudaSuccess && count > 0, "no CUDA device: the gpu tests must run on the GPU machine");
        cudaDeviceProp prop{};
        QCOMPARE(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
        qInfo("device: %s, sm_%d%d, %d SMs", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
    }

    void rope_data()
    {
        QTest::addColumn<int>("index");
        QTest::addColumn<int>("impl");
        const auto cases = ropeCases();
        for (int i = 0; i < static_cast<int>(cases.size()); ++i)
            for (Impl impl : {Impl::simple, Impl::fast})
                QTest::newRow(qPrintable(QString("%1 / %2").arg(cases[static_cast<std::size_t>(i)].name, implName(impl))))
                    << i << static_cast<int>(impl);
    }

    void rope()
    {
        QFETCH(int, index);
        QFETCH(int, impl);
        const RopeCase c = ropeCases()[static_cast<std::size_t>(index)];
        std::mt19937 rng(1000 + index);
        const auto invFreq = c.llama3 ? ref::ropeInvFreq(c.headDim, 500000.0, ref::RopeScaling{"llama3", 8.0, 1.0, 4.0, 8192})
                                      : ref::ropeInvFreq(c.headDim, 10000.0);
        // strides (elements) of a [layers][heads][tokens][d] or [layers][tokens][heads][d] tensor
        auto strides = [&](int tokens, std::int64_t& ls, std::int64_t& hs, std::int64_t& ts) {
            ls = static_cast<std::int64_t>(c.heads) * tokens * c.headDim;
            hs = c.tokenMajor ? c.headDim : static_cast<std::int64_t>(tokens) * c.headDim;
            ts = c.tokenMajor ? static_cast<std::int64_t>(c.heads) * c.headDim : c.headDim;
        };
        RopeReencodeParams p;
        strides(c.srcTokens, p.src_layer_stride, p.src_head_stride, p.src_token_stride);
        strides(c.dstTokens, p.dst_layer_stride, p.dst_head_stride, p.dst_token_stride);
        const std::size_t srcN = static_cast<std::size_t>(c.layers) * c.heads * c.srcTokens * c.headDim;
        const std::size_t dstN = static_cast<std::size_t>(c.layers) * c.heads * c.dstTokens * c.headDim;
        std::vector<double> srcVals;
        const auto srcBits = randomHalf(srcN, rng, 2.0, c.dtype, srcVals);
        DeviceBuffer src(srcN * 2), dstBuf(c.inPlace ? 16 : dstN * 2);
        src.upload(srcBits.data(), srcN * 2);
        if (!c.inPlace)
            dstBuf.poison();
        p.src = src.get();
        p.dst = c.inPlace ? src.get() : dstBuf.get();
        p.dtype = c.dtype;
        p.n_layers = c.layers;
        p.n_heads = c.heads;
        p.head_dim = c.headDim;
        p.blocks = c.blocks.data();
        p.n_blocks = static_cast<int>(c.blocks.size());
        p.inv_freq = invFreq.data();
        p.impl = static_cast<Impl>(impl);
        if (p.impl == Impl::fast && c.headDim % 16 != 0) {
            QVERIFY_THROWS_EXCEPTION(KernelError, rope_reencode_cuda(p, nullptr));
            return;
        }
        rope_reencode_cuda(p, nullptr);
        cudaCheck(cudaDeviceSynchronize(), "rope_reencode");
        std::vector<std::uint16_t> outBits(c.inPlace ? srcN : dstN);
        (c.inPlace ? src : dstBuf).download(outBits.data(), outBits.size() * 2);
        const auto outVals = halfToDouble(outBits, c.dtype);

        std::vector<char> covered(outBits.size(), 0);
        std::vector<double> got, want, row(static_cast<std::size_t>(c.headDim));
        double maxUlps = 0;
        for (const RopeBlock& b : c.blocks)
            for (int l = 0; l < c.layers; ++l)
                for (int h = 0; h < c.heads; ++h)
                    for (int t = 0; t < b.length; ++t) {
                        const std::int64_t so = l * p.src_layer_stride + h * p.src_head_stride + (b.src_start + t) * p.src_token_stride;
                        const std::int64_t dOff = l * p.dst_layer_stride + h * p.dst_head_stride + (b.dst_start + t) * p.dst_token_stride;
                        row.assign(srcVals.begin() + so, srcVals.begin() + so + c.headDim);
                        ref::ropeRotate(row, invFreq, b.delta);
                        for (int i = 0; i < c.headDim; ++i) {
                            const double o = outVals[static_cast<std::size_t>(dOff + i)];
                            // fp32 arithmetic on the pair (x_i, x_pair): cancellation can cost
                            // a few 2^-24 of |x_i| + |x_pair| on top of the storage rounding
                            const int half = c.headDim / 2;
                            const double pairMag = std::fabs(srcVals[static_cast<std::size_t>(so + i)])
                                                   + std::fabs(srcVals[static_cast<std::size_t>(so + (i < half ? i + half : i - half))]);
                            got.push_back(o);
                            want.push_back(row[static_cast<std::size_t>(i)]);
                            covered[static_cast<std::size_t>(dOff + i)] = 1;
                            // one unit in the last place of the storage type, at the reference's magnitude
                            // (fp16 subnormals: spacing 2^-24)
                            const double ulp = std::max(std::ldexp(1.0, std::ilogb(std::max(std::fabs(row[static_cast<std::size_t>(i)]), 1e-30))
                                                                            - (c.dtype == DType::bf16 ? 7 : 10)),
                                                        c.dtype == DType::f16 ? std::ldexp(1.0, -24) : 0.0);
                            maxUlps = std::max(maxUlps, std::fabs(o - row[static_cast<std::size_t>(i)]) / (ulp + std::ldexp(pairMag, -22)));
                        }
                    }
        QCOMPARE(ref::countNonFinite(got), std::size_t(0));
        const double err = ref::relativeError(got, want);
        const double tol = c.dtype == DType::bf16 ? 1e-2 : 1e-3;
        qInfo("rel err %.3g (bound %.0e), max %.2f ulp (+ fp32 allowance), %zu values", err, tol, maxUlps, got.size());
        QVERIFY2(err < tol, qPrintable(QString("relative error %1").arg(err)));
        QVERIFY2(maxUlps <= 1.0, qPrintable(QString("max error %1 ulp").arg(maxUlps)));
        // Elements outside the blocks: untouched (in place: the input; copy: still the NaN poison).
        for (std::size_t i = 0; i < outBits.size(); ++i) {
            if (covered[i])
                continue;
            if (c.inPlace)
                QCOMPARE(outBits[i], srcBits[i]);
            else
                QCOMPARE(outBits[i], std::uint16_t(0xffff));
        }
    }

    void placeBlocks_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("headDim");
        QTest::newRow("bf16, head_dim 128") << static_cast<int>(DType::bf16) << 128;
        QTest::newRow("fp16, head_dim 64") << static_cast<int>(DType::f16) << 64;
    }

    // Blocks of their own allocations placed into one buffer: K rotated (as rope_reencode), V
    // copied bit for bit, every other row left alone; more blocks than one launch takes.
    void placeBlocks()
    {
        QFETCH(int, dtype);
        QFETCH(int, headDim);
        const auto dt = static_cast<DType>(dtype);
        const int layers = 3, heads = 2;
        std::mt19937 rng(77 + headDim);
        const auto invFreq = ref::ropeInvFreq(headDim, 500000.0, ref::RopeScaling{"llama3", 8.0, 1.0, 4.0, 8192});
        std::vector<int> lengths{1, 37, 5, 64, 0, 3};
        for (int i = 0; i < 70; ++i) // 76 blocks: two launches
            lengths.push_back(1 + i % 4);
        std::vector<PlaceBlock> blocks;
        std::vector<DeviceBuffer> kSrc, vSrc;
        std::vector<std::vector<double>> kVals, vVals;
        std::vector<std::vector<std::uint16_t>> vBits;
        int start = 3; // rows [0, 3) and a gap after each block stay untouched
        for (std::size_t b = 0; b < lengths.size(); ++b) {
            const std::size_t n = static_cast<std::size_t>(layers) * heads * lengths[b] * headDim;
            std::vector<double> kv, vv;
            const auto kb = randomHalf(n, rng, 2.0, dt, kv);
            vBits.push_back(randomHalf(n, rng, 2.0, dt, vv));
            kSrc.emplace_back(std::max<std::size_t>(n * 2, 16));
            vSrc.emplace_back(std::max<std::size_t>(n * 2, 16));
            if (n > 0) {
                kSrc.back().upload(kb.data(), n * 2);
                vSrc.back().upload(vBits.back().data(), n * 2);
            }
            kVals.push_back(std::move(kv));
            vVals.push_back(std::move(vv));
            const int delta = b % 3 == 0 ? 0 : start + static_cast<int>(b) * 997; // 0, and up to ~75k positions
            blocks.push_back({kSrc.back().get(), vSrc.back().get(), start, lengths[b], delta});
            start += lengths[b] + static_cast<int>(b % 2);
        }
        const int tokens = start + 2;
        const std::size_t dstN = static_cast<std::size_t>(layers) * heads * tokens * headDim;
        DeviceBuffer kDst(dstN * 2), vDst(dstN * 2);
        kDst.poison();
        vDst.poison();
        PlaceBlocksParams p;
        p.k_dst = kDst.get();
        p.v_dst = vDst.get();
        p.dtype = dt;
        p.n_layers = layers;
        p.n_heads = heads;
        p.head_dim = headDim;
        p.dst_layer_stride = static_cast<std::int64_t>(heads) * tokens * headDim;
        p.dst_head_stride = static_cast<std::int64_t>(tokens) * headDim;
        p.dst_token_stride = headDim;
        p.dst_tokens = tokens;
        p.blocks = blocks.data();
        p.n_blocks = static_cast<int>(blocks.size());
        p.inv_freq = invFreq.data();
        place_blocks_cuda(p, nullptr);
        cudaCheck(cudaDeviceSynchronize(), "place_blocks");
        std::vector<std::uint16_t> kOut(dstN), vOut(dstN);
        kDst.download(kOut.data(), dstN * 2);
        vDst.download(vOut.data(), dstN * 2);
        const auto kGot = halfToDouble(kOut, dt);
        std::vector<char> covered(dstN, 0);
        std::vector<double> got, want, row(static_cast<std::size_t>(headDim));
        double maxUlps = 0;
        const int half = headDim / 2;
        for (std::size_t b = 0; b < blocks.size(); ++b)
            for (int l = 0; l < layers; ++l)
                for (int h = 0; h < heads; ++h)
                    for (int t = 0; t < lengths[b]; ++t) {
                        const std::size_t so = ((static_cast<std::size_t>(l) * heads + h) * lengths[b] + t) * headDim;
                        const std::size_t dOff = static_cast<std::size_t>(l * p.dst_layer_stride + h * p.dst_head_stride
                                                                          + (blocks[b].dst_start + t) * p.dst_token_stride);
                        row.assign(kVals[b].begin() + static_cast<std::ptrdiff_t>(so), kVals[b].begin() + static_cast<std::ptrdiff_t>(so) + headDim);
                        ref::ropeRotate(row, invFreq, blocks[b].delta);
                        for (int i = 0; i < headDim; ++i) {
                            const double mag = std::fabs(kVals[b][so + i]) + std::fabs(kVals[b][so + (i < half ? i + half : i - half)]);
                            got.push_back(kGot[dOff + i]);
                            want.push_back(row[static_cast<std::size_t>(i)]);
                            maxUlps = std::max(maxUlps, ulpsOff(kGot[dOff + i], row[static_cast<std::size_t>(i)], mag, dt));
                            QCOMPARE(vOut[dOff + i], vBits[b][so + i]); // values: copied unchanged
                            covered[dOff + i] = 1;
                        }
                    }
        QCOMPARE(ref::countNonFinite(got), std::size_t(0));
        const double err = ref::relativeError(got, want);
        qInfo("place_blocks: %zu blocks, keys rel err %.3g, max %.2f ulp (+ fp32 allowance); values exact", blocks.size(), err, maxUlps);
        QVERIFY2(maxUlps <= 1.0, qPrintable(QString("max error %1 ulp").arg(maxUlps)));
        for (std::size_t i = 0; i < dstN; ++i)
            if (!covered[i]) {
                QCOMPARE(kOut[i], std::uint16_t(0xffff));
                QCOMPARE(vOut[i], std::uint16_t(0xffff));
            }
        // A block that does not fit the destinations is refused before anything runs.
        blocks.back().dst_start = tokens - blocks.back().length + 1;
        QVERIFY_THROWS_EXCEPTION(KernelError, place_blocks_cuda(p, nullptr));
    }

    void ropeApply_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<bool>("inPlace");
        QTest::newRow("bf16") << static_cast<int>(DType::bf16) << false;
        QTest::newRow("bf16 in place") << static_cast<int>(DType::bf16) << true;
        QTest::newRow("fp16") << static_cast<int>(DType::f16) << false;
    }

    // x [heads, n, d] inside a token-major [n, heads + 1, d] projection (as the engine's Q|K part
    // of its fused QKV product) rotated with per-token cos and signed-sin tables.
    void ropeApply()
    {
        QFETCH(int, dtype);
        QFETCH(bool, inPlace);
        const auto dt = static_cast<DType>(dtype);
        const int heads = 5, tokens = 33, d = 128, half = d / 2, width = heads + 1;
        std::mt19937 rng(5 + dtype);
        std::vector<double> xv, cv(static_cast<std::size_t>(tokens) * d), sv(static_cast<std::size_t>(tokens) * d);
        const std::size_t xn = static_cast<std::size_t>(tokens) * width * d;
        const auto xb = randomHalf(xn, rng, 2.0, dt, xv);
        // the tables as the engine builds them: cos(p f_i) twice, (-sin, +sin), rounded to the storage type
        const auto invFreq = ref::ropeInvFreq(d, 500000.0);
        std::vector<double> raw(2 * cv.size());
        for (int t = 0; t < tokens; ++t)
            for (int i = 0; i < d; ++i) {
                const double a = (1000.0 + 37.0 * t) * invFreq[static_cast<std::size_t>(i % half)];
                raw[static_cast<std::size_t>(t * d + i)] = std::cos(a);
                raw[cv.size() + static_cast<std::size_t>(t * d + i)] = i < half ? -std::sin(a) : std::sin(a);
            }
        std::vector<std::uint16_t> tableBits(raw.size());
        for (std::size_t i = 0; i < raw.size(); ++i)
            tableBits[i] = dt == DType::bf16 ? ref::floatToBf16(static_cast<float>(raw[i])) : ref::floatToF16(static_cast<float>(raw[i]));
        const auto tables = halfToDouble(tableBits, dt);
        DeviceBuffer x(xn * 2), cs(tableBits.size() * 2), out(xn * 2);
        x.upload(xb.data(), xn * 2);
        cs.upload(tableBits.data(), tableBits.size() * 2);
        out.poison();
        RopeApplyParams p;
        p.x = x.get();
        p.out = inPlace ? x.get() : out.get();
        p.dtype = dt;
        p.n_heads = heads;
        p.n_tokens = tokens;
        p.head_dim = d;
        p.x_head_stride = p.out_head_stride = d;
        p.x_token_stride = p.out_token_stride = static_cast<std::int64_t>(width) * d;
        p.cos = cs.get();
        p.sin = static_cast<const std::uint16_t*>(cs.get()) + cv.size();
        rope_apply_cuda(p, nullptr);
        cudaCheck(cudaDeviceSynchronize(), "rope_apply");
        std::vector<std::uint16_t> ob(xn);
        (inPlace ? x : out).download(ob.data(), xn * 2);
        const auto ov = halfToDouble(ob, dt);
        double maxUlps = 0;
        for (int t = 0; t < tokens; ++t)
            for (int h = 0; h < width; ++h)
                for (int i = 0; i < d; ++i) {
                    const std::size_t at = (static_cast<std::size_t>(t) * width + h) * d + i;
                    if (h == heads) { // the extra head: not part of x
                        QCOMPARE(ob[at], inPlace ? xb[at] : std::uint16_t(0xffff));
                        continue;
                    }
                    const std::size_t pair = i < half ? at + half : at - half;
                    const double c = tables[static_cast<std::size_t>(t * d + i)], s = tables[cv.size() + static_cast<std::size_t>(t * d + i)];
                    const double want = xv[at] * c + xv[pair] * s;
                    QVERIFY(std::isfinite(ov[at]));
                    maxUlps = std::max(maxUlps, ulpsOff(ov[at], want, std::fabs(xv[at] * c) + std::fabs(xv[pair] * s), dt));
                }
        qInfo("rope_apply: max %.2f ulp (+ fp32 allowance)", maxUlps);
        QVERIFY2(maxUlps <= 1.0, qPrintable(QString("max error %1 ulp").arg(maxUlps)));
    }

    void siluMul_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<bool>("inPlace");
        QTest::newRow("bf16") << static_cast<int>(DType::bf16) << false;
        QTest::newRow("bf16 into gate") << static_cast<int>(DType::bf16) << true;
        QTest::newRow("fp16") << static_cast<int>(DType::f16) << false;
    }

    // gate and up as the two halves of one fused product's rows; out with a gap after each row.
    void siluMul()
    {
        QFETCH(int, dtype);
        QFETCH(bool, inPlace);
        const auto dt = static_cast<DType>(dtype);
        const std::int64_t rows = 7, cols = 136, outStride = cols + 8;
        std::mt19937 rng(9 + dtype);
        std::vector<double> gu;
        const auto gub = randomHalf(static_cast<std::size_t>(rows * 2 * cols), rng, 3.0, dt, gu);
        DeviceBuffer in(gub.size() * 2), out(static_cast<std::size_t>(rows * outStride) * 2);
        in.upload(gub.data(), gub.size() * 2);
        out.poison();
        SiluMulParams p;
        p.gate = in.get();
        p.up = static_cast<const std::uint16_t*>(in.get()) + cols;
        p.out = inPlace ? in.get() : out.get();
        p.dtype = dt;
        p.rows = rows;
        p.cols = cols;
        p.gate_row_stride = p.up_row_stride = 2 * cols;
        p.out_row_stride = inPlace ? 2 * cols : outStride;
        silu_mul_cuda(p, nullptr);
        cudaCheck(cudaDeviceSynchronize(), "silu_mul");
        const std::int64_t stride = p.out_row_stride;
        std::vector<std::uint16_t> ob(static_cast<std::size_t>(rows * stride));
        (inPlace ? in : out).download(ob.data(), ob.size() * 2);
        const auto ov = halfToDouble(ob, dt);
        double maxUlps = 0;
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < stride; ++c) {
                const std::size_t at = static_cast<std::size_t>(r * stride + c);
                if (c >= cols) { // the gap (or, in place, the up half): untouched
                    QCOMPARE(ob[at], inPlace ? gub[at] : std::uint16_t(0xffff));
                    continue;
                }
                const double g = gu[static_cast<std::size_t>(r * 2 * cols + c)], u = gu[static_cast<std::size_t>(r * 2 * cols + cols + c)];
                const double want = g / (1.0 + std::exp(-g)) * u;
                QVERIFY(std::isfinite(ov[at]));
                maxUlps = std::max(maxUlps, ulpsOff(ov[at], want, std::fabs(want), dt));
            }
        qInfo("silu_mul: max %.2f ulp (+ fp32 allowance)", maxUlps);
        QVERIFY2(maxUlps <= 1.0, qPrintable(QString("max error %1 ulp").arg(maxUlps)));
    }

    void blockPrefill_data()
    {
        QTest::addColumn<int>("index");
        QTest::addColumn<int>("impl");
        QTest::addColumn<int>("tileRows");
        const auto cases = attnCases();
        for (int i = 0; i < static_cast<int>(cases.size()); ++i) {
            const QString name = cases[static_cast<std::size_t>(i)].name;
            QTest::newRow(qPrintable(name + " / simple")) << i << static_cast<int>(Impl::simple) << 0;
            QTest::newRow(qPrintable(name + " / fast, 128-row tiles")) << i << static_cast<int>(Impl::fast) << 128;
            QTest::newRow(qPrintable(name + " / fast, 64-row tiles")) << i << static_cast<int>(Impl::fast) << 64;
            QTest::newRow(qPrintable(name + " / hopper")) << i << static_cast<int>(Impl::hopper) << 0;
            QTest::newRow(qPrintable(name + " / hopper, no work counter")) << i << static_cast<int>(Impl::hopper) << -1;
        }
        // Every block local (last_block_global = false: the engine's batch of block-cache misses);
        // tileRows -2 marks these rows.
        for (int i : {0, 1, 2, 4, 8}) {
            const QString name = cases[static_cast<std::size_t>(i)].name;
            QTest::newRow(qPrintable(name + " / all local, simple")) << i << static_cast<int>(Impl::simple) << -2;
            QTest::newRow(qPrintable(name + " / all local, fast")) << i << static_cast<int>(Impl::fast) << -2;
            QTest::newRow(qPrintable(name + " / all local, hopper")) << i << static_cast<int>(Impl::hopper) << -2;
            QTest::newRow(qPrintable(name + " / all local, automatic")) << i << static_cast<int>(Impl::automatic) << -2;
        }
    }

    void blockPrefill()
    {
        QFETCH(int, index);
        QFETCH(int, impl);
        QFETCH(int, tileRows);
        const AttnCase c = attnCases()[static_cast<std::size_t>(index)];
        const auto starts = startsOf(c.lengths);
        const int n = starts.back();
        std::mt19937 rng(2000 + index + 17 * tileRows);
        AttnData d = makeAttnData(c, rng, 1.5);
        DeviceBuffer o(static_cast<std::size_t>(c.heads) * n * c.headDim * 2);
        o.poison();
        BlockPrefillParams p;
        p.q = d.dq.get();
        p.k = d.dk.get();
        p.v = d.dv.get();
        p.o = o.get();
        p.n_tokens = n;
        p.n_heads = c.heads;
        p.n_kv_heads = c.kvHeads;
        p.head_dim = c.headDim;
        p.q_head_stride = p.o_head_stride = d.qHead;
        p.q_token_stride = p.o_token_stride = d.qTok;
        p.k_head_stride = p.v_head_stride = d.kHead;
        p.k_token_stride = p.v_token_stride = d.kTok;
        p.block_starts = starts.data();
        p.n_blocks = static_cast<int>(c.lengths.size());
        p.global_chunk = c.globalChunk;
        p.tile_rows = std::max(tileRows, 0);
        p.impl = static_cast<Impl>(impl);
        const bool allLocal = tileRows == -2;
        p.last_block_global = !allLocal;
        if ((p.impl == Impl::fast || p.impl == Impl::hopper) && c.headDim != 128) {
            QVERIFY_THROWS_EXCEPTION(KernelError, block_prefill_cuda(p, nullptr));
            return;
        }
        DeviceBuffer ws(block_prefill_workspace_bytes(p));
        p.workspace = ws.get();
        p.workspace_bytes = ws.bytes();
        if (tileRows == -1) { // hopper without a workspace: static work order, the last block unsplit
            p.workspace = nullptr;
            p.workspace_bytes = 0;
        }
        block_prefill_cuda(p, nullptr);
        cudaCheck(cudaDeviceSynchronize(), "block_prefill");
        std::vector<std::uint16_t> bits(static_cast<std::size_t>(c.heads) * n * c.headDim);
        o.download(bits.data(), bits.size() * 2);
        std::vector<double> got(bits.size());
        for (int h = 0; h < c.heads; ++h)
            for (int t = 0; t < n; ++t)
                for (int i = 0; i < c.headDim; ++i)
                    got[(static_cast<std::size_t>(h) * n + t) * c.headDim + i] =
                        ref::bf16ToFloat(bits[static_cast<std::size_t>(h * d.qHead + t * d.qTok + i)]);
        const ref::AttentionShape shape{n, c.heads, c.kvHeads, c.headDim, 0.0};
        const auto want = ref::blockPrefillRef(d.q, d.k, d.v, shape, starts, !allLocal);
        QCOMPARE(ref::countNonFinite(got), std::size_t(0));
        const double err = ref::relativeError(got, want);
        qInfo("rel err %.3g (bound 1e-2), workspace %zu bytes", err, ws.bytes());
        QVERIFY2(err < 1e-2, qPrintable(QString("relative error %1").arg(err)));
    }

    // A realistic shape (Llama-3-8B heads, 8k tokens, automatic split of the last block): the fast
    // kernel against the simple one (fp32 probabilities: the higher-precision computation here).
    void blockPrefillLarge()
    {
        const int n = 8192, heads = 32, kv = 8, dim = 128;
        std::vector<int> lengths;
        for (int s = 0; s < n - 512;) {
            const int len = std::min(300 + (s * 7) % 700, n - 512 - s);
            lengths.push_back(len);
            s += len;
        }
        lengths.push_back(512);
        const AttnCase c{"large", lengths, heads, kv, dim, false, 0};
        std::mt19937 rng(77);
        AttnData d = makeAttnData(c, rng, 1.0);
        const auto starts = startsOf(lengths);
        DeviceBuffer o1(static_cast<std::size_t>(heads) * n * dim * 2), o2(static_cast<std::size_t>(heads) * n * dim * 2);
        BlockPrefillParams p;
        p.q = d.dq.get();
        p.k = d.dk.get();
        p.v = d.dv.get();
        p.n_tokens = n;
        p.n_heads = heads;
        p.n_kv_heads = kv;
        p.head_dim = dim;
        p.q_head_stride = p.o_head_stride = d.qHead;
        p.q_token_stride = p.o_token_stride = d.qTok;
        p.k_head_stride = p.v_head_stride = d.kHead;
        p.k_token_stride = p.v_token_stride = d.kTok;
        p.block_starts = starts.data();
        p.n_blocks = static_cast<int>(lengths.size());
        o2.poison();
        p.o = o2.get();
        p.impl = Impl::simple;
        block_prefill_cuda(p, nullptr);
        std::vector<std::uint16_t> b1(static_cast<std::size_t>(heads) * n * dim), b2(b1.size());
        o2.download(b2.data(), b2.size() * 2);
        const auto simple = halfToDouble(b2, DType::bf16);
        QCOMPARE(ref::countNonFinite(simple), std::size_t(0));
        // default plan with both tile heights, and a forced split of the last block (2048-key
        // chunks); rows 0: the Hopper kernel
        for (auto [rows, chunk] : {std::pair{128, 0}, std::pair{64, 0}, std::pair{64, 2048}, std::pair{0, 0}, std::pair{0, 2048}}) {
            p.impl = rows == 0 ? Impl::hopper : Impl::fast;
            p.tile_rows = rows;
            p.global_chunk = chunk;
            DeviceBuffer ws2(block_prefill_workspace_bytes(p));
            if (chunk > 0)
                QVERIFY(ws2.bytes() > 0); // the last block is split
            p.workspace = ws2.get();
            p.workspace_bytes = ws2.bytes();
            o1.poison();
            p.o = o1.get();
            block_prefill_cuda(p, nullptr);
            cudaCheck(cudaDeviceSynchronize(), "block_prefill large");
            o1.download(b1.data(), b1.size() * 2);
            const auto fast = halfToDouble(b1, DType::bf16);
            QCOMPARE(ref::countNonFinite(fast), std::size_t(0));
            const double err = ref::relativeError(fast, simple);
            qInfo("fast (%d-row tiles, chunk %d, workspace %zu) vs simple: rel err %.3g over %zu values (%zu blocks)", rows, chunk,
                  ws2.bytes(), err, fast.size(), lengths.size());
            QVERIFY2(err < 1e-2, qPrintable(QString("relative error %1").arg(err)));
        }
    }

    void attentionMass_data()
    {
        QTest::addColumn<int>("index");
        QTest::addColumn<int>("impl");
        QTest::addColumn<bool>("subsetAndPasses");
        const auto cases = attnCases();
        for (int i = 0; i < static_cast<int>(cases.size()); ++i)
            for (Impl impl : {Impl::simple, Impl::fast})
                for (bool subset : {false, true}) {
                    if (subset && i % 3 != 1)
                        continue;
                    QTest::newRow(qPrintable(QString("%1 / %2%3")
                                                 .arg(cases[static_cast<std::size_t>(i)].name, implName(impl),
                                                      subset ? " / head subset, one head per pass" : "")))
                        << i << static_cast<int>(impl) << subset;
                }
    }

    void attentionMass()
    {
        QFETCH(int, index);
        QFETCH(int, impl);
        QFETCH(bool, subsetAndPasses);
        const AttnCase c = attnCases()[static_cast<std::size_t>(index)];
        const auto starts = startsOf(c.lengths);
        const int n = starts.back(), nb = static_cast<int>(c.lengths.size());
        std::mt19937 rng(3000 + index);
        AttnData d = makeAttnData(c, rng, 2.0); // peaky rows too
        const std::vector<std::int32_t> subset{c.heads - 1, 0};
        const int outHeads = subsetAndPasses ? 2 : c.heads;
        DeviceBuffer bm(static_cast<std::size_t>(outHeads) * nb * nb * 4), tm(static_cast<std::size_t>(outHeads) * n * nb * 4);
        bm.poison();
        tm.poison();
        AttentionMassParams p;
        p.q = d.dq.get();
        p.k = d.dk.get();
        p.n_tokens = n;
        p.n_heads = c.heads;
        p.n_kv_heads = c.kvHeads;
        p.head_dim = c.headDim;
        p.q_head_stride = d.qHead;
        p.q_token_stride = d.qTok;
        p.k_head_stride = d.kHead;
        p.k_token_stride = d.kTok;
        p.block_starts = starts.data();
        p.n_blocks = nb;
        if (subsetAndPasses) {
            p.head_ids = subset.data();
            p.n_out_heads = 2;
        }
        p.block_mass = bm.as<float>();
        p.token_mass = tm.as<float>();
        p.impl = static_cast<Impl>(impl);
        if (p.impl == Impl::fast && c.headDim != 128) {
            DeviceBuffer ws(attention_mass_workspace_bytes(p));
            p.workspace = ws.get();
            p.workspace_bytes = ws.bytes();
            QVERIFY_THROWS_EXCEPTION(KernelError, attention_mass_cuda(p, nullptr));
            return;
        }
        DeviceBuffer ws(attention_mass_workspace_bytes(p, subsetAndPasses ? 1 : 0));
        ws.poison();
        p.workspace = ws.get();
        p.workspace_bytes = ws.bytes();
        attention_mass_cuda(p, nullptr);
        cudaCheck(cudaDeviceSynchronize(), "attention_mass");
        std::vector<float> bmv(static_cast<std::size_t>(outHeads) * nb * nb), tmv(static_cast<std::size_t>(outHeads) * n * nb);
        bm.download(bmv.data(), bmv.size() * 4);
        tm.download(tmv.data(), tmv.size() * 4);

        const ref::AttentionShape shape{n, c.heads, c.kvHeads, c.headDim, 0.0};
        const auto r = ref::attentionMassRef(d.q, d.k, shape, starts);
        std::vector<double> gotB, wantB, gotT, wantT;
        for (int o = 0; o < outHeads; ++o) {
            const int h = subsetAndPasses ? subset[static_cast<std::size_t>(o)] : o;
            for (int i = 0; i < nb * nb; ++i) {
                gotB.push_back(bmv[static_cast<std::size_t>(o) * nb * nb + i]);
                wantB.push_back(r.blockMass[static_cast<std::size_t>(h) * nb * nb + i]);
            }
            for (int i = 0; i < n * nb; ++i) {
                gotT.push_back(tmv[static_cast<std::size_t>(o) * n * nb + i]);
                wantT.push_back(r.tokenMass[static_cast<std::size_t>(h) * n * nb + i]);
            }
        }
        QCOMPARE(ref::countNonFinite(gotB), std::size_t(0));
        QCOMPARE(ref::countNonFinite(gotT), std::size_t(0));
        const double errB = ref::relativeError(gotB, wantB), errT = ref::relativeError(gotT, wantT);
        double worstRow = 0; // rows of block_mass sum to 1
        for (int row = 0; row < outHeads * nb; ++row) {
            double sum = 0;
            for (int kb = 0; kb < nb; ++kb)
                sum += gotB[static_cast<std::size_t>(row) * nb + kb];
            worstRow = std::max(worstRow, std::fabs(sum - 1.0));
        }
        qInfo("block_mass rel err %.3g, token_mass rel err %.3g (bound 1e-3), worst |row sum - 1| %.2g", errB, errT, worstRow);
        QVERIFY2(errB < 1e-3, qPrintable(QString("block_mass relative error %1").arg(errB)));
        QVERIFY2(errT < 1e-3, qPrintable(QString("token_mass relative error %1").arg(errT)));
        QVERIFY(worstRow < 1e-4);
    }

    // Llama-3-8B heads at 4k tokens, 16 blocks: fast vs simple (both fp32 softmax math).
    void attentionMassLarge()
    {
        std::vector<int> lengths(15, 256);
        lengths.push_back(200);
        lengths.push_back(56);
        const AttnCase c{"large", lengths, 32, 8, 128, false, 0};
        const auto starts = startsOf(lengths);
        const int n = starts.back(), nb = static_cast<int>(lengths.size());
        std::mt19937 rng(99);
        AttnData d = makeAttnData(c, rng, 1.0);
        AttentionMassParams p;
        p.q = d.dq.get();
        p.k = d.dk.get();
        p.n_tokens = n;
        p.n_heads = 32;
        p.n_kv_heads = 8;
        p.head_dim = 128;
        p.q_head_stride = d.qHead;
        p.q_token_stride = d.qTok;
        p.k_head_stride = d.kHead;
        p.k_token_stride = d.kTok;
        p.block_starts = starts.data();
        p.n_blocks = nb;
        DeviceBuffer ws(attention_mass_workspace_bytes(p));
        p.workspace = ws.get();
        p.workspace_bytes = ws.bytes();
        std::vector<float> out[2];
        for (int v = 0; v < 2; ++v) {
            DeviceBuffer bm(static_cast<std::size_t>(32) * nb * nb * 4);
            bm.poison();
            p.block_mass = bm.as<float>();
            p.impl = v == 0 ? Impl::fast : Impl::simple;
            attention_mass_cuda(p, nullptr);
            cudaCheck(cudaDeviceSynchronize(), "attention_mass large");
            out[v].resize(static_cast<std::size_t>(32) * nb * nb);
            bm.download(out[v].data(), out[v].size() * 4);
        }
        const std::vector<double> fast(out[0].begin(), out[0].end()), simple(out[1].begin(), out[1].end());
        QCOMPARE(ref::countNonFinite(fast), std::size_t(0));
        const double err = ref::relativeError(fast, simple);
        qInfo("fast vs simple block_mass: rel err %.3g", err);
        QVERIFY2(err < 1e-3, qPrintable(QString("relative error %1").arg(err)));
    }

    void invalidParameters()
    {
        DeviceBuffer buf(1 << 20);
        const std::vector<std::int32_t> bad{0, 5, 5, 10}, good{0, 5, 10};
        BlockPrefillParams p;
        p.q = p.k = p.v = buf.get();
        p.o = buf.get();
        p.n_tokens = 10;
        p.n_heads = 2;
        p.n_kv_heads = 1;
        p.head_dim = 128;
        p.block_starts = bad.data();
        p.n_blocks = 3;
        QVERIFY_THROWS_EXCEPTION(KernelError, block_prefill_cuda(p, nullptr)); // empty block
        p.block_starts = good.data();
        p.n_blocks = 2;
        p.n_kv_heads = 3;
        QVERIFY_THROWS_EXCEPTION(KernelError, block_prefill_cuda(p, nullptr)); // heads % kv
        AttentionMassParams m;
        m.q = m.k = buf.get();
        m.n_tokens = 10;
        m.n_heads = 2;
        m.n_kv_heads = 1;
        m.head_dim = 128;
        m.block_starts = good.data();
        m.n_blocks = 2;
        m.block_mass = buf.as<float>();
        QVERIFY_THROWS_EXCEPTION(KernelError, attention_mass_cuda(m, nullptr)); // no workspace
        RopeReencodeParams r;
        r.src = buf.get();
        r.dst = buf.get();
        r.head_dim = 127;
        QVERIFY_THROWS_EXCEPTION(KernelError, rope_reencode_cuda(r, nullptr));
        QCOMPARE(cudaDeviceSynchronize(), cudaSuccess);
    }
};

QTEST_GUILESS_MAIN(TestKernelsGpu)
#include "test_kernels_gpu.moc"
