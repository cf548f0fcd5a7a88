// The cut-marker segmenter trained here (issue 20, item 3): a few steps on a tiny model lower the
// loss, the checkpoint loads in `cut-markers` and scores what training computed, labels sit at the
// marker after each candidate, and bad input is refused with a message naming what is wrong.
#include "cli/cli.hpp"
#include "document/dataset.hpp"
#include "engine/cut_marker_scorer.hpp"
#include "engine/model.hpp"
#include "learn/cut_marker_builtin.hpp"
#include "learn/cut_marker_trainer.hpp"
#include "support/cli_capture.hpp"
#include "support/error_of.hpp"
#include "support/temp_files.hpp"
#include "synthetic.hpp"
#include "tokenizer/tokenizer.hpp"
#include "usecases/segmenters.hpp"
#include "util/error.hpp"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

using namespace blocklens;
using namespace blocklens::learn;
namespace fs = std::filesystem;

namespace {

fs::path fixtureTokenizer() { return test::fixturesDir() / "cut_markers" / "qwen3_cut_markers" / "tokenizer.json"; }

Dataset syntheticSet(int documents)
{
    Dataset ds;
    for (int i = 0; i < documents; ++i)
        ds.documents.push_back(test::syntheticDocument(static_cast<std::uint32_t>(11 + i), 4));
    return ds;
}

CutMarkerTrainOptions tinyOptions()
{
    CutMarkerTrainOptions o;
    o.tokenizer = fixtureTokenizer();
    engine::ModelConfig& c = o.config;
    c.arch = engine::Architecture::Llama;
    c.tieWordEmbeddings = true;
    c.numLayers = 1;
    c.hiddenSize = 32;
    c.numHeads = 2;
    c.numKvHeads = 1;
    c.headDim = 16;
    c.intermediateSize = 64;
    c.rmsNormEps = 1e-5;
    c.maxPositions = 4096;
    o.windowTokens = 128;
    o.steps = 40;
    o.batch = 2;
    o.warmup = 2;
    o.learningRate = 1e-2;
    o.logEvery = 10;
    o.threads = 1;
    return o;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

} // namespace

class TestCutMarkerTrain : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(tmp_.isValid());
        QVERIFY2(fs::exists(fixtureTokenizer()), "fixture tokenizer missing");
    }

    void fewStepsLowerTheLossAndTheCheckpointScoresAsTrained()
    {
        const fs::path dir = tmp_.path().toStdString() + "/tiny";
        const CutMarkerTrainResult r = trainCutMarkerModel(syntheticSet(3), tinyOptions(), dir);
        QCOMPARE(r.steps, std::int64_t{40});
        QVERIFY(r.positives > 0 && r.labelled > r.positives);
        QVERIFY2(r.finalLoss < 0.8 * r.firstLoss,
                 qPrintable(QStringLiteral("loss %1 -> %2").arg(r.firstLoss).arg(r.finalLoss)));

        // The engine loads it as the cut-marker segmenter, with the trained window, and gives the
        // probabilities the training code computes on the same marked text.
        engine::CutMarkerOptions co;
        co.windowTokens = 0;
        const auto scorer = engine::loadCutMarkerScorer(dir, {}, co);
        QCOMPARE(scorer->options().windowTokens, std::size_t{128});
        const Document doc = test::syntheticDocument(99, 4);
        std::vector<std::size_t> cuts;
        for (std::size_t s : doc.lineStarts())
            if (s > 0 && s < doc.length() && cuts.size() < 20)
                cuts.push_back(doc.byteOffset(s));
        const engine::CutMarkerPass pass = scorer->run(doc.text(), cuts);
        const std::vector<double> trained = trainerCutProbabilities(dir, doc.text(), cuts);
        QCOMPARE(trained.size(), pass.cutProbability.size());
        double spread = 0;
        for (std::size_t j = 0; j < trained.size(); ++j) {
            QVERIFY2(std::abs(trained[j] - pass.cutProbability[j]) < 1e-4,
                     qPrintable(QStringLiteral("marker %1: trainer %2, engine %3").arg(j).arg(trained[j]).arg(pass.cutProbability[j])));
            spread = std::max(spread, std::abs(trained[j] - trained[0]));
        }
        QVERIFY(spread > 1e-3); // not a constant model

        // The whole segmenter runs on a document with it.
        const auto seg = engine::cutMarkerSegmenter(scorer);
        const auto scored = seg.score(doc, segment::TokenGrid::approximate(doc));
        QVERIFY(!scored.candidates.empty());
    }

    void builtinSegmenterLoadsItsCheckpointOnFirstUse()
    {
        // The built-in `cut-markers` (segmenters --json, eval --segmenter) finds its checkpoint like
        // `learned` finds learned.json; BLOCKLENS_CUT_MARKER_MODEL overrides the shipped one.
        const fs::path tiny = tmp_.path().toStdString() + "/tiny";
        QVERIFY2(fs::exists(tiny / "config.json"), "the first test's checkpoint is missing");
        const std::string data = tmp_.path().toStdString() + "/eval.jsonl";
        std::ofstream(data) << test::syntheticDataset(41, 2);

        // A name that is not a checkpoint: listing still works, using it is a clear error.
        const fs::path missing = tmp_.path().toStdString() + "/no-such-checkpoint";
        qputenv(kCutMarkerModelEnvVar, QByteArray::fromStdString(missing.string()));
        const auto listed = test::runCliCaptured({"segmenters", "--json"});
        QCOMPARE(listed.code, 0);
        const auto failed = test::runCliCaptured({"eval", data, "--segmenter", "cut-markers"});
        QVERIFY(failed.code != 0);
        QVERIFY2(contains(failed.err, kCutMarkerModelEnvVar) && contains(failed.err, "does not exist")
                     && contains(failed.err, missing.string()), failed.err.c_str());

        qputenv(kCutMarkerModelEnvVar, QByteArray::fromStdString(tiny.string()));
        const auto j = nlohmann::json::parse(test::runCliCaptured({"segmenters", "--json"}).out);
        bool seen = false;
        for (const auto& s : j)
            if (s["name"] == "cut-markers") {
                seen = true;
                QCOMPARE(s["parameters"]["scorer.model"].get<std::string>(), tiny.string());
            }
        QVERIFY(seen);
        const auto r = test::runCliCaptured({"eval", data, "--segmenter", "cut-markers", "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        const auto report = nlohmann::json::parse(r.out);
        QCOMPARE(report["segmenter"].get<std::string>(), std::string("cut-markers"));
        QCOMPARE(report["documents"].size(), std::size_t{2});
        // Loaded now: it reports the checkpoint's window (cut_markers.json), not the default 8192.
        const auto& seg = segment::findSegmenter("cut-markers");
        bool window = false;
        for (const auto& p : seg.parameters())
            window = window || (p.name == "scorer.window_tokens" && p.value == "128");
        QVERIFY(window);
        qunsetenv(kCutMarkerModelEnvVar);
    }

    void shippedCheckpointIsFoundAndSmall()
    {
        // resources/segmenters/cut-markers/: under 30 MB, a 2-way classifier that segments.
        qunsetenv(kCutMarkerModelEnvVar);
        const auto found = findDefaultCutMarkerModel();
        QVERIFY2(found.has_value(), "resources/segmenters/cut-markers/ not found");
        std::uintmax_t bytes = 0;
        for (const auto& e : fs::recursive_directory_iterator(*found))
            if (e.is_regular_file())
                bytes += e.file_size();
        QVERIFY2(bytes < 30u * 1024 * 1024, qPrintable(QString::number(bytes)));
        engine::CutMarkerOptions co;
        co.windowTokens = 0;
        const auto scorer = engine::loadCutMarkerScorer(*found, {}, co);
        const Document doc = test::syntheticDocument(23, 5);
        const auto grid = segment::TokenGrid::approximate(doc);
        segment::SegmentOptions o;
        o.granularity = segment::Granularity::exactBlocks(5);
        QCOMPARE(engine::cutMarkerSegmenter(scorer).segment(doc, grid, o).blocks.size(), std::size_t{5});
    }

    void windowsDecideEveryCandidateOnceWithTheLabelAtTheNextMarker()
    {
        // What the trainer labels is what the scorer reads: each candidate is decided by one window,
        // and marker j's decision is read at marker j + 1.
        const Document doc = test::syntheticDocument(5, 6);
        const auto grid = segment::TokenGrid::approximate(doc);
        std::vector<std::size_t> offsets;
        for (std::size_t s : doc.lineStarts())
            if (s > 0 && s < doc.length())
                offsets.push_back(s);
        const auto windows = engine::cutMarkerWindows(doc, grid, offsets, 8, 64);
        QVERIFY(windows.size() > 2);
        std::vector<std::size_t> decided;
        for (const auto& w : windows) {
            QVERIFY(w.cutBytes.size() + 2 <= 8);
            for (std::size_t o : w.decided)
                if (o != engine::kNoCandidate)
                    decided.push_back(o);
        }
        QVERIFY(decided == offsets);
        QCOMPARE(windows.front().decided.front(), engine::kNoCandidate); // the text start is no candidate
        QCOMPARE(windows[1].decided.front(), windows[1].begin);          // later windows start at their marker 0
    }

    void startsFromACausalLmCheckpointThroughTheCli()
    {
        const std::string base = tmp_.path().toStdString() + "/lm";
        std::ostringstream out, err;
        QVERIFY2(cli::runCli({"make-model", "--arch", "llama", "--layers", "2", "--hidden", "32", "--heads", "2", "--tie",
                              "--tokenizer", fixtureTokenizer().string(), "--out", base}, out, err) == 0,
                 err.str().c_str());
        const std::string data = tmp_.path().toStdString() + "/data.jsonl";
        {
            std::ofstream f(data);
            f << test::syntheticDataset(31, 4);
        }
        const std::string ck = tmp_.path().toStdString() + "/from-lm";
        std::ostringstream out2, err2;
        const int code = cli::runCli({"train-segmenter", "--form", "cut-markers", "--data", data, "--split", "0.6",
                                      "--init", base, "--init-layers", "1", "--window-tokens", "128", "--steps", "3",
                                      "--batch", "1", "--threads", "1", "--out", ck, "--json"}, out2, err2);
        QVERIFY2(code == 0, err2.str().c_str());
        QVERIFY(contains(out2.str(), "\"held_out_groups\""));
        const auto c = engine::ModelConfig::fromFile(fs::path(ck) / "config.json");
        QCOMPARE(c.numLayers, std::int64_t{1});
        QCOMPARE(c.numLabels, std::int64_t{2});
    }

    // --device reaches the trainer (it was once accepted and ignored): the CPU gives the same
    // checkpoint as the default, a device libtorch cannot use is refused before training with an
    // error that names the option, and options that do not apply are refused, not ignored.
    void theDeviceOptionIsHonouredOrRefused()
    {
        const std::string data = tmp_.path().toStdString() + "/device-data.jsonl";
        {
            std::ofstream f(data);
            f << test::syntheticDataset(41, 3);
        }
        const auto train = [&](const std::string& out, std::vector<std::string> extra) {
            std::vector<std::string> argv{"train-segmenter", "--form", "cut-markers", "--data", data, "--split", "0.6",
                                          "--tokenizer", fixtureTokenizer().string(), "--layers", "1", "--hidden-size", "32",
                                          "--heads", "2", "--kv-heads", "1", "--intermediate", "64", "--window-tokens", "128",
                                          "--steps", "3", "--batch", "2", "--threads", "1", "--no-eval", "--out", out};
            argv.insert(argv.end(), extra.begin(), extra.end());
            std::ostringstream o, e;
            const int code = cli::runCli(argv, o, e);
            return std::make_pair(code, e.str());
        };
        const std::string byDefault = tmp_.path().toStdString() + "/device-default", onCpu = tmp_.path().toStdString() + "/device-cpu";
        QVERIFY(train(byDefault, {}).first == 0);
        const auto cpu = train(onCpu, {"--device", "cpu"});
        QVERIFY2(cpu.first == 0, cpu.second.c_str());
        const auto bytes = [](const fs::path& f) {
            std::ifstream in(f, std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(in), {});
        };
        QVERIFY(!bytes(fs::path(byDefault) / "model.safetensors").empty());
        QVERIFY(bytes(fs::path(byDefault) / "model.safetensors") == bytes(fs::path(onCpu) / "model.safetensors"));

        const auto bogus = train(tmp_.path().toStdString() + "/device-bogus", {"--device", "bogus"});
        QVERIFY2(bogus.first != 0 && contains(bogus.second, "device") && contains(bogus.second, "'bogus'"), bogus.second.c_str());
        QVERIFY(!fs::exists(tmp_.path().toStdString() + "/device-bogus/model.safetensors"));
        if (!engine::cudaAvailable()) {
            const auto cuda = train(tmp_.path().toStdString() + "/device-cuda", {"--device", "cuda"});
            QVERIFY2(cuda.first != 0 && contains(cuda.second, "device") && contains(cuda.second, "CUDA"), cuda.second.c_str());
        }
        const auto dtype = train(tmp_.path().toStdString() + "/device-dtype", {"--dtype", "bf16"});
        QVERIFY2(dtype.first != 0 && contains(dtype.second, "--dtype"), dtype.second.c_str());
        // The learned form trains its small network on the CPU; --device places an --lm model only.
        std::ostringstream o, e;
        QVERIFY(cli::runCli({"train-segmenter", "--data", data, "--device", "cuda", "--out", tmp_.path().toStdString() + "/x"}, o, e) != 0);
        QVERIFY2(contains(e.str(), "--device"), e.str().c_str());
    }

    void badInputIsRefused()
    {
        const fs::path dir = tmp_.path().toStdString() + "/bad";
        // No boundary to learn from.
        Dataset none;
        none.documents.push_back(Document("a line\nanother line\nand more\n"));
        QVERIFY(contains(test::errorOf([&] { trainCutMarkerModel(none, tinyOptions(), dir); }), "nothing to learn"));
        // A start checkpoint that is not there.
        CutMarkerTrainOptions o = tinyOptions();
        o.init = tmp_.path().toStdString() + "/missing";
        QVERIFY(contains(test::errorOf([&] { trainCutMarkerModel(syntheticSet(1), o, dir); }), "config.json"));
        // A text that holds a marker itself cannot be marked.
        Dataset marked;
        marked.documents.push_back(test::syntheticDocument(3, 3));
        Document withMarker(marked.documents[0].text() + "\nsee <cut 2> here\n", marked.documents[0].meta(),
                            marked.documents[0].reference());
        Dataset m2;
        m2.documents.push_back(withMarker);
        QVERIFY(contains(test::errorOf([&] { trainCutMarkerModel(m2, tinyOptions(), dir); }), "<cut 2>"));
        // A checkpoint whose cut_markers.json has no usable window.
        const fs::path good = tmp_.path().toStdString() + "/tiny";
        if (fs::exists(good / "config.json")) {
            const fs::path broken = tmp_.path().toStdString() + "/broken";
            fs::create_directories(broken);
            for (const char* f : {"config.json", "model.safetensors", "tokenizer.json"})
                fs::copy_file(good / f, broken / f, fs::copy_options::overwrite_existing);
            std::ofstream(broken / "cut_markers.json") << "{\"window_tokens\": \"wide\"}";
            engine::CutMarkerOptions co;
            co.windowTokens = 0;
            const std::string e = test::errorOf([&] { engine::loadCutMarkerScorer(broken, {}, co); });
            QVERIFY2(contains(e, "cut_markers.json") && contains(e, "window_tokens"), e.c_str());
        }
        // The CLI: an unknown form, and a cut-marker run without a model to start from.
        std::ostringstream out, err;
        QVERIFY(cli::runCli({"train-segmenter", "--form", "bogus", "--data", "x.jsonl", "--out", "y"}, out, err) != 0);
        QVERIFY(contains(err.str(), "--form"));
        std::ostringstream out2, err2;
        QVERIFY(cli::runCli({"train-segmenter", "--form", "cut-markers", "--data", "x.jsonl", "--out", "y"}, out2, err2) != 0);
        QVERIFY(contains(err2.str(), "--init"));
    }

private:
    QTemporaryDir tmp_;
};

QTEST_MAIN(TestCutMarkerTrain)
#include "test_cut_marker_train.moc"
