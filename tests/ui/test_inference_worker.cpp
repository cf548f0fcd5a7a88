// The inference worker against the engine called directly: a comparison's numbers and streamed
// tokens, cache hits after a boundary edit, attention capture, latest-wins, cancel, and errors.
#include "engine/metrics.hpp"
#include "engine/model.hpp"
#include "engine/runner.hpp"
#include "inference/inference_worker.hpp"
#include "workspace/workspace_gateway.hpp"
#include "inference_fixture.hpp"
#include "segment/token_blocks.hpp"
#include "store/store.hpp"
#include "tokenizer/tokenizer.hpp"

#include <QSignalSpy>
#include <QtTest>

using namespace blocklens;
using namespace blocklens::ui;

namespace {

using Direct = test::DirectComparison;

// What the worker should compute, done here with the engine alone.
Direct runDirect(const std::filesystem::path& modelDir, const Document& doc, const std::vector<std::size_t>& cuts, const std::string& query,
                 std::int64_t maxNew)
{
    return test::runDirectComparison(modelDir, doc, cuts, query, maxNew);
}

std::vector<std::size_t> paragraphCuts(const Document& doc)
{
    std::vector<std::size_t> cuts;
    const auto starts = doc.lineStarts();
    for (std::size_t i = 1; i < starts.size(); ++i)
        if (starts[i] < doc.length() && starts[i] >= 2 && doc.slice(starts[i] - 2, starts[i]) == "\n\n")
            cuts.push_back(starts[i]);
    return cuts;
}

} // namespace

