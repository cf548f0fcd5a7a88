// The engine's pool of large host buffers (engine/host_memory.hpp, issue 18): a second identical
// pass maps no fresh pages (its buffers come from the first pass's), and the pool never holds more
// address space than the most its buffers in use ever needed at once.
#include "engine/host_memory.hpp"
#include "engine/make_model.hpp"
#include "engine/model.hpp"
#include "engine/runner.hpp"

#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

using namespace blocklens::engine;

namespace {

constexpr std::uint64_t kMiB = std::uint64_t(1) << 20;

// What no allocator can do without: the pool within its peak, and idle within its cap.
bool withinBounds(const HostBufferStats& s)
{
    return s.liveBytes + s.cachedBytes <= s.peakLiveBytes + s.peakLiveBytes / kPeakSlack && s.cachedBytes <= kMaxCachedBytes;
}

} // namespace

class TestHostBuffers : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(tmp_.isValid());
        if (!reuseHostBuffers())
            QSKIP("the host buffer pool is off in this build (AddressSanitizer, or not Linux)");
    }

    void aSecondPassMapsNoFreshPages()
    {
        MakeModelOptions o;
        // Wide enough that the activations, scores and logits of 300 tokens pass kMinPooledBytes.
        o.config = defaultConfig(Architecture::Llama, 3, 128, 4, 2, 2048, 512, 32);
        o.seed = 3;
        const auto dir = std::filesystem::path(tmp_.path().toStdString()) / "model";
        makeModel(o, dir);
        const Runner runner(Model::load(dir));
        RunRequest req;
        for (std::int32_t i = 0; i < 300; ++i)
            req.ids.push_back((i * 37 + 5) % 2048);
        req.mode = AttentionMode::Full;
        req.logits = LogitsWanted::All;
        runner.run(req); // the first run also makes what later runs reuse (RoPE tables, ...)
        const RunResult first = runner.run(req);
        const HostBufferStats afterFirst = hostBufferStats();
        QVERIFY2(afterFirst.freshBytes >= 300 * 2048 * 4, "the logits alone (2.3 MiB) should have come from the pool");
        QVERIFY(withinBounds(afterFirst));
        const RunResult second = runner.run(req);
        const HostBufferStats afterSecond = hostBufferStats();
        QCOMPARE(afterSecond.freshBytes, afterFirst.freshBytes);
        QVERIFY(afterSecond.reusedBytes > afterFirst.reusedBytes);
        QVERIFY(withinBounds(afterSecond));
        QVERIFY(first.logits.values == second.logits.values); // bit for bit: the same products on reused memory
    }

    void aFreedBufferIsHandedOutAgain()
    {
        const auto floats = [](std::uint64_t bytes) { return static_cast<std::int64_t>(bytes / 4); };
        at::empty({floats(16 * kMiB)}, at::kFloat).fill_(1); // freed at once: cached
        const HostBufferStats before = hostBufferStats();
        QVERIFY(before.cachedBytes >= 16 * kMiB);
        at::empty({floats(16 * kMiB)}, at::kFloat).fill_(2); // the same size
        at::empty({floats(12 * kMiB)}, at::kFloat).fill_(3); // within twice the size asked for
        const HostBufferStats after = hostBufferStats();
        QCOMPARE(after.freshBytes, before.freshBytes);
        QCOMPARE(after.reusedBytes - before.reusedBytes, 32 * kMiB);
    }

    void addressSpaceStaysWithinThePeakInUse()
    {
        // Sizes that never repeat, some held while others come and go: every fresh buffer must
        // first unmap cached ones, never let the pool grow past its bound.
        std::vector<at::Tensor> held;
        for (std::int64_t i = 1; i <= 40; ++i) {
            const at::Tensor t = at::empty({static_cast<std::int64_t>((i * 37 % 41 + 1) * kMiB / 4)}, at::kFloat);
            t.fill_(static_cast<float>(i));
            if (i % 7 == 0)
                held.push_back(t);
            QVERIFY2(withinBounds(hostBufferStats()), qPrintable(QStringLiteral("step %1").arg(i)));
        }
        held.clear();
        QVERIFY(withinBounds(hostBufferStats()));
    }
};

QTEST_GUILESS_MAIN(TestHostBuffers)
#include "test_host_buffers.moc"
