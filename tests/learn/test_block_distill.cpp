// Block fine-tuning and block distillation (issue 19) on a small random model, on the CPU: the
// training forward under block masks is the engine's `block` mode; the distillation loss vanishes
// for a student equal to its teacher under full attention; one step lowers the loss on a fixed
// batch; a written checkpoint reloads to identical logits; a stopped run resumed continues the
// same loss curve; bad input is a one-line error; train-block / eval-block run end to end.
#include "cli/cli.hpp"
#include "engine/make_model.hpp"
#include "engine/metrics.hpp"
#include "engine/model.hpp"
#include "engine/runner.hpp"
#include "learn/lm/block_trainer.hpp"
#include "learn/lm/corpus.hpp"
#include "store/store.hpp"
#include "small_lm.hpp"
#include "support/cli_capture.hpp"
#include "support/error_of.hpp"
#include "support/temp_files.hpp"
#include "usecases/block_distillation.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace blocklens;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    QTemporaryDir dir;
    fs::path root, model, corpus;
    usecases::BlockDataOptions data;
    std::vector<lm::BlockWindow> windows;
    std::vector<lm::BlockWindow> multi; // the windows with three blocks or more (block differs from full there)

    Fixture()
    {
        root = dir.path().toStdString();
        // Documents of short paragraphs of templated sentences.
        const std::string text = test::templatedCorpus(3, 6, 12, 3, "\n\n");
        const fs::path tokenizer = test::writeBpeTokenizer(dir, text);
        corpus = test::writeFile(dir, "corpus.txt", text);
        engine::MakeModelOptions mo;
        mo.config = test::smallTiedLlama();
        mo.config.dtype = engine::DType::F32;
        mo.seed = 5;
        mo.initStd = 0.15; // large enough that attention (and so the blocks) matters
        mo.tokenizer = tokenizer;
        model = root / "base";
        engine::makeModel(mo, model);
        data.data = corpus;
        data.segmenter = "fixed";
        data.segmentOptions.granularity = segment::Granularity::target(16);
        data.windows.tokens = 96;
        windows = usecases::blockWindowsFor(model, data).windows;
        for (const auto& w : windows)
            if (w.blockStarts.size() >= 3)
                multi.push_back(w);
    }

    lm::BlockTrainOptions options(lm::BlockRecipe recipe, std::int64_t steps) const
    {
        lm::BlockTrainOptions o;
        o.recipe = recipe;
        o.steps = steps;
        o.batch = 4;
        o.warmup = 0;
        o.learningRate = 3e-3;
        o.checkpointEvery = 0;
        o.logEvery = 1;
        o.threads = 1;
        return o;
    }
};

Fixture& fixture()
{
    static Fixture f;
    return f;
}

std::vector<float> engineLogits(const fs::path& model, const lm::BlockWindow& w, engine::AttentionMode mode)
{
    const engine::Runner runner(engine::Model::load(model));
    engine::RunRequest req;
    req.ids.assign(w.ids.begin(), w.ids.end() - 1);
    req.blocks = w.blockStarts;
    req.mode = mode;
    req.logits = engine::LogitsWanted::All;
    return runner.run(req).logits.values;
}

std::vector<char> bytesOf(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

} // namespace