class TestInferenceWorker : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(tmp_.isValid());
        modelDir_ = test::makeTestModel(tmp_);
        doc_ = std::make_shared<const Document>(test::testDocumentText());
        QSignalSpy loaded(&worker_, &InferenceWorker::modelLoaded);
        QSignalSpy progress(&worker_, &InferenceWorker::loadProgress);
        worker_.requestLoad({.directory = QString::fromStdString(modelDir_.string())});
        QVERIFY(loaded.wait(30000));
        const auto info = loaded.at(0).at(1).value<ModelInfo>();
        QCOMPARE(info.architecture, QStringLiteral("llama"));
        QCOMPARE(info.device, QStringLiteral("cpu"));
        QCOMPARE(info.parameters, engine::ModelConfig::fromFile(modelDir_ / "config.json").parameterCount());
        QVERIFY(!info.tokenizerHash.isEmpty());
        QVERIFY(progress.size() > 3); // one per tensor
        QVERIFY(worker_.model().has_value());
    }

    void comparisonEqualsTheEngine()
    {
        const auto cuts = paragraphCuts(*doc_);
        QCOMPARE(cuts.size(), std::size_t(3));
        const Direct d = runDirect(modelDir_, *doc_, cuts, "What is the query block?", 6);

        QSignalSpy ready(&worker_, &InferenceWorker::comparisonReady);
        QSignalSpy tokens(&worker_, &InferenceWorker::tokenStreamed);
        QSignalSpy started(&worker_, &InferenceWorker::compareStarted);
        const quint64 id = worker_.requestComparison({.document = doc_, .cuts = cuts, .query = QStringLiteral("What is the query block?"),
                                                      .maxNewTokens = 6, .coldCache = true});
        QVERIFY(ready.wait(30000));
        QCOMPARE(ready.at(0).at(0).toULongLong(), id);
        const auto r = ready.at(0).at(1).value<CompareReport>();
        QCOMPARE(started.size(), 1);
        QCOMPARE(r.input.ids, d.ids);
        QCOMPARE(r.input.blocks, d.blocks);
        QCOMPARE(r.input.blocks.size(), std::size_t(5)); // 4 paragraphs + the query
        QCOMPARE(r.full.generated, d.full.generated);
        QCOMPARE(r.block.generated, d.block.generated);
        QCOMPARE(r.comparison.kl.size(), d.cmp.kl.size());
        for (std::size_t i = 0; i < d.cmp.kl.size(); ++i)
            QVERIFY2(std::abs(r.comparison.kl[i] - d.cmp.kl[i]) <= 1e-9 + 1e-6 * d.cmp.kl[i], qPrintable(QString::number(i)));
        QCOMPARE(r.comparison.top1Agreement, d.cmp.top1Agreement);
        QCOMPARE(r.comparison.firstDivergentToken, d.cmp.firstDivergentToken);
        QCOMPARE(r.full.stats.prefillFlops.total(), d.full.stats.prefillFlops.total());
        QCOMPARE(r.block.stats.prefillFlops.total(), d.block.stats.prefillFlops.total());
        QCOMPARE(r.block.stats.kvBytes, d.block.stats.kvBytes);
        QCOMPARE(r.block.stats.cacheMisses, std::int64_t(4)); // cold cache: every document block encoded
        QCOMPARE(r.blockWarm.cacheHits, std::int64_t(4));
        QCOMPARE(r.blockWarm.prefillFlops.total() < r.block.stats.prefillFlops.total(), true);

        // Streaming: one signal per generated token, per column, the text growing.
        QCOMPARE(tokens.size(), 12);
        std::vector<std::int32_t> streamedFull;
        for (const auto& args : tokens)
            if (args.at(1).value<CompareColumn>() == CompareColumn::Full)
                streamedFull.push_back(args.at(2).toInt());
        QCOMPARE(streamedFull, d.full.generated);
        QCOMPARE(tokens.at(5).at(3).toString(), r.fullText);
    }

    void editRecomputesOnlyTouchedBlocks()
    {
        auto cuts = paragraphCuts(*doc_);
        QSignalSpy ready(&worker_, &InferenceWorker::comparisonReady);
        worker_.requestComparison({.document = doc_, .cuts = cuts, .query = QStringLiteral("Q?"), .maxNewTokens = 1, .coldCache = true});
        QVERIFY(ready.wait(30000));
        // Move the last paragraph cut: the two blocks on either side change, the first two do not.
        cuts[2] += 6;
        while (doc_->slice(cuts[2] - 1, cuts[2]) != " ")
            ++cuts[2];
        worker_.requestComparison({.document = doc_, .cuts = cuts, .query = QStringLiteral("Q?"), .maxNewTokens = 1});
        QVERIFY(ready.wait(30000));
        const auto r = ready.at(1).at(1).value<CompareReport>();
        QCOMPARE(r.block.stats.cacheHits, std::int64_t(2));
        QCOMPARE(r.block.stats.cacheMisses, std::int64_t(2));
    }

    void attentionEqualsTheEngine()
    {
        const Direct d = runDirect(modelDir_, *doc_, paragraphCuts(*doc_), "Why?", 0);
        QSignalSpy ready(&worker_, &InferenceWorker::attentionReady);
        worker_.requestAttention({.ids = d.ids, .blocks = d.blocks, .layers = {}, .byBlock = true});
        QVERIFY(ready.wait(30000));
        const auto r = ready.at(0).at(1).value<AttentionReport>();
        QCOMPARE(r.mass.layers, (std::vector<std::int64_t>{0, 1}));
        QCOMPARE(r.mass.rows, static_cast<std::int64_t>(d.blocks.size()));
        QCOMPARE(r.mass.blocks, static_cast<std::int64_t>(d.blocks.size()));

        const engine::Runner runner(engine::Model::load(modelDir_));
        engine::RunRequest req;
        req.ids = d.ids;
        req.blocks = d.blocks;
        req.logits = engine::LogitsWanted::None;
        req.attention = {{0, 1}, true};
        const auto direct = runner.run(req).attention;
        QCOMPARE(r.mass.values.size(), direct.values.size());
        for (std::size_t i = 0; i < direct.values.size(); ++i)
            QVERIFY(std::abs(r.mass.values[i] - direct.values[i]) < 1e-6f);
        // Row sums: every query block's attention adds up to one.
        float sum = 0;
        for (std::int64_t b = 0; b < r.mass.blocks; ++b)
            sum += r.mass.at(1, 3, r.mass.rows - 1, b);
        QVERIFY(std::abs(sum - 1.0f) < 1e-4f);

        // With a document: the spans come back for click-to-jump.
        worker_.requestAttention({.document = doc_, .cuts = paragraphCuts(*doc_), .layers = {1}});
        QVERIFY(ready.wait(30000));
        const auto withDoc = ready.at(1).at(1).value<AttentionReport>();
        QCOMPARE(withDoc.spans.size(), withDoc.ids.size());
        QCOMPARE(withDoc.mass.rows, static_cast<std::int64_t>(withDoc.ids.size()));
    }

    void latestWinsAndCancel()
    {
        QSignalSpy ready(&worker_, &InferenceWorker::comparisonReady);
        QSignalSpy cancelled(&worker_, &InferenceWorker::cancelled);
        QSignalSpy tokens(&worker_, &InferenceWorker::tokenStreamed);
        const quint64 first = worker_.requestComparison({.document = doc_, .cuts = {}, .query = QStringLiteral("A"), .maxNewTokens = 400});
        const quint64 second = worker_.requestComparison({.document = doc_, .cuts = {}, .query = QStringLiteral("B"), .maxNewTokens = 2});
        QVERIFY(ready.wait(60000));
        QCOMPARE(ready.at(0).at(0).toULongLong(), second);
        QCOMPARE(cancelled.size(), 1);
        QCOMPARE(cancelled.at(0).at(0).toULongLong(), first);

        // Cancel a long generation once it streams.
        tokens.clear();
        const quint64 third = worker_.requestComparison({.document = doc_, .cuts = {}, .query = QStringLiteral("C"), .maxNewTokens = 2000});
        QVERIFY(tokens.wait(30000));
        worker_.cancel(third);
        QVERIFY(cancelled.wait(30000));
        QCOMPARE(cancelled.at(1).at(0).toULongLong(), third);
        QVERIFY(tokens.size() < 2000);
        QVERIFY(!worker_.isBusy());
    }

    void badModelDirectoryFailsAndKeepsTheModel()
    {
        QSignalSpy failed(&worker_, &InferenceWorker::failed);
        const quint64 id = worker_.requestLoad({.directory = QString::fromStdString((modelDir_ / "missing").string())});
        QVERIFY(failed.wait(30000));
        QCOMPARE(failed.at(0).at(0).toULongLong(), id);
        QVERIFY2(failed.at(0).at(1).toString().contains(QStringLiteral("no such directory")), qPrintable(failed.at(0).at(1).toString()));
        QVERIFY(worker_.model().has_value()); // the previous model stays

        // A directory without config.json.
        worker_.requestLoad({.directory = tmp_.path()});
        QVERIFY(failed.wait(30000));
        QVERIFY2(failed.at(1).at(1).toString().contains(QStringLiteral("config.json")), qPrintable(failed.at(1).at(1).toString()));

        // CUDA on a machine without it (skipped where CUDA exists).
        if (!engine::cudaAvailable()) {
            worker_.requestLoad({.directory = QString::fromStdString(modelDir_.string()), .device = QStringLiteral("cuda")});
            QVERIFY(failed.wait(30000));
            QVERIFY2(failed.at(2).at(1).toString().contains(QStringLiteral("CUDA"), Qt::CaseInsensitive), qPrintable(failed.at(2).at(1).toString()));
        }
        // Still usable.
        QSignalSpy ready(&worker_, &InferenceWorker::comparisonReady);
        worker_.requestComparison({.document = doc_, .cuts = {}, .query = QStringLiteral("Still there?"), .maxNewTokens = 1});
        QVERIFY(ready.wait(30000));
    }

    // Issue 15: on a fresh home ($XDG_DATA_HOME/blocklens/ missing) the first comparison is
    // recorded in the default workspace, created on first use; the report says how the TTFTs were
    // measured; past the model's trained context it says what the numbers then mean.
    void firstComparisonOnAFreshHome()
    {
        QTemporaryDir home;
        const QByteArray oldXdg = qgetenv("XDG_DATA_HOME"), oldDb = qgetenv("BLOCKLENS_DB");
        qputenv("XDG_DATA_HOME", QFile::encodeName(home.path() + QStringLiteral("/share")));
        qunsetenv("BLOCKLENS_DB");
        const auto workspace = store::resolveWorkspacePath(std::nullopt);
        QVERIFY(!std::filesystem::exists(workspace.parent_path()));

        engine::MakeModelOptions o;
        o.config = engine::defaultConfig(engine::Architecture::Llama, 1, 64, 4, 2, 32000, 128, 16);
        o.config.maxPositions = 64; // the test document is a few hundred tokens
        o.config.eosTokenId.reset();
        o.tokenizer = test::fixturesDir() / "tokenizers" / "llama2" / "tokenizer.json";
        const auto shortModel = std::filesystem::path(home.path().toStdString()) / "short-context";
        engine::makeModel(o, shortModel);

        WorkspaceGateway gateway(QString::fromStdString(workspace.string()));
        InferenceWorker worker;
        worker.setWorkspace(&gateway);
        QSignalSpy loaded(&worker, &InferenceWorker::modelLoaded);
        worker.requestLoad({.directory = QString::fromStdString(shortModel.string())});
        QVERIFY(loaded.wait(30000));
        QSignalSpy ready(&worker, &InferenceWorker::comparisonReady);
        worker.requestComparison({.document = doc_, .cuts = paragraphCuts(*doc_), .query = QStringLiteral("Q?"), .maxNewTokens = 2});
        QVERIFY(ready.wait(30000));
        const auto r = ready.at(0).at(1).value<CompareReport>();
        qputenv("XDG_DATA_HOME", oldXdg);
        if (!oldDb.isEmpty())
            qputenv("BLOCKLENS_DB", oldDb);
        QVERIFY2(r.recorded, qPrintable(r.recordError));
        QVERIFY(std::filesystem::exists(workspace));
        QCOMPARE(store::Store::open(workspace, {.mode = store::OpenMode::Existing}).info().runs, std::int64_t(2));
        QCOMPARE(r.timing, QStringLiteral("TTFT: 1 run after 1 untimed warm-up"));
        QVERIFY2(r.contextWarning.contains(QStringLiteral("trained on at most 64 (max_position_embeddings")), qPrintable(r.contextWarning));
        // Within the trained context (the shared model: 131072 positions), no warning.
        QSignalSpy again(&worker_, &InferenceWorker::comparisonReady);
        worker_.requestComparison({.document = doc_, .cuts = {}, .query = QStringLiteral("Q?"), .maxNewTokens = 1});
        QVERIFY(again.wait(30000));
        QVERIFY(again.at(0).at(1).value<CompareReport>().contextWarning.isEmpty());
    }

private:
    QTemporaryDir tmp_;
    std::filesystem::path modelDir_;
    std::shared_ptr<const Document> doc_;
    InferenceWorker worker_;
};

QTEST_GUILESS_MAIN(TestInferenceWorker)
#include "test_inference_worker.moc"
