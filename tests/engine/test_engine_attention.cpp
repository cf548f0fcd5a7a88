// The engine's torch building blocks against plain references: chunked grouped-query attention
// (causal, offsets, sliding window) and RoPE (frequency schedules, rotations composing).
#include "engine/torch/attention.hpp"
#include "engine/torch/attention_at_slots.hpp"
#include "engine/torch/cpu_attention.hpp"
#include "engine/make_model.hpp"
#include "engine/model.hpp"
#include "engine/torch/model_impl.hpp"
#include "engine/torch/recompute.hpp"
#include "engine/torch/kernels_bridge.hpp"
#include "engine/torch/range_softmax.hpp"
#include "engine/torch/rope.hpp"

#include <QTemporaryDir>
#include <QtTest>

#include <c10/core/GradMode.h>

#include <cmath>
#include <limits>
#include <numbers>

using namespace blocklens::engine;
using namespace blocklens::engine::detail;

namespace {

double relErr(const at::Tensor& a, const at::Tensor& b)
{
    return ((a.to(at::kDouble) - b.to(at::kDouble)).norm() / b.to(at::kDouble).norm()).item<double>();
}

bool cudaHere() { return at::hasCUDA(); }

} // namespace

class TestEngineAttention : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void attendMatchesReference_data()
    {
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("n");      // queries
        QTest::addColumn<int>("m");      // keys
        QTest::addColumn<int>("qStart"); // slot of the first query
        QTest::addColumn<int>("kStart"); // slot of the first key
        QTest::addColumn<int>("window"); // 0: none
        QTest::newRow("square causal") << 4 << 4 << 37 << 37 << 0 << 0 << 0;
        QTest::newRow("gqa square") << 8 << 2 << 50 << 50 << 0 << 0 << 0;
        QTest::newRow("mqa") << 4 << 1 << 20 << 20 << 0 << 0 << 0;
        QTest::newRow("block alone at offset") << 4 << 2 << 13 << 13 << 10 << 10 << 0;
        QTest::newRow("last block over past") << 4 << 2 << 9 << 40 << 31 << 0 << 0;
        QTest::newRow("one query") << 4 << 2 << 1 << 48 << 47 << 0 << 0;
        QTest::newRow("window square") << 4 << 1 << 40 << 40 << 0 << 0 << 16;
        QTest::newRow("window over past") << 4 << 2 << 9 << 40 << 31 << 0 << 7;
        QTest::newRow("many chunks causal") << 4 << 2 << 1100 << 1100 << 0 << 0 << 0;
        QTest::newRow("many chunks window") << 4 << 2 << 700 << 1100 << 400 << 0 << 100;
    }
    void attendMatchesReference()
    {
        QFETCH(int, heads);
        QFETCH(int, kvHeads);
        QFETCH(int, n);
        QFETCH(int, m);
        QFETCH(int, qStart);
        QFETCH(int, kStart);
        QFETCH(int, window);
        at::manual_seed(7);
        const at::Tensor q = at::randn({heads, n, 8}) * 2;  // [heads, n, d]
        const at::Tensor k = at::randn({kvHeads, m, 8}) * 2; // [kv_heads, m, d]
        const at::Tensor v = at::randn({kvHeads, m, 8});
        AttentionArgs args{qStart, kStart, window ? std::optional<std::int64_t>(window) : std::nullopt, 1.0 / std::sqrt(8.0)};
        const at::Tensor ours = attend(q, k, v, args);
        const at::Tensor ref = attendReference(q, k, v, args);
        QCOMPARE(ours.sizes().vec(), (std::vector<std::int64_t>{heads, n, 8}));
        const double e = relErr(ours, ref);
        QVERIFY2(e < 1e-5, qPrintable(QString::number(e)));
        QVERIFY(!at::isnan(ours).any().item<bool>());
    }

    // Inference on the CPU in fp32 runs the chunked attention on raw memory (cpu_attention.hpp,
    // issue 18): BLAS products and each row's softmax over its own keys without a mask
    // (range_softmax.hpp); under autograd the plain at::matmul, mask and at::softmax run. Both
    // must agree to fp32 rounding, for causal chunks, a window and scattered queries.
    void scoreBufferGivesThePlainPathsValues()
    {
        at::manual_seed(11);
        const at::Tensor q = at::randn({8, 700, 16}) * 2, k = at::randn({2, 1100, 16}) * 2, v = at::randn({2, 1100, 16});
        const at::Tensor slots = at::tensor(std::vector<std::int64_t>{3, 4, 5, 6, 200, 201, 202, 650, 651, 1099}, at::kLong);
        const at::Tensor qs = q.narrow(1, 0, slots.size(0));
        const double scale = 0.25;
        std::vector<at::Tensor> buffered, plain;
        for (const bool grad : {false, true}) {
            const c10::AutoGradMode mode(grad);
            auto& out = grad ? plain : buffered;
            out.push_back(attend(q.narrow(1, 0, 700), k.narrow(1, 0, 700), v.narrow(1, 0, 700), {0, 0, std::nullopt, scale}));
            out.push_back(attend(q, k, v, {400, 0, 100, scale}));
            out.push_back(attendAtSlots(qs, k, v, slots, {0, 0, std::nullopt, scale}));
            out.push_back(attendAtSlots(qs, k, v, slots, {0, 0, 64, scale}));
        }
        for (std::size_t i = 0; i < plain.size(); ++i) {
            const double e = relErr(buffered[i], plain[i]);
            QVERIFY2(e < 1e-6, qPrintable(QStringLiteral("case %1 differs by %2").arg(i).arg(e)));
        }
    }

    // The CPU's chunked attention on raw memory (cpu_attention.hpp) against the double-precision
    // reference, by both product routes (BLAS found in the process, ATen's mm): grouped heads,
    // queries read through strides (a [n, heads, d] buffer seen as [heads, n, d]), keys a narrow
    // of a longer buffer (rows further apart than d), a window, chunks of one row and of many,
    // and a row that sees no key (zeros, as the masked path gives).
    void chunkedCpuAttentionMatchesReference()
    {
        const c10::NoGradGuard noGrad;
        at::manual_seed(13);
        const std::int64_t heads = 8, kvHeads = 2, n = 90, m = 300, d = 16;
        const at::Tensor q = (at::randn({n, heads, d}) * 2).transpose(0, 1);          // [heads, n, d], strided
        const at::Tensor kBuffer = at::randn({kvHeads, m + 50, d}) * 2, vBuffer = at::randn({kvHeads, m + 50, d});
        const at::Tensor k = kBuffer.narrow(1, 0, m), v = vBuffer.narrow(1, 0, m);       // [kv_heads, m, d]
        const double scale = 0.25;
        for (const auto products : {CpuProducts::Best, CpuProducts::Aten}) {
            for (const std::int64_t window : {std::int64_t(0), std::int64_t(40)}) {
                const std::optional<std::int64_t> w = window ? std::optional<std::int64_t>(window) : std::nullopt;
                const AttentionArgs args{m - n, 0, w, scale};
                // chunks of 1, 7, 30 and 52 rows, each with the keys its queries may see
                std::vector<QueryChunk> chunks;
                for (const std::int64_t rows : {1, 7, 30, 52}) {
                    const std::int64_t row0 = chunks.empty() ? 0 : chunks.back().row0 + chunks.back().rows;
                    const std::int64_t end = args.qStart + row0 + rows;
                    const std::int64_t begin = w ? std::max<std::int64_t>(0, args.qStart + row0 - *w + 1) : 0;
                    chunks.push_back({row0, rows, begin, end - begin});
                }
                const auto ranges = keysSeenByRow(chunks, n, [&](std::int64_t i) { return args.qStart + i; }, 0, w);
                const at::Tensor ours = attendChunksOnCpu(q, k, v, scale, chunks, ranges, products);
                QCOMPARE(ours.sizes().vec(), (std::vector<std::int64_t>{heads, n, d}));
                const double e = relErr(ours, attendReference(q, k, v, args));
                QVERIFY2(e < 1e-5, qPrintable(QStringLiteral("window %1: %2").arg(window).arg(e)));
            }
            // a row that sees no key: its chunk has no columns
            std::vector<RowRange> ranges(static_cast<std::size_t>(n), RowRange{0, 10});
            const at::Tensor ours = attendChunksOnCpu(q, k, v, scale, {{0, 1, 0, 0}, {1, n - 1, 0, 10}}, ranges, products);
            QVERIFY(at::all(ours.select(1, 0) == 0).item<bool>());
            const at::Tensor rest = attendReference(q.narrow(1, 1, n - 1), k.narrow(1, 0, 10), v.narrow(1, 0, 10), {100, 0, std::nullopt, scale});
            QVERIFY(relErr(ours.narrow(1, 1, n - 1), rest) < 1e-5);
        }
    }

    // The range softmax against the masked at::softmax, with every instruction set this CPU has:
    // row lengths around the vector widths (0-40 columns, so every tail length), empty ranges
    // (all zeros), ranges that start late (a window), scores spread over +-60 (exp near its
    // clamp), and rows wider than a vector many times over.
    void rangeSoftmaxMatchesMaskedSoftmax_data()
    {
        QTest::addColumn<QString>("isa");
        for (const char* isa : {"scalar", "avx2", "avx512"})
            QTest::newRow(isa) << QString::fromLatin1(isa);
    }
    void rangeSoftmaxMatchesMaskedSoftmax()
    {
        QFETCH(QString, isa);
        at::manual_seed(5);
        const std::int64_t matrices = 3, cols = 300;
        std::vector<RowRange> ranges;
        for (std::int64_t e = 0; e <= 40; ++e)
            ranges.push_back({0, e});
        for (std::int64_t b = 0; b < 20; ++b)
            ranges.push_back({b * 7, std::min<std::int64_t>(cols, b * 7 + 1 + b * 13)});
        ranges.push_back({0, cols});
        ranges.push_back({cols - 1, cols});
        ranges.push_back({5, 5});
        const auto rows = static_cast<std::int64_t>(ranges.size());
        for (const double spread : {1.0, 60.0}) {
            const at::Tensor scores = at::randn({matrices, rows, cols}) * spread;
            at::Tensor blocked = at::ones({rows, cols}, at::kBool);
            for (std::int64_t r = 0; r < rows; ++r)
                if (ranges[static_cast<std::size_t>(r)].end > ranges[static_cast<std::size_t>(r)].begin)
                    blocked[r].narrow(0, ranges[static_cast<std::size_t>(r)].begin,
                                      ranges[static_cast<std::size_t>(r)].end - ranges[static_cast<std::size_t>(r)].begin)
                        .fill_(false);
            // reference in double; rows with nothing to see are all zeros
            const at::Tensor ref = at::softmax(scores.to(at::kDouble).masked_fill(blocked, -std::numeric_limits<double>::infinity()), -1)
                                       .nan_to_num(0.0);
            at::Tensor ours = scores.clone();
            if (!softmaxInRowRangesWith(isa.toLatin1().constData(), ours.data_ptr<float>(), matrices, rows, cols, ranges.data()))
                QSKIP("this CPU lacks the instruction set");
            const double worst = (ours.to(at::kDouble) - ref).abs().max().item<double>();
            QVERIFY2(worst < 2e-7, qPrintable(QStringLiteral("spread %1: off by %2").arg(spread).arg(worst)));
            QVERIFY(at::equal(ours.masked_select(blocked), at::zeros({matrices * blocked.sum().item<std::int64_t>()}))); // every matrix
            QVERIFY(!at::isnan(ours).any().item<bool>());
        }
    }

    // Blocks side by side in one call (the engine's batched block passes): each block against
    // the reference of that block alone at its slots; the last block, when global, against the
    // reference over every key. CPU: SDPA per block; CUDA bf16 head_dim 128: the kernels' block
    // prefill in one launch (checked by the bridge's launch count).
    // The repairs' recompute with the question in the same layer calls (recompute.hpp, what the
    // runner does on the CPU) against recompute alone and then the question's own forward pass
    // (what it does beside a CUDA graph): the question's hidden states and every slot's K/V
    // agree, for recompute-first and recompute-frac, with GQA and with a sliding window.
    void recomputeWithQuestionEqualsSeparatePasses_data()
    {
        QTest::addColumn<int>("window"); // 0: none
        QTest::newRow("llama") << 0;
        QTest::newRow("sliding window") << 5;
    }
    void recomputeWithQuestionEqualsSeparatePasses()
    {
        QFETCH(int, window);
        QTemporaryDir dir;
        MakeModelOptions o;
        o.config = defaultConfig(Architecture::Llama, 3, 32, 4, 2, 64, 64, 8);
        if (window)
            o.config.slidingWindow = window;
        o.seed = 3;
        o.initStd = 0.2;
        makeModel(o, dir.path().toStdString());
        const Model model = Model::load(dir.path().toStdString());
        const Transformer& tf = *model.impl().transformer;
        const std::int64_t n = 40, last = 31; // context [0, 31), question [31, 40)
        const at::Tensor ids = at::randint(2, 64, {n}, at::TensorOptions().dtype(at::kLong));
        const auto positions = [](std::int64_t a, std::int64_t b) { return at::arange(a, b, at::TensorOptions().dtype(at::kLong)); };
        RepairPlan first, frac;
        first.recompute = {10, 11, 12, 20, 21, 22};
        frac.candidates = {8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25};
        frac.select = 5;
        for (const RepairPlan* plan : {&first, &frac}) {
            KvBuffer together(tf.config(), n, tf.options()), apart(tf.config(), n, tf.options());
            // The context encoded in three blocks, each seeing only itself (block attention's K/V,
            // which recompute-frac's probe finds deviating from what it computes again).
            ForwardArgs context{ids.narrow(0, 0, last), positions(0, last), 0, 0};
            context.blockStarts = {0, 10, 20};
            context.lastBlockGlobal = false;
            tf.forward(together, context);
            apart.k.copy_(together.k);
            apart.v.copy_(together.v);
            const Recomputed joint = recompute(tf, together, ids, *plan, [] {}, last);
            const Recomputed alone = recompute(tf, apart, ids, *plan, [] {});
            QVERIFY(joint.questionHidden.defined() && !alone.questionHidden.defined());
            const at::Tensor question = tf.forward(apart, {ids.narrow(0, last, n - last), positions(last, n), last, 0}); // [9, hidden]
            QCOMPARE(joint.slots, alone.slots);
            // The same work but for the last layer's projection of the recomputed tokens: shared
            // with the question's rows it is the fused q/k/v one, alone k/v (recompute.cpp).
            const ModelConfig& c = tf.config();
            const double lastQueries = 2.0 * double(c.hiddenSize) * double(c.qDim()) * double(joint.slots.size());
            QCOMPARE(joint.flops.total(), alone.flops.total() + lastQueries);
            QVERIFY2(relErr(joint.questionHidden, question) < 1e-5, qPrintable(QString::number(relErr(joint.questionHidden, question))));
            QVERIFY2(relErr(together.k, apart.k) < 1e-5 && relErr(together.v, apart.v) < 1e-5, "K/V differ");
        }
    }

    void attendBlocksMatchesReference_data()
    {
        QTest::addColumn<QString>("device");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<bool>("lastGlobal");
        QTest::addColumn<int>("window"); // 0: none
        for (const bool global : {true, false}) {
            const QString g = global ? " last global" : " all local";
            QTest::newRow(qPrintable("cpu" + g)) << "cpu" << 8 << global << 0;
            QTest::newRow(qPrintable("cpu window" + g)) << "cpu" << 8 << global << 9;
            QTest::newRow(qPrintable("cuda bf16 d128" + g)) << "cuda" << 128 << global << 0;
            QTest::newRow(qPrintable("cuda bf16 d128 window" + g)) << "cuda" << 128 << global << 20;
        }
    }
    void attendBlocksMatchesReference()
    {
        QFETCH(QString, device);
        QFETCH(int, headDim);
        QFETCH(bool, lastGlobal);
        QFETCH(int, window);
        const bool cuda = device == "cuda";
        if (cuda && !cudaHere())
            QSKIP("no CUDA here");
        const std::vector<std::int64_t> starts = {0, 1, 131, 138, 139, 300}; // ragged, one-token blocks
        const std::int64_t heads = 4, kvHeads = 2, n = 333, d = headDim, slot0 = 17;
        at::manual_seed(23);
        const auto opts = at::TensorOptions().dtype(cuda ? at::kBFloat16 : at::kFloat).device(cuda ? at::kCUDA : at::kCPU);
        const at::Tensor q = (at::randn({heads, n, d}) * 1.5).to(opts), k = at::randn({kvHeads, n, d}).to(opts), v = at::randn({kvHeads, n, d}).to(opts);
        const std::optional<std::int64_t> win = window ? std::optional<std::int64_t>(window) : std::nullopt;
        const AttentionArgs args{slot0, slot0, win, 1.0 / std::sqrt(static_cast<double>(d))};
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        const std::int64_t before = bridge::blockPrefillLaunches();
#endif
        const at::Tensor ours = attendBlocks(q, k, v, starts, lastGlobal, args);
        QCOMPARE(ours.sizes().vec(), (std::vector<std::int64_t>{heads, n, d}));
        std::vector<at::Tensor> pieces;
        for (std::size_t b = 0; b < starts.size(); ++b) {
            const std::int64_t s = starts[b], e = b + 1 < starts.size() ? starts[b + 1] : n;
            const std::int64_t k0 = lastGlobal && b + 1 == starts.size() ? 0 : s;
            pieces.push_back(attendReference(q.narrow(1, s, e - s).cpu(), k.narrow(1, k0, e - k0).cpu(), v.narrow(1, k0, e - k0).cpu(),
                                             {slot0 + s, slot0 + k0, win, args.scale}));
        }
        const at::Tensor ref = at::cat(pieces, 1);
        const double e = relErr(ours.cpu(), ref);
        qInfo("attendBlocks %s vs per-block reference: %.3g", qPrintable(device), e);
        QVERIFY2(e < (cuda ? 1e-2 : 1e-5), qPrintable(QString::number(e)));
        QVERIFY(!at::isnan(ours).any().item<bool>());
        // The rule is not trivially met: the all-global alternative differs.
        const at::Tensor other = attendBlocks(q, k, v, starts, !lastGlobal, args);
        QVERIFY(relErr(other.cpu(), ref) > 1e-3);
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        if (cuda && !window) // two calls above, each one launch
            QCOMPARE(bridge::blockPrefillLaunches() - before, std::int64_t(2));
#endif
    }

    void massCaptureMatchesReference()
    {
        // Last block over a past of 60 keys in blocks [0, 20) [20, 45) [45, 60) + the queries' own block.
        const std::int64_t heads = 4, kvHeads = 2, n = 9, m = 69, d = 8, qStart = 60;
        at::manual_seed(11);
        const at::Tensor q = at::randn({heads, n, d}) * 2, k = at::randn({kvHeads, m, d}) * 2, v = at::randn({kvHeads, m, d});
        std::vector<std::int64_t> blockOf;
        for (std::int64_t s = 0; s < m; ++s)
            blockOf.push_back(s < 20 ? 0 : s < 45 ? 1 : s < 60 ? 2 : 3);
        MassCapture capture;
        capture.blockOfSlot = at::tensor(blockOf, at::kLong);
        capture.blocks = 4;
        AttentionArgs args{qStart, 0, std::nullopt, 1.0 / std::sqrt(8.0)};
        const at::Tensor out = attend(q, k, v, args, &capture);
        QVERIFY(relErr(out, attendReference(q, k, v, args)) < 1e-5);
        // Reference probabilities in double, summed per block.
        const at::Tensor kk = k.repeat_interleave(2, 0).to(at::kDouble);
        at::Tensor scores = at::matmul(q.to(at::kDouble), kk.transpose(1, 2)) * args.scale; // [heads, n, m]
        const at::Tensor qi = at::arange(qStart, qStart + n, at::kLong).unsqueeze(1), kj = at::arange(0, m, at::kLong).unsqueeze(0);
        scores.masked_fill_(kj > qi, -INFINITY);
        const at::Tensor probs = at::softmax(scores, -1);
        at::Tensor ref = at::zeros({heads, n, 4}, at::kDouble);
        ref.index_add_(2, capture.blockOfSlot, probs);
        QCOMPARE(capture.mass.sizes().vec(), (std::vector<std::int64_t>{heads, n, 4}));
        QVERIFY(relErr(capture.mass, ref) < 1e-5);
        QVERIFY(relErr(capture.mass.sum(-1), at::ones({heads, n}, at::kDouble)) < 1e-6);
    }

    // The GPU's bf16 routes (SDPA with enable_gqa for square causal, flash attention with its
    // bottom-right causal mask for a last block, decoding and sliding windows) against the fp64
    // reference. Runs on the GPU machine; skipped without CUDA.
    void cudaRoutesMatchReference_data()
    {
        QTest::addColumn<int>("n");      // queries
        QTest::addColumn<int>("m");      // keys
        QTest::addColumn<int>("window"); // 0: none
        QTest::newRow("square causal") << 300 << 300 << 0;
        QTest::newRow("last block over past") << 50 << 700 << 0;
        QTest::newRow("one query") << 1 << 513 << 0;
        QTest::newRow("window square") << 300 << 300 << 64;
        QTest::newRow("window over past") << 50 << 700 << 128;
    }
    void cudaRoutesMatchReference()
    {
        if (!cudaHere())
            QSKIP("no CUDA here");
        QFETCH(int, n);
        QFETCH(int, m);
        QFETCH(int, window);
        const auto opts = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
        at::manual_seed(5);
        const std::int64_t heads = 8, kvHeads = 2, d = 128, qStart = m - n;
        // K/V as strided views of a larger buffer, as the engine's KV buffer hands them over.
        const at::Tensor kBuf = at::randn({kvHeads, m + 17, d}, opts), vBuf = at::randn({kvHeads, m + 17, d}, opts);
        const at::Tensor q = at::randn({n, heads, d}, opts).transpose(0, 1); // [heads, n, d], token-major memory
        const at::Tensor k = kBuf.narrow(1, 0, m), v = vBuf.narrow(1, 0, m);
        AttentionArgs args{qStart, 0, window ? std::optional<std::int64_t>(window) : std::nullopt, 1.0 / std::sqrt(double(d))};
        const at::Tensor ours = attend(q, k, v, args);
        const at::Tensor ref = attendReference(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), args);
        QCOMPARE(ours.sizes().vec(), (std::vector<std::int64_t>{heads, n, d}));
        QVERIFY(!at::isnan(ours).any().item<bool>());
        const double e = relErr(ours, ref);
        qInfo("bf16 route vs fp64 reference: %.3g", e);
        QVERIFY2(e < 1e-2, qPrintable(QString::number(e)));
    }

    // Full-mode attention mass through the kernels' probe (bf16, head_dim 128) against the manual
    // chunked path of the same inputs. Needs the kernels bridge (GPU machine).
    void cudaMassKernelMatchesManualPath()
    {
        if (!cudaHere() || !bridge::available())
            QSKIP("no CUDA kernels bridge in this build");
        const auto opts = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
        at::manual_seed(9);
        const std::int64_t heads = 8, kvHeads = 2, n = 700, d = 128;
        const at::Tensor q = at::randn({n, heads, d}, opts).transpose(0, 1) * 2, k = at::randn({kvHeads, n, d}, opts) * 2,
                         v = at::randn({kvHeads, n, d}, opts);
        const std::vector<std::int64_t> starts = {0, 100, 101, 350, 512};
        std::vector<std::int64_t> blockOf;
        for (std::int64_t s = 0, b = 0; s < n; ++s) {
            while (b + 1 < std::int64_t(starts.size()) && starts[static_cast<std::size_t>(b + 1)] <= s)
                ++b;
            blockOf.push_back(b);
        }
        AttentionArgs args{0, 0, std::nullopt, 1.0 / std::sqrt(double(d))};
        MassCapture viaKernel, manual;
        viaKernel.blockOfSlot = manual.blockOfSlot = at::tensor(blockOf, at::kLong).to(at::kCUDA);
        viaKernel.blocks = manual.blocks = 5;
        viaKernel.blockStarts = starts; // host starts: the kernel route
        const at::Tensor outKernel = attend(q, k, v, args, &viaKernel);
        const at::Tensor outManual = attend(q, k, v, args, &manual);
        QCOMPARE(viaKernel.mass.sizes().vec(), (std::vector<std::int64_t>{heads, n, 5}));
        const double em = relErr(viaKernel.mass, manual.mass), eo = relErr(outKernel, outManual);
        qInfo("mass kernel vs manual: %.3g, outputs %.3g", em, eo);
        QVERIFY2(em < 1e-2, qPrintable(QString::number(em)));
        QVERIFY2(eo < 1e-2, qPrintable(QString::number(eo)));
        QVERIFY(relErr(viaKernel.mass.sum(-1), at::ones({heads, n}, viaKernel.mass.options().dtype(at::kDouble))) < 1e-5);
    }

    // The bridge's RoPE re-encoding of a cached block into a run's K buffer equals placeShifted.
    void cudaRopeShiftMatchesPlaceShifted()
    {
#if !BLOCKLENS_HAVE_KERNELS_BRIDGE
        QSKIP("no CUDA kernels bridge in this build");
#else
        if (!cudaHere())
            QSKIP("no CUDA here");
        const auto opts = at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA);
        RopeConfig cfg;
        cfg.theta = 500000;
        cfg.type = "llama3";
        cfg.factor = 8;
        cfg.lowFreqFactor = 1;
        cfg.highFreqFactor = 4;
        cfg.originalMaxPositions = 8192;
        const Rope rope(cfg, 128, at::Device(at::kCUDA));
        at::manual_seed(3);
        const at::Tensor block = at::randn({3, 2, 77, 128}, opts); // [layers, kv_heads, len, d]
        for (const std::int64_t s : {0L, 1L, 4096L, 30001L}) {
            at::Tensor viaKernel = at::full({3, 2, s + 100, 128}, std::nan(""), opts), plain = viaKernel.clone();
            bridge::ropeShiftInto(viaKernel, s, block, s, rope.invFreqFloat());
            const at::Tensor shifted = rope.shift(block.to(at::kFloat), s); // angles in fp64, rotation in fp32
            plain.narrow(2, s, 77).copy_(shifted);
            const double e = relErr(viaKernel.narrow(2, s, 77), plain.narrow(2, s, 77));
            QVERIFY2(e < 1e-2, qPrintable(QString("offset %1: %2").arg(s).arg(e)));
            QVERIFY(!at::isnan(viaKernel.narrow(2, s, 77)).any().item<bool>());
            QVERIFY(at::isnan(viaKernel.narrow(2, s + 77, 23)).all().item<bool>()); // rows after the block untouched
        }
