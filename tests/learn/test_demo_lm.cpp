// The demo language model's training code (core/learn/lm): a few CPU steps on a small text lower
// the loss; the checkpoint it writes loads in the engine and gives the training code's logits and
// validation loss; perplexity beats the unigram baseline; the induction score is a proper mean of
// attention weights; bad input is an error; train-lm / lm-eval run end to end.
#include "cli/cli.hpp"
#include "engine/model.hpp"
#include "engine/runner.hpp"
#include "learn/lm/corpus.hpp"
#include "learn/lm/lm_eval.hpp"
#include "learn/lm/lm_trainer.hpp"
#include "engine/make_model.hpp"
#include "small_lm.hpp"
#include "support/temp_files.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace blocklens;

namespace {

struct Fixture {
    QTemporaryDir dir;
    std::filesystem::path tokenizerPath, checkpoint;
    std::vector<std::uint16_t> train, valid;
    lm::LmTrainResult result;
    lm::LmTrainOptions options;

    Fixture()
    {
        // Documents of one paragraph of 40 templated sentences.
        const std::string trainText = test::templatedCorpus(1, 30, 1, 40, "\n"), validText = test::templatedCorpus(777, 3, 1, 40, "\n");
        tokenizerPath = test::writeBpeTokenizer(dir, trainText);
        const Tokenizer tok = Tokenizer::fromFile(tokenizerPath);
        train = lm::tokenizeDocuments(tok, lm::splitDocuments(trainText), 0, 1, 1);
        valid = lm::tokenizeDocuments(tok, lm::splitDocuments(validText), 0, 1, 1);
        options.config = test::smallTiedLlama();
        options.config.rope.theta = 10000;
        options.seqLen = 32;
        options.config.maxPositions = 32;
        options.batch = 8;
        options.steps = 60;
        options.warmup = 5;
        options.learningRate = 1e-2;
        options.logEvery = 5;
        options.threads = 1;
        checkpoint = std::filesystem::path(dir.path().toStdString()) / "model";
        result = lm::trainLm(train, valid, options, checkpoint, tokenizerPath);
    }
};

Fixture& fixture()
{
    static Fixture f;
    return f;
}

double relError(const std::vector<float>& a, const std::vector<float>& b)
{
    double num = 0, den = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        num += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
        den += static_cast<double>(b[i]) * b[i];
    }
    return std::sqrt(num / std::max(den, 1e-30));
}

} // namespace

