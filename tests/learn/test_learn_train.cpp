// Training the learned segmenter (libtorch): it learns an obvious cue from a tiny synthetic
// dataset, and `blocklens-cli train-segmenter` writes a model the `learned` segmenter loads.
#include "cli/cli.hpp"
#include "support/cli_capture.hpp"
#include "learn/examples.hpp"
#include "learn/learned_scorer.hpp"
#include "learn/trainer.hpp"
#include "segment/evaluation.hpp"
#include "store/store.hpp"
#include "support/temp_files.hpp"
#include "synthetic.hpp"
#include "usecases/segmenters.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <algorithm>

#include <nlohmann/json.hpp>

#include <sstream>

using namespace blocklens;
using namespace blocklens::learn;

namespace {

using Result = blocklens::test::CliResult;
const auto run = &blocklens::test::runCliCaptured;

TrainingSet syntheticSet(std::uint32_t firstSeed, int documents)
{
    TrainingSet ts;
    for (int i = 0; i < documents; ++i)
        ts.append(documentExamples(test::syntheticDocument(firstSeed + static_cast<std::uint32_t>(i)), 2));
    return ts;
}

// Oracle-count Pk of a segmenter on fresh synthetic documents.
double heldOutPk(const segment::Segmenter& seg)
{
    Dataset ds;
    for (std::uint32_t s = 500; s < 506; ++s)
        ds.documents.push_back(test::syntheticDocument(s, 7));
    return segment::evaluate(ds, seg, {}).groups.back().pk;
}

} // namespace

