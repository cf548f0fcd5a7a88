// The side by side with a second model beside (issue 19, usecases/model_comparison.hpp): the
// second model's block run is compared with the BASE model's full attention (checked against
// separate engine runs), the same weights give the same column as the base model's block run, and
// models that read text differently or have other vocabularies are refused in one line naming
// both files.
#include "engine/make_model.hpp"
#include "engine/metrics.hpp"
#include "engine/model_bundle.hpp"
#include "engine/runner.hpp"
#include "support/error_of.hpp"
#include "support/temp_files.hpp"
#include "usecases/model_comparison.hpp"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

using namespace blocklens;
namespace fs = std::filesystem;

namespace {

fs::path makeModel(const QTemporaryDir& dir, const std::string& name, std::uint64_t seed, std::int64_t vocab = 32000)
{
    engine::MakeModelOptions o;
    o.config = engine::defaultConfig(engine::Architecture::Llama, 2, 64, 4, 2, vocab, 128, 16);
    o.config.tieWordEmbeddings = true;
    o.config.eosTokenId.reset();
    o.seed = seed;
    o.tokenizer = test::fixturesDir() / "tokenizers" / "llama2" / "tokenizer.json";
    const fs::path out = fs::path(dir.path().toStdString()) / name;
    engine::makeModel(o, out);
    return out;
}

engine::ModelBundle load(const fs::path& dir)
{
    return engine::loadModelBundle(engine::readModelFiles(dir, std::nullopt, engine::TokenizerNeed::Required));
}

// 4 context blocks and a query block over real text.
usecases::ComparisonInput inputFor(const Tokenizer& tok)
{
    usecases::ComparisonInput in;
    in.ids = tok.encode("Block attention splits a long input into blocks. Each block is encoded on its own, so its keys and "
                        "values can be cached. The last block is the query; it attends to everything before it.")
                 .ids;
    const auto n = static_cast<std::int64_t>(in.ids.size());
    in.blocks = {0, n / 5, 2 * n / 5, 3 * n / 5, 4 * n / 5};
    in.queryTokens = n - in.blocks.back();
    return in;
}

} // namespace

class TestModelComparison : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(tmp_.isValid());
        baseDir_ = makeModel(tmp_, "base", 7);
        otherDir_ = makeModel(tmp_, "base-block-distilled", 8);
    }

    void theSecondModelIsMeasuredAgainstTheBaseModelsFullAttention()
    {
        const auto base = load(baseDir_), other = load(otherDir_);
        const auto input = inputFor(*base.tokenizer);
        usecases::ComparisonOptions options;
        options.maxNewTokens = 3;
        const engine::Runner baseRunner(base.model), otherRunner(other.model);
        int otherTokens = 0, otherFinished = 0;
        usecases::ComparisonHooks hooks;
        hooks.onToken = [&](usecases::ComparisonSide side, std::int32_t) { otherTokens += side == usecases::ComparisonSide::OtherModel; };
        hooks.finished = [&](usecases::ComparisonSide side, const engine::RunResult&) {
            otherFinished += side == usecases::ComparisonSide::OtherModel;
        };
        const auto report = usecases::runModelComparison(baseRunner, otherRunner, input, options, hooks);
        QCOMPARE(otherTokens, 3);
        QCOMPARE(otherFinished, 1);

        engine::RunRequest req = usecases::comparisonRequest(input, options);
        req.mode = engine::AttentionMode::Full;
        const auto baseFull = engine::Runner(base.model).run(req);
        const auto otherFull = engine::Runner(other.model).run(req);
        req.mode = engine::AttentionMode::BlockCached;
        const auto otherBlock = engine::Runner(other.model).run(req);
        const auto expected = engine::compareRuns(baseFull, otherBlock, input.ids, input.blocks.back());
        // Against the other model's own full attention the numbers would differ: the check tells
        // the two references apart.
        const auto ownReference = engine::compareRuns(otherFull, otherBlock, input.ids, input.blocks.back());
        QVERIFY(std::abs(expected.meanKl - ownReference.meanKl) > 1e-6);
        QVERIFY(std::abs(report.otherComparison.meanKl - expected.meanKl) <= 1e-9 + 1e-6 * expected.meanKl);
        QCOMPARE(report.otherComparison.top1Agreement, expected.top1Agreement);
        QCOMPARE(report.other.generated, otherBlock.generated);
        QCOMPARE(report.base.reference.generated, baseFull.generated);
    }

    // The base model beside itself: the third column is the second one.
    void theSameWeightsGiveTheSameColumn()
    {
        const auto base = load(baseDir_), again = load(baseDir_);
        const auto input = inputFor(*base.tokenizer);
        usecases::ComparisonOptions options;
        options.maxNewTokens = 2;
        const auto report = usecases::runModelComparison(engine::Runner(base.model), engine::Runner(again.model), input, options);
        QCOMPARE(report.other.generated, report.base.compared.generated);
        QVERIFY(std::abs(report.otherComparison.meanKl - report.base.comparison.meanKl) <= 1e-9 + 1e-6 * report.base.comparison.meanKl);
    }

    void modelsThatReadTextDifferentlyAreRefused()
    {
        const auto base = load(baseDir_);
        const fs::path odd = fs::path(tmp_.path().toStdString()) / "odd";
        fs::copy(baseDir_, odd, fs::copy_options::recursive);
        std::ofstream(odd / "tokenizer.json", std::ios::app) << "\n"; // same vocabulary, other bytes
        const auto oddFiles = engine::readModelFiles(odd);
        const std::string e = test::errorOf([&] {
            usecases::requireSharedTokenizer({base.tokenizer, base.tokenizerFile}, {oddFiles.tokenizer, oddFiles.tokenizerFile});
        });
        QVERIFY2(e.find((baseDir_ / "tokenizer.json").string()) != std::string::npos &&
                     e.find((odd / "tokenizer.json").string()) != std::string::npos && e.find("share a tokenizer") != std::string::npos &&
                     e.find('\n') == std::string::npos,
                 e.c_str());
        // The same bytes pass; no tokenizer at all is refused, naming the missing file.
        const auto otherFiles = engine::readModelFiles(otherDir_);
        QCOMPARE(test::errorOf([&] {
                     usecases::requireSharedTokenizer({base.tokenizer, base.tokenizerFile}, {otherFiles.tokenizer, otherFiles.tokenizerFile});
                 }),
                 std::string());
        const std::optional<Tokenizer> none;
        const std::string missing = test::errorOf([&] {
            usecases::requireSharedTokenizer({base.tokenizer, base.tokenizerFile}, {none, odd / "missing" / "tokenizer.json"});
        });
        QVERIFY2(missing.find((odd / "missing" / "tokenizer.json").string()) != std::string::npos, missing.c_str());

        // Another vocabulary size (padded): its logits cannot be compared row by row.
        const fs::path padded = makeModel(tmp_, "padded", 9, 32064);
        const auto wide = load(padded);
        const auto input = inputFor(*base.tokenizer);
        const std::string v = test::errorOf([&] {
            usecases::runModelComparison(engine::Runner(base.model), engine::Runner(wide.model), input, usecases::ComparisonOptions{});
        });
        QVERIFY2(v.find((padded / "config.json").string()) != std::string::npos && v.find((baseDir_ / "config.json").string()) != std::string::npos &&
                     v.find("vocab_size") != std::string::npos,
                 v.c_str());
    }

private:
    QTemporaryDir tmp_;
    fs::path baseDir_, otherDir_;
};

QTEST_MAIN(TestModelComparison)
#include "test_model_comparison.moc"