class TestBlockDistill : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void windowsHaveSeveralBlocks()
    {
        const auto& f = fixture();
        QVERIFY(f.windows.size() >= 6);
        std::size_t threeOrMore = 0;
        for (const auto& w : f.windows) {
            QCOMPARE(w.ids.size(), std::size_t{97});
            QCOMPARE(w.ids.front(), 0); // BOS
            QCOMPARE(w.blockStarts.front(), std::int64_t{0});
            QVERIFY(w.blockStarts.size() >= 2);
            threeOrMore += w.blockStarts.size() >= 3;
        }
        QVERIFY(threeOrMore >= f.windows.size() / 2);
    }

    void trainingForwardIsTheEngines()
    {
        const auto& f = fixture();
        const auto& w = f.multi[1];
        const auto block = lm::blockTrainingLogits(f.model, w, false);
        const auto engineBlock = engineLogits(f.model, w, engine::AttentionMode::Block);
        QCOMPARE(block.size(), engineBlock.size());
        const double errBlock = engine::relativeError(block, engineBlock);
        QVERIFY2(errBlock < 1e-4, qPrintable(QString("block: relative error %1").arg(errBlock)));
        const auto full = lm::blockTrainingLogits(f.model, w, true);
        const double errFull = engine::relativeError(full, engineLogits(f.model, w, engine::AttentionMode::Full));
        QVERIFY2(errFull < 1e-4, qPrintable(QString("full: relative error %1").arg(errFull)));
        // The masks matter here, so the comparison above can fail.
        QVERIFY(engine::relativeError(block, full) > 1e-3);
    }

    void distillLossIsZeroForTheTeacherItself()
    {
        const auto& f = fixture();
        const auto& w = f.multi[0];
        QVERIFY(std::abs(lm::distillLoss(f.model, f.model, w, true)) < 1e-7);
        QVERIFY(lm::distillLoss(f.model, f.model, w, false) > 1e-4); // under block masks it is not
    }

    void oneStepLowersTheLossOnAFixedBatch_data()
    {
        QTest::addColumn<int>("recipe");
        QTest::newRow("distill") << int(lm::BlockRecipe::Distill);
        QTest::newRow("block-ft") << int(lm::BlockRecipe::BlockFineTune);
    }
    void oneStepLowersTheLossOnAFixedBatch()
    {
        QFETCH(int, recipe);
        const auto& f = fixture();
        // One window: every step's batch is the same window.
        const std::vector<lm::BlockWindow> one{f.multi[2]};
        auto o = f.options(static_cast<lm::BlockRecipe>(recipe), 2);
        o.batch = 1;
        o.learningRate = 1e-3;
        o.minLrRatio = 1.0;
        const auto r = lm::trainBlock(one, f.model, f.model, o, f.root / ("one-step-" + std::to_string(recipe)), std::nullopt);
        QCOMPARE(r.stepLosses.size(), std::size_t{2});
        QVERIFY2(r.stepLosses[1] < r.stepLosses[0], qPrintable(QString("%1 -> %2").arg(r.stepLosses[0]).arg(r.stepLosses[1])));
        if (recipe == int(lm::BlockRecipe::Distill)) { // the first step's loss is the distillation loss of the start
            QVERIFY(std::abs(r.stepLosses[0] - lm::distillLoss(f.model, f.model, one[0], false)) < 1e-5);
            QVERIFY(lm::distillLoss(f.root / ("one-step-" + std::to_string(recipe)), f.model, one[0], false) < r.stepLosses[0]);
        }
    }

    // --loss-on last-block: the loss is the KL over the last block's rows alone (what eval-block
    // measures), and a step lowers it.
    void lastBlockLossCountsTheLastBlockOnly()
    {
        const auto& f = fixture();
        const std::vector<lm::BlockWindow> one{f.multi[2]};
        auto o = f.options(lm::BlockRecipe::Distill, 2);
        o.batch = 1;
        o.learningRate = 1e-3;
        o.minLrRatio = 1.0;
        o.lastBlockLoss = true;
        const auto out = f.root / "last-block-loss";
        const auto r = lm::trainBlock(one, f.model, f.model, o, out, std::nullopt);
        QCOMPARE(r.stepLosses.size(), std::size_t{2});
        const double lastBlock = lm::distillLoss(f.model, f.model, one[0], false, true);
        const double all = lm::distillLoss(f.model, f.model, one[0], false);
        QVERIFY2(std::abs(r.stepLosses[0] - lastBlock) < 1e-5, qPrintable(QString("%1 vs %2").arg(r.stepLosses[0]).arg(lastBlock)));
        QVERIFY(std::abs(lastBlock - all) > 1e-4); // the two losses differ on this window, so the check above can fail
        QVERIFY(lm::distillLoss(out, f.model, one[0], false, true) < lastBlock);
    }

    void checkpointReloadsToIdenticalLogits()
    {
        const auto& f = fixture();
        const fs::path out = f.root / "reload";
        auto o = f.options(lm::BlockRecipe::Distill, 3);
        o.sinkTokens = 2;
        o.blockDropout = 0.3;
        o.tokenWeighting = 1.0;
        lm::trainBlock(f.windows, f.model, f.model, o, out, f.model / "tokenizer.json");
        for (const char* name : {"config.json", "model.safetensors", "tokenizer.json", "training_state.json", "training_state.pt"})
            QVERIFY2(fs::exists(out / name), name);
        const auto first = bytesOf(out / "model.safetensors");
        const auto before = lm::blockTrainingLogits(out, f.multi[0], false);
        // Resuming a finished run does no step and writes the reloaded model again: the same bytes.
        o.resume = true;
        const auto again = lm::trainBlock(f.windows, f.model, f.model, o, out, f.model / "tokenizer.json");
        QCOMPARE(again.steps, std::int64_t{3});
        QVERIFY(bytesOf(out / "model.safetensors") == first);
        QVERIFY(lm::blockTrainingLogits(out, f.multi[0], false) == before);
        // And the engine loads it and computes the training forward's logits.
        QVERIFY(engine::relativeError(engineLogits(out, f.multi[0], engine::AttentionMode::Block), before) < 1e-4);
        QVERIFY(lm::blockTrainingLogits(f.model, f.multi[0], false) != before); // it did train
    }

    void resumeContinuesTheSameLossCurve()
    {
        const auto& f = fixture();
        auto o = f.options(lm::BlockRecipe::Distill, 6);
        o.blockDropout = 0.5;
        o.tokenWeighting = 0.5;
        const auto straight = lm::trainBlock(f.windows, f.model, f.model, o, f.root / "straight", std::nullopt);
        QCOMPARE(straight.stepLosses.size(), std::size_t{6});
        // Stopped after step 3 (as Ctrl+C does), then resumed.
        std::stop_source stop;
        Progress progress{[&](std::int64_t done, std::int64_t, std::string_view) {
                              if (done == 3)
                                  stop.request_stop();
                          },
                          stop.get_token()};
        const fs::path out = f.root / "resumed";
        const auto part = lm::trainBlock(f.windows, f.model, f.model, o, out, std::nullopt, {}, progress);
        QVERIFY(part.stopped);
        QCOMPARE(part.steps, std::int64_t{3});
        (void)engine::Model::load(out); // the checkpoint left by the stop is usable
        o.resume = true;
        const auto rest = lm::trainBlock(f.windows, f.model, f.model, o, out, std::nullopt);
        QVERIFY(!rest.stopped);
        QCOMPARE(rest.steps, std::int64_t{6});
        QCOMPARE(rest.stepLosses.size(), std::size_t{6});
        for (std::size_t i = 0; i < 6; ++i)
            QVERIFY2(std::abs(rest.stepLosses[i] - straight.stepLosses[i]) <= 1e-6 * std::abs(straight.stepLosses[i]),
                     qPrintable(QString("step %1: %2 vs %3").arg(i + 1).arg(rest.stepLosses[i]).arg(straight.stepLosses[i])));
        // A resume with other options is refused, naming the field.
        o.batch = 2;
        QVERIFY(test::errorOf([&] { lm::trainBlock(f.windows, f.model, f.model, o, out, std::nullopt); }).find("'batch'") !=
                std::string::npos);
    }

    void badInputIsAOneLineError()
    {
        const auto& f = fixture();
        auto oneLine = [](const std::string& m) { return !m.empty() && m.find('\n') == std::string::npos; };
        usecases::BlockTrainingRequest r;
        r.model = f.model;
        r.data = f.data;
        r.train = f.options(lm::BlockRecipe::Distill, 1);
        r.out = f.root / "bad";
        // A model directory without weights.
        const fs::path noWeights = f.root / "no-weights";
        fs::create_directories(noWeights);
        fs::copy_file(f.model / "config.json", noWeights / "config.json");
        fs::copy_file(f.model / "tokenizer.json", noWeights / "tokenizer.json");
        auto bad = r;
        bad.model = noWeights;
        std::string m = test::errorOf([&] { usecases::runBlockTraining(bad); });
        QVERIFY2(oneLine(m) && m.find("no-weights") != std::string::npos, m.c_str());
        // Data without text.
        bad = r;
        bad.data.data = f.root / "empty.jsonl";
        std::ofstream(bad.data.data) << "{\"text\": \"\"}\n{\"text\": \"  \\n \"}\n";
        m = test::errorOf([&] { usecases::runBlockTraining(bad); });
        QVERIFY2(oneLine(m) && m.find("empty.jsonl") != std::string::npos, m.c_str());
        // A budget of 0.
        bad = r;
        bad.train.timeBudgetS = 0.0;
        m = test::errorOf([&] { usecases::runBlockTraining(bad); });
        QVERIFY2(oneLine(m) && m.find("budget") != std::string::npos, m.c_str());
        // A segmenter that yields one block per window.
        bad = r;
        bad.data.segmentOptions.granularity = segment::Granularity::exactBlocks(1);
        m = test::errorOf([&] { usecases::runBlockTraining(bad); });
        QVERIFY2(oneLine(m) && m.find("fewer than three blocks") != std::string::npos, m.c_str());
        QVERIFY(!fs::exists(r.out / "model.safetensors")); // nothing written
        // The CLI: the same as one line and exit code 2 for a usage error.
        const auto cli = test::runCliCaptured({"train-block", "--model", f.model.string(), "--data", f.corpus.string(), "--recipe",
                                               "distill", "--out", (f.root / "bad").string(), "--time-budget", "0"});
        QCOMPARE(cli.code, 2);
        QVERIFY2(cli.err.find("--time-budget") != std::string::npos, cli.err.c_str());
    }

    void trainAndEvaluateFromTheCli()
    {
        const auto& f = fixture();
        const fs::path out = f.root / "cli-distilled";
        const auto train = test::runCliCaptured({"train-block", "--model", f.model.string(), "--data", f.corpus.string(), "--segmenter",
                                                 "fixed", "--target-tokens", "16", "--window", "96", "--recipe", "distill", "--out",
                                                 out.string(), "--steps", "4", "--batch", "4", "--lr", "3e-3", "--warmup", "0",
                                                 "--log-every", "2", "--threads", "1", "--json"});
        QVERIFY2(train.code == 0, train.err.c_str());
        QVERIFY2(train.err.find("step 2/4") != std::string::npos && train.err.find("tokens/s") != std::string::npos &&
                     train.err.find("ETA") != std::string::npos,
                 train.err.c_str());
        const auto summary = nlohmann::json::parse(train.out);
        QCOMPARE(summary["steps"].get<int>(), 4);
        const fs::path db = f.root / "runs.db";
        const auto eval = test::runCliCaptured({"eval-block", "--model", out.string(), "--baseline", f.model.string(), "--data",
                                                f.corpus.string(), "--segmenter", "fixed", "--target-tokens", "16", "--window", "96",
                                                "--json", "--db", db.string()});
        QVERIFY2(eval.code == 0, eval.err.c_str());
        const auto j = nlohmann::json::parse(eval.out);
        QCOMPARE(j["models"].size(), std::size_t{2});
        const double baseKl = j["models"][0]["kl_full_block"].get<double>(), distilledKl = j["models"][1]["kl_full_block"].get<double>();
        QVERIFY(baseKl > 0);
        QVERIFY2(distilledKl < baseKl, qPrintable(QString("%1 vs %2").arg(distilledKl).arg(baseKl)));
        QVERIFY(j["models"][0]["full_perplexity"].get<double>() > 1);
        auto store = store::Store::open(db);
        const auto runs = store.listRuns();
        QCOMPARE(runs.size(), std::size_t{2});
        QCOMPARE(runs[0].attentionMode, std::string("block"));
        QVERIFY(runs[0].logitKl.has_value() && runs[0].top1Agreement.has_value());
    }
};

QTEST_GUILESS_MAIN(TestBlockDistill)
#include "test_block_distill.moc"