class TestDemoLm : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void lossDecreases()
    {
        const auto& r = fixture().result;
        QCOMPARE(r.steps, std::int64_t{60});
        QVERIFY(r.log.size() >= 10);
        const double first = r.log.front().trainLoss, last = r.log.back().trainLoss;
        QVERIFY2(last < 0.6 * first, qPrintable(QString("loss %1 -> %2").arg(first).arg(last)));
        QVERIFY(r.validLoss.has_value());
        QVERIFY(std::isfinite(*r.validLoss));
        QVERIFY(*r.validLoss < std::log(320.0)); // better than uniform over the vocabulary
    }

    void checkpointLoadsInTheEngineWithTheSameLogits()
    {
        auto& f = fixture();
        for (const char* name : {"config.json", "model.safetensors", "tokenizer.json"})
            QVERIFY(std::filesystem::exists(f.checkpoint / name));
        const engine::Model model = engine::Model::load(f.checkpoint);
        QVERIFY(model.config().tieWordEmbeddings);
        QCOMPARE(model.config().numKvHeads, std::int64_t{2});
        std::vector<std::int32_t> ids(f.valid.begin(), f.valid.begin() + 30);
        engine::Runner runner(model);
        engine::RunRequest req;
        req.ids = ids;
        const auto out = runner.run(req);
        const auto ours = lm::trainerLogits(f.checkpoint, ids);
        QCOMPARE(out.logits.values.size(), ours.size());
        const double err = relError(out.logits.values, ours);
        QVERIFY2(err < 1e-5, qPrintable(QString("relative error %1").arg(err)));
    }

    void engineValidationLossEqualsTrainer()
    {
        auto& f = fixture();
        const engine::Model model = engine::Model::load(f.checkpoint);
        const auto ppl = lm::evaluatePerplexity(model, f.valid, f.train, f.options.seqLen);
        std::int64_t predicted = 0;
        const double trainer = lm::trainerLoss(f.checkpoint, f.valid, f.options.seqLen, 0, "cpu", &predicted);
        QCOMPARE(ppl.predicted, predicted);
        QVERIFY2(std::abs(ppl.modelLoss - trainer) < 1e-4, qPrintable(QString("%1 vs %2").arg(ppl.modelLoss).arg(trainer)));
        // The trainer's own end-of-training figure is the same measurement.
        QVERIFY(std::abs(*f.result.validLoss - trainer) < 1e-4);
        QVERIFY(ppl.modelPerplexity() < ppl.unigramPerplexity());
    }

    void inductionScoresAreAttentionMeans()
    {
        auto& f = fixture();
        const engine::Model model = engine::Model::load(f.checkpoint);
        const auto ind = lm::evaluateInduction(model, 0, 2, 20, 2, 5);
        QCOMPARE(ind.scores.size(), std::size_t{2 * 4});
        for (double s : ind.scores)
            QVERIFY(s >= 0 && s <= 1);
        QVERIFY(ind.uniformBaseline > 0 && ind.uniformBaseline < 0.1);
        QCOMPARE(ind.best, *std::max_element(ind.scores.begin(), ind.scores.end()));
        QVERIFY_THROWS_EXCEPTION(Error, lm::evaluateInduction(model, 0, 2, 400, 1, 1)); // vocabulary too small
    }

    void badInputIsAnError()
    {
        auto& f = fixture();
        auto o = f.options;
        o.steps = 1;
        std::vector<std::uint16_t> bad = f.train;
        bad[5] = 5000; // outside the 320-token vocabulary
        const auto out = std::filesystem::path(f.dir.path().toStdString()) / "bad";
        QVERIFY_THROWS_EXCEPTION(Error, lm::trainLm(bad, f.valid, o, out));
        std::vector<std::uint16_t> tiny(f.train.begin(), f.train.begin() + 10);
        QVERIFY_THROWS_EXCEPTION(Error, lm::trainLm(tiny, f.valid, o, out));
        o.config.tieWordEmbeddings = false;
        QVERIFY_THROWS_EXCEPTION(Error, lm::trainLm(f.train, f.valid, o, out));
        o = f.options;
        o.device = "cuda:7";
        if (!engine::cudaAvailable())
            QVERIFY_THROWS_EXCEPTION(Error, lm::trainLm(f.train, f.valid, o, out));
    }

    void commandsEndToEnd()
    {
        auto& f = fixture();
        const std::string dir = f.dir.path().toStdString();
        lm::writeTokenFile(dir + "/train.u16", f.train);
        lm::writeTokenFile(dir + "/valid.u16", f.valid);
        std::ostringstream o, e;
        const int rc = cli::runCli({"train-lm", "--train", dir + "/train.u16", "--valid", dir + "/valid.u16", "--tokenizer",
                                    f.tokenizerPath.string(), "--out", dir + "/cli-model", "--layers", "1", "--hidden", "16",
                                    "--heads", "2", "--kv-heads", "1", "--intermediate", "32", "--seq-len", "16", "--batch",
                                    "4", "--steps", "3", "--warmup", "1", "--threads", "1", "--log", dir + "/log.jsonl", "--json"},
                                   o, e);
        QVERIFY2(rc == 0, e.str().c_str());
        const auto summary = nlohmann::json::parse(o.str());
        QCOMPARE(summary["steps"].get<int>(), 3);
        QVERIFY(summary.contains("valid_loss"));
        std::ostringstream o2, e2;
        const int rc2 = cli::runCli({"lm-eval", "--model", dir + "/cli-model", "--valid", dir + "/valid.u16", "--train",
                                     dir + "/train.u16", "--induction-length", "10", "--trials", "1", "--check-trainer", "--json"},
                                    o2, e2);
        QVERIFY2(rc2 == 0, e2.str().c_str());
        const auto ev = nlohmann::json::parse(o2.str());
        QCOMPARE(ev["context"].get<int>(), 16);
        QVERIFY(std::abs(ev["valid_loss"].get<double>() - ev["trainer_valid_loss"].get<double>()) < 1e-4);
        QVERIFY(std::abs(ev["valid_loss"].get<double>() - summary["valid_loss"].get<double>()) < 1e-4);
        QCOMPARE(ev["induction_scores"].size(), std::size_t{2});
        std::ostringstream o3, e3;
        QCOMPARE(cli::runCli({"train-lm", "--valid", dir + "/valid.u16"}, o3, e3), 2); // --train missing
    }

    // The model that ships in resources/models/demo: loads, fits its size budget, matches its
    // tokenizer, and still has an induction head (the figure in its README).
    void shippedDemoModel()
    {
        const auto dir = test::sourceDir() / "resources" / "models" / "demo";
        if (!std::filesystem::exists(dir / "model.safetensors"))
            QSKIP("resources/models/demo is not in this checkout");
        std::uintmax_t bytes = 0;
        for (const char* name : {"config.json", "model.safetensors", "tokenizer.json"})
            bytes += std::filesystem::file_size(dir / name);
        QVERIFY(bytes <= 30u * 1000 * 1000);
        const Tokenizer tok = Tokenizer::fromFile(dir / "tokenizer.json");
        const engine::Model model = engine::Model::load(dir);
        QCOMPARE(static_cast<std::int64_t>(tok.vocabSize()), model.config().vocabSize);
        QCOMPARE(*tok.tokenToId("<|begin_of_text|>"), 0);
        QCOMPARE(tok.encode("Hello", true).ids.front(), 0);
        const auto ind = lm::evaluateInduction(model, 0, 2, 50, 4, 1);
        QVERIFY2(ind.best > 0.5, qPrintable(QString("best induction score %1").arg(ind.best)));
        // It predicts English: the next token after a common phrase is the expected one.
        const Encoding e = tok.encode("The Linux kernel is the core of the operating", true);
        engine::Runner runner(model);
        engine::RunRequest req;
        req.ids = e.ids;
        req.logits = engine::LogitsWanted::LastToken;
        const auto out = runner.run(req);
        const float* row = out.logits.row(static_cast<std::int64_t>(e.ids.size()) - 1);
        const auto top = static_cast<std::int32_t>(std::max_element(row, row + out.logits.vocab) - row);
        QCOMPARE(tok.decode(std::vector<std::int32_t>{top}), std::string(" system"));
    }
};

QTEST_GUILESS_MAIN(TestDemoLm)
#include "test_demo_lm.moc"