#endif
    }

    // Heatmap capture by query block (issue 15/16: bounded memory): each query chunk's rows are
    // summed into their block at once, so only [heads, blocks, blocks] is held. With several query
    // chunks (n = 1100 > the CPU chunk) it gives the same block-pair sums as the token rows summed
    // afterwards, and both equal the reference probabilities summed per block pair.
    void massByQueryBlockMatchesTokenRows_data()
    {
        QTest::addColumn<int>("n");      // queries
        QTest::addColumn<int>("m");      // keys
        QTest::addColumn<int>("qStart"); // slot of the first query (the last block over the past)
        QTest::newRow("whole sequence, many chunks") << 1100 << 1100 << 0;
        QTest::newRow("last block over past, many chunks") << 700 << 1100 << 400;
        QTest::newRow("one chunk") << 37 << 37 << 0;
    }
    void massByQueryBlockMatchesTokenRows()
    {
        QFETCH(int, n);
        QFETCH(int, m);
        QFETCH(int, qStart);
        const std::int64_t heads = 4, kvHeads = 2, d = 8;
        at::manual_seed(11);
        const at::Tensor q = at::randn({heads, n, d}) * 2, k = at::randn({kvHeads, m, d}) * 2, v = at::randn({kvHeads, m, d});
        const std::vector<std::int64_t> starts = m > 100 ? std::vector<std::int64_t>{0, 13, 250, 401, 402, 777, 1000}
                                                         : std::vector<std::int64_t>{0, 5, 20};
        std::vector<std::int64_t> blockOf(static_cast<std::size_t>(m));
        for (std::size_t b = 0; b < starts.size(); ++b)
            for (std::int64_t s = starts[b]; s < (b + 1 < starts.size() ? starts[b + 1] : m); ++s)
                blockOf[static_cast<std::size_t>(s)] = static_cast<std::int64_t>(b);
        const auto B = static_cast<std::int64_t>(starts.size());
        const AttentionArgs args{qStart, 0, std::nullopt, 1.0 / std::sqrt(double(d))};
        auto capture = [&](bool byQueryBlock) {
            MassCapture c;
            c.blockOfSlot = at::tensor(blockOf, at::kLong);
            c.blocks = B;
            c.byQueryBlock = byQueryBlock;
            const at::Tensor out = attend(q, k, v, args, &c);
            return std::pair{c.mass, relErr(out, attendReference(q, k, v, args))};
        };
        const auto [rows, rowsOutErr] = capture(false); // [heads, n, B]
        const auto [sums, sumsOutErr] = capture(true);  // [heads, B, B]
        QVERIFY(rowsOutErr < 1e-5 && sumsOutErr < 1e-5); // the attention output is unchanged
        QCOMPARE(sums.sizes(), (at::IntArrayRef{heads, B, B}));
        const at::Tensor queryBlocks = at::tensor(blockOf, at::kLong).narrow(0, qStart, n);
        const at::Tensor fromRows = at::zeros({heads, B, B}).index_add_(1, queryBlocks, rows);
        const double e = relErr(sums, fromRows);
        QVERIFY2(e < 1e-5, qPrintable(QString::number(e)));
        // The reference: probabilities from the plain formula, summed per (query block, key block).
        const at::Tensor kk = k.repeat_interleave(heads / kvHeads, 0).to(at::kDouble);
        at::Tensor scores = at::matmul(q.to(at::kDouble), kk.transpose(1, 2)) / std::sqrt(double(d)); // [heads, n, m]
        const at::Tensor qi = at::arange(qStart, qStart + n, at::kLong).unsqueeze(1), kj = at::arange(0, m, at::kLong).unsqueeze(0);
        scores.masked_fill_(kj > qi, -std::numeric_limits<double>::infinity());
        const at::Tensor probs = at::softmax(scores, -1);
        const at::Tensor perKey = at::zeros({heads, n, B}, at::kDouble).index_add_(2, at::tensor(blockOf, at::kLong), probs);
        const at::Tensor expected = at::zeros({heads, B, B}, at::kDouble).index_add_(1, queryBlocks, perKey);
        const double er = relErr(sums, expected);
        QVERIFY2(er < 1e-5, qPrintable(QString::number(er)));
    }

    // The GPU's three-kernel rotation equals Hugging Face's formula (checked on the CPU too).
    void swappedRotationMatchesApply()
    {
        at::manual_seed(4);
        RopeConfig cfg;
        const Rope rope(cfg, 32, at::Device(at::kCPU));
        const auto [cos, sin] = rope.cosSin(at::arange(5, 45, at::kLong), at::kFloat); // [40, 32]
        const at::Tensor x = at::randn({40, 6, 32}).transpose(0, 1);                // [6, 40, 32], token-major
        const double e = relErr(Rope::applySwapped(x, cos, Rope::signedSin(sin)), Rope::apply(x, cos, sin));
        QVERIFY2(e < 1e-6, qPrintable(QString::number(e)));
        const at::Tensor xs = x.narrow(0, 1, 4); // a strided view (q of a fused projection)
        QVERIFY(relErr(Rope::applySwapped(xs, cos, Rope::signedSin(sin)), Rope::apply(xs, cos, sin)) < 1e-6);
    }

    void ropeScheduleMatchesFormula_data()
    {
        QTest::addColumn<QString>("type");
        QTest::newRow("default") << "default";
        QTest::newRow("linear") << "linear";
        QTest::newRow("llama3") << "llama3";
    }
    void ropeScheduleMatchesFormula()
    {
        QFETCH(QString, type);
        RopeConfig c;
        c.type = type.toStdString();
        c.theta = 500000.0;
        c.factor = 8.0;
        c.originalMaxPositions = 64;
        const std::int64_t dim = 16;
        const Rope rope(c, dim, at::Device(at::kCPU));
        const at::Tensor f = rope.invFreq();
        QCOMPARE(f.numel(), dim / 2);
        for (std::int64_t i = 0; i < dim / 2; ++i) {
            double inv = 1.0 / std::pow(c.theta, 2.0 * static_cast<double>(i) / dim);
            if (c.type == "linear") {
                inv /= c.factor;
            } else if (c.type == "llama3") {
                const double wavelen = 2 * std::numbers::pi / inv;
                const double low = 64.0 / c.lowFreqFactor, high = 64.0 / c.highFreqFactor;
                if (wavelen > low) {
                    inv /= c.factor;
                } else if (wavelen >= high) {
                    const double s = (64.0 / wavelen - c.lowFreqFactor) / (c.highFreqFactor - c.lowFreqFactor);
                    inv = (1 - s) * inv / c.factor + s * inv;
                }
            }
            QVERIFY2(std::fabs(f[i].item<float>() - inv) <= 1e-6 * inv, qPrintable(QString("band %1").arg(i)));
        }
    }

    void rotationsCompose()
    {
        RopeConfig c;
        c.theta = 10000.0;
        const Rope rope(c, 32, at::Device(at::kCPU));
        at::manual_seed(3);
        const at::Tensor k = at::randn({2, 12, 32}); // [kv_heads, n, d]
        const at::Tensor local = at::arange(0, 12, at::kLong), global = at::arange(1000, 1012, at::kLong);
        const auto [cl, sl] = rope.cosSin(local, at::kFloat);
        const auto [cg, sg] = rope.cosSin(global, at::kFloat);
        const at::Tensor atGlobal = Rope::apply(k, cg, sg);
        const at::Tensor shifted = rope.shift(Rope::apply(k, cl, sl), 1000);
        const double e = relErr(shifted, atGlobal);
        QVERIFY2(e < 1e-5, qPrintable(QString::number(e)));
        QCOMPARE(relErr(rope.shift(k, 0), k), 0.0);

        // All blocks of a prefix at once: [layers, kv_heads, n, d], block starts 0, 5, 9 (local
        // positions restart at 0 in each block), each token rotated by its block's start.
        const std::vector<std::int64_t> starts = {0, 5, 9};
        std::vector<std::int64_t> localPos, deltas;
        for (std::size_t b = 0; b < starts.size(); ++b) {
            const std::int64_t end = b + 1 < starts.size() ? starts[b + 1] : 12;
            for (std::int64_t p = starts[b]; p < end; ++p) {
                localPos.push_back(p - starts[b]);
                deltas.push_back(starts[b]);
            }
        }
        const auto [cLocal, sLocal] = rope.cosSin(at::tensor(localPos, at::kLong), at::kFloat);
        const auto [cGlobal, sGlobal] = rope.cosSin(at::arange(0, 12, at::kLong), at::kFloat);
        const at::Tensor layers = at::stack({k, k * 0.5});                    // [2, kv_heads, 12, d]
        const at::Tensor localRot = at::stack({Rope::apply(k, cLocal, sLocal), Rope::apply(k * 0.5, cLocal, sLocal)});
        at::Tensor assembled = at::empty_like(localRot);
        const auto [cosT, sinT] = rope.shiftTables(starts, at::kFloat, at::Device(at::kCPU));
        for (std::size_t b = 0; b < starts.size(); ++b) {
            const std::int64_t s = starts[b], len = (b + 1 < starts.size() ? starts[b + 1] : 12) - s;
            Rope::placeShifted(assembled.narrow(2, s, len), localRot.narrow(2, s, len), cosT[static_cast<std::int64_t>(b)],
                               sinT[static_cast<std::int64_t>(b)]);
        }
        const at::Tensor expected = at::stack({Rope::apply(k, cGlobal, sGlobal), Rope::apply(k * 0.5, cGlobal, sGlobal)});
        const double eb = relErr(assembled, expected);
        QVERIFY2(eb < 1e-6, qPrintable(QString::number(eb)));
        QVERIFY(relErr(assembled, layers) > 0.1);
        (void)deltas;
        // The dot product of a rotated query and key depends only on their distance.
        const at::Tensor q = at::randn({1, 1, 32});
        auto dotAt = [&](std::int64_t pq, std::int64_t pk) {
            const auto [cq, sq] = rope.cosSin(at::full({1}, pq, at::kLong), at::kFloat);
            const auto [ck, sk] = rope.cosSin(at::full({1}, pk, at::kLong), at::kFloat);
            return (Rope::apply(q, cq, sq) * Rope::apply(k.narrow(1, 0, 1).narrow(0, 0, 1), ck, sk)).sum().item<double>();
        };
        QVERIFY(std::fabs(dotAt(10, 3) - dotAt(510, 503)) < 1e-3);
    }
};

QTEST_GUILESS_MAIN(TestEngineAttention)
#include "test_engine_attention.moc"
