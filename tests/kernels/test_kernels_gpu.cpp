// Each CUDA kernel of kernels/ against its CPU reference in double (label gpu; run on the GPU
// machine by tools/device/kernels.sh). For every case: fresh random inputs, outputs poisoned with
// NaN first, ||out - ref|| / ||ref|| under 1e-3 for fp32 results and under 1e-2 for bf16 results
// (fp16 RoPE: 1e-3), no NaN or Inf anywhere in what must be written, and what must not be
// written left alone. Both implementations of each op (simple and fast) are checked, over ragged
// blocks, one-token blocks, a single block, GQA, strided layouts and split-KV plans.
#include "attention_mass.cuh"
#include "block_prefill.cuh"
#include "rope_reencode.cuh"

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