class TestLearnTrain : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void learnsAnObviousCue_data()
    {
        QTest::addColumn<int>("hidden");
        QTest::newRow("logistic regression") << 0;
        QTest::newRow("one hidden layer") << 8;
    }
    void learnsAnObviousCue()
    {
        QFETCH(int, hidden);
        const TrainingSet ts = syntheticSet(100, 12);
        QVERIFY(ts.positives > 0 && ts.positives < ts.rows());
        TrainOptions o;
        o.hidden = static_cast<std::size_t>(hidden);
        o.epochs = 15;
        o.batch = 64;
        TrainStats stats;
        const BoundaryModel m = trainModel(ts, o, &stats);
        QCOMPARE(stats.rows, ts.rows());
        // A legacy feature (kept only so old models load) is never trained on; its replacements are.
        QVERIFY(std::find(m.features.begin(), m.features.end(), "doc_code_share") == m.features.end());
        QVERIFY(std::find(m.features.begin(), m.features.end(), "doc_fence_share") != m.features.end());
        QVERIFY2(stats.finalLoss < 0.5, qPrintable(QString::number(stats.finalLoss))); // well below chance (0.69)
        // Every boundary of a fresh document scores above every other candidate.
        const auto e = documentExamples(test::syntheticDocument(900, 6), 2);
        const auto s = m.scores(e.x);
        double minPositive = 1, maxNegative = 0;
        for (std::size_t i = 0; i < s.size(); ++i)
            (e.label[i] > 0.5f ? minPositive : maxNegative) =
                e.label[i] > 0.5f ? std::min(minPositive, s[i]) : std::max(maxNegative, s[i]);
        QVERIFY2(minPositive > maxNegative, qPrintable(QStringLiteral("%1 vs %2").arg(minPositive).arg(maxNegative)));
        QVERIFY(minPositive > 0.5); // the trained threshold separates them too
        QVERIFY(maxNegative < 0.5);
        QCOMPARE(heldOutPk(learnedSegmenter(std::make_shared<const BoundaryModel>(m))), 0.0);
        // Same seed, same model.
        const BoundaryModel again = trainModel(ts, o);
        QCOMPARE(again.toJson().dump(), m.toJson().dump());
    }

    void trainingRefusesEmptyInput()
    {
        QVERIFY_THROWS_EXCEPTION(Error, trainModel(TrainingSet{}, TrainOptions{}));
        TrainingSet noPositives = syntheticSet(1, 1);
        std::fill(noPositives.label.begin(), noPositives.label.end(), 0.0f);
        noPositives.positives = 0;
        QVERIFY_THROWS_EXCEPTION(Error, trainModel(noPositives, TrainOptions{}));
    }

    void cliTrainsAModelTheLearnedSegmenterLoads()
    {
        QTemporaryDir dir;
        const auto data = test::writeFile(dir, "synthetic.jsonl", test::syntheticDataset(200, 16));
        const std::string out = (std::filesystem::path(dir.path().toStdString()) / "model").string();
        const auto r = run({"train-segmenter", "--data", data.string(), "--out", out, "--split", "0.6", "--seed", "3",
                            "--epochs", "10", "--hidden", "4"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY2(r.out.find("held-out documents") != std::string::npos, r.out.c_str());
        QVERIFY(r.out.find("hybrid") != std::string::npos);
        const auto modelPath = std::filesystem::path(out) / "learned.json";
        QVERIFY(std::filesystem::exists(modelPath));
        QVERIFY(std::filesystem::exists(std::filesystem::path(out) / "report.json"));
        const BoundaryModel m = BoundaryModel::load(modelPath);
        QCOMPARE(m.training["documents"]["train"].get<std::size_t>() + m.training["documents"]["held_out"].get<std::size_t>(),
                 std::size_t(16));
        QCOMPARE(heldOutPk(learnedSegmenter(std::make_shared<const BoundaryModel>(m))), 0.0);

        // The built-in `learned` segmenter reads it through BLOCKLENS_LEARNED_MODEL (file or directory).
        qputenv(kModelEnvVar, QByteArray::fromStdString(out));
        const auto e = run({"eval", data.string(), "--segmenter", "learned", "--json"});
        qunsetenv(kModelEnvVar);
        QVERIFY2(e.code == 0, e.err.c_str());
        const auto j = nlohmann::json::parse(e.out);
        QCOMPARE(j["groups"].back()["pk"].get<double>(), 0.0);
        const auto& params = segment::findSegmenter("learned").spec().scorer->params();
        QVERIFY(!params.empty());
        QCOMPARE(params.front().second, modelPath.string());
    }

    void cliTrainsOnCorrectionsFromAWorkspace()
    {
        QTemporaryDir dir;
        const auto data = test::writeFile(dir, "synthetic.jsonl", test::syntheticDataset(300, 6));
        const auto db = std::filesystem::path(dir.path().toStdString()) / "ws.db";
        std::size_t corrected = 0;
        {
            auto st = store::Store::open(db);
            const auto imported = st.importDataset(loadDataset(data));
            // Correct one row (drop its last boundary) and review another.
            const auto seg = st.beginCorrection(imported.datasetId, 0, "tester");
            const auto b = st.boundaries(seg);
            st.applyAnnotationEdit(seg, store::AnnotationEdit::remove(b.back().offset), "tester");
            st.setReviewed(imported.datasetId, 1, true, "tester");
            corrected = 2;
        }
        const std::string out = (std::filesystem::path(dir.path().toStdString()) / "m").string();
        const auto r = run({"train-segmenter", "--db", db.string(), "--out", out, "--epochs", "5", "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        const auto j = nlohmann::json::parse(r.out);
        QCOMPARE(j["documents"]["from_db"].get<std::size_t>(), corrected);
        QCOMPARE(j["documents"]["train"].get<std::size_t>(), corrected);
        // With the dataset too: the corrected rows replace their originals and always train.
        const auto r2 = run({"train-segmenter", "--data", data.string(), "--db", db.string(), "--out", out,
                             "--epochs", "5", "--split", "0.5", "--json"});
        QVERIFY2(r2.code == 0, r2.err.c_str());
        const auto j2 = nlohmann::json::parse(r2.out);
        QCOMPARE(j2["documents"]["replaced_by_corrections"].get<std::size_t>(), corrected);
        QCOMPARE(j2["documents"]["train"].get<std::size_t>() + j2["documents"]["held_out"].get<std::size_t>(),
                 std::size_t(6));
    }

    void cliUsageErrors()
    {
        QCOMPARE(run({"train-segmenter", "--data", "x.jsonl"}).code, 2);               // no --out
        QCOMPARE(run({"train-segmenter", "--out", "/tmp/x"}).code, 2);                 // nothing to train on
        QCOMPARE(run({"train-segmenter", "--data", "x.jsonl", "--out", "/tmp/x", "--split", "0"}).code, 2);
        QTemporaryDir dir;
        const auto r = run({"train-segmenter", "--data", (std::filesystem::path(dir.path().toStdString()) / "missing.jsonl").string(),
                            "--out", (std::filesystem::path(dir.path().toStdString()) / "o").string()});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.find("missing.jsonl") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestLearnTrain)
#include "test_learn_train.moc"
