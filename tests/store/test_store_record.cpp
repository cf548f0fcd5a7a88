// blocklens-cli segment / eval with --db: what they record in the experiment store, run in-process.
#include "cli/cli.hpp"
#include "support/cli_capture.hpp"
#include "support/segment_dataset.hpp"
#include "store_test_util.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace blocklens;
using namespace blocklens::test;

namespace {

using Result = blocklens::test::CliResult;
const auto run = &blocklens::test::runCliCaptured;

const char* const kMarkdown = kGuideMarkdown;

// Three documents in two categories; the last (one line) is too short for a Pk window (Pk is null).
std::string dataset()
{
    nlohmann::json c{{"id", "doc-c"}, {"category", "book"}, {"variant", "plain"},
                     {"text", "A single line, shorter than any window."}, {"boundaries", nlohmann::json::array()}};
    return twoDocumentDataset() + c.dump() + "\n";
}

std::int64_t count(store::Store& st, const std::string& table)
{
    const auto t = st.select("SELECT count(*) FROM " + table);
    return std::get<std::int64_t>(t.rows.at(0).at(0));
}

std::optional<double> optionalNumber(const nlohmann::json& j)
{
    return j.is_null() ? std::nullopt : std::optional<double>(j.get<double>());
}

std::optional<double> optionalNumber(const store::Value& v)
{
    if (std::holds_alternative<std::monostate>(v))
        return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return static_cast<double>(*i);
    return std::get<double>(v);
}

void exec(const std::filesystem::path& db, const std::string& sql)
{
    sqlite3* h = nullptr;
    QCOMPARE(sqlite3_open(db.string().c_str(), &h), SQLITE_OK);
    char* message = nullptr;
    const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &message);
    const std::string text = message ? message : "";
    sqlite3_free(message);
    sqlite3_close(h);
    QVERIFY2(rc == SQLITE_OK, text.c_str());
}

} // namespace

class TestStoreRecord : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void helpSaysOnlyDbRecords()
    {
        for (const char* command : {"segment", "eval"}) {
            const auto r = run({command, "--help"});
            QCOMPARE(r.code, 0);
            QVERIFY2(contains(r.out, "--db PATH"), r.out.c_str());
            QVERIFY2(contains(r.out, "nothing is recorded without --db"), r.out.c_str());
        }
    }

    void segmentRecordsOneSegmentation()
    {
        QTemporaryDir dir;
        const auto file = writeFile(dir, "guide.md", kMarkdown);
        const auto db = tempPath(dir, "ws.db");
        const auto r = run({"segment", file.string(), "--blocks", "4", "--db", db.string(), "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY2(contains(r.err, "recorded segmentation") && contains(r.err, db.string()), r.err.c_str());
        const auto j = nlohmann::json::parse(r.out);
        const auto printed = j["boundaries"].get<std::vector<std::size_t>>();
        QCOMPARE(printed.size(), std::size_t(3));
        QCOMPARE(j["recorded"]["db"].get<std::string>(), db.string());

        auto st = store::Store::open(db, {store::OpenMode::ReadOnly});
        const auto docs = st.listDocuments();
        QCOMPARE(docs.size(), std::size_t(1));
        QCOMPARE(docs[0].length, std::string(kMarkdown).size());
        QCOMPARE(j["recorded"]["document_id"].get<store::Id>(), docs[0].id);
        const auto history = st.segmentationHistory(docs[0].id);
        QCOMPARE(history.size(), std::size_t(1));
        QCOMPARE(history[0].id, j["recorded"]["segmentation_id"].get<store::Id>());
        QCOMPARE(history[0].segmenter, std::string("hybrid"));
        QCOMPARE(history[0].segmenter, j["segmenter"].get<std::string>());
        QVERIFY(!history[0].author.empty());
        // The parameters are the provenance the JSON output printed.
        QCOMPARE(nlohmann::json::parse(history[0].params), j["parameters"]);
        std::vector<std::size_t> stored;
        for (const auto& b : st.boundaries(history[0].id)) {
            stored.push_back(b.offset);
            QCOMPARE(b.level, 1);
        }
        QCOMPARE(stored, printed);

        // Another run with another segmenter: a second version of the same document.
        const auto again = run({"segment", file.string(), "--segmenter", "fixed", "--blocks", "2", "--db", db.string()});
        QVERIFY2(again.code == 0, again.err.c_str());
        QVERIFY2(contains(again.out, "2 blocks"), again.out.c_str()); // the text output is unchanged
        auto st2 = store::Store::open(db, {store::OpenMode::ReadOnly});
        QCOMPARE(st2.listDocuments().size(), std::size_t(1));
        const auto history2 = st2.segmentationHistory(docs[0].id);
        QCOMPARE(history2.size(), std::size_t(2));
        QCOMPARE(history2[1].segmenter, std::string("fixed"));
        QCOMPARE(history2[1].boundaryCount, std::size_t(1));
    }

    void nothingRecordedWithoutDb()
    {
        QTemporaryDir dir;
        const auto file = writeFile(dir, "guide.md", kMarkdown);
        const auto data = writeFile(dir, "d.jsonl", dataset());
        const auto env = tempPath(dir, "env.db");
        qputenv("BLOCKLENS_DB", QByteArray::fromStdString(env.string()));
        const auto s = run({"segment", file.string()});
        const auto e = run({"eval", data.string(), "--segmenter", "hybrid"});
        qunsetenv("BLOCKLENS_DB");
        QVERIFY2(s.code == 0, s.err.c_str());
        QVERIFY2(e.code == 0, e.err.c_str());
        QVERIFY(!contains(s.err, "recorded"));
        QVERIFY(!contains(e.err, "recorded"));
        QVERIFY(!std::filesystem::exists(env));
    }

    void evalRecordsOneEvaluationPerDocument()
    {
        QTemporaryDir dir;
        const auto data = writeFile(dir, "d.jsonl", dataset());
        const auto db = tempPath(dir, "ws.db");
        const auto predictions = tempPath(dir, "pred.jsonl");
        const auto r = run({"eval", data.string(), "--segmenter", "hybrid", "--predictions", predictions.string(),
                            "--db", db.string(), "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY2(contains(r.err, "recorded 3 evaluations in " + db.string()), r.err.c_str());
        const auto j = nlohmann::json::parse(r.out);
        const auto& docs = j["documents"];
        QCOMPARE(docs.size(), std::size_t(3));
        const auto& recorded = j["recorded"];
        QCOMPARE(recorded["db"].get<std::string>(), db.string());
        QCOMPARE(recorded["evaluations"].get<int>(), 3);
        const auto evaluationIds = recorded["evaluation_ids"].get<std::vector<store::Id>>();
        const auto segmentationIds = recorded["segmentation_ids"].get<std::vector<store::Id>>();
        QCOMPARE(evaluationIds.size(), std::size_t(3));
        QCOMPARE(segmentationIds.size(), std::size_t(3));
        std::vector<std::vector<std::size_t>> predicted;
        {
            std::ifstream in(predictions);
            std::string line;
            while (std::getline(in, line))
                predicted.push_back(nlohmann::json::parse(line)["boundaries"].get<std::vector<std::size_t>>());
        }
        QCOMPARE(predicted.size(), std::size_t(3));

        auto st = store::Store::open(db);
        QCOMPARE(count(st, "documents"), std::int64_t(3));
        QCOMPARE(count(st, "evaluations"), std::int64_t(3));
        QCOMPARE(count(st, "segmentations"), std::int64_t(6)); // a reference and a prediction each
        bool sawNullPk = false;
        for (std::size_t i = 0; i < docs.size(); ++i) {
            const auto t = st.select("SELECT segmentation_id, reference_id, protocol, granularity, pk, windowdiff, "
                                     "precision, recall, f1, f1_tolerant, metrics FROM evaluations WHERE id = "
                                     + std::to_string(evaluationIds[i]));
            QCOMPARE(t.rows.size(), std::size_t(1));
            const auto& row = t.rows[0];
            QCOMPARE(std::get<std::int64_t>(row[0]), segmentationIds[i]);
            QCOMPARE(std::get<std::string>(row[2]), std::string("oracle-count"));
            QCOMPARE(std::get<std::int64_t>(row[3]), std::int64_t(2));
            // Pk and WindowDiff as the CLI printed them (null when the document has no window).
            const auto pk = optionalNumber(row[4]);
            QCOMPARE(pk.has_value(), !docs[i]["pk"].is_null());
            if (pk)
                QCOMPARE(*pk, docs[i]["pk"].get<double>());
            else
                sawNullPk = true;
            QCOMPARE(optionalNumber(row[5]).has_value(), !docs[i]["windowdiff"].is_null());
            QCOMPARE(*optionalNumber(row[8]), docs[i]["f1_t0"].get<double>());
            QCOMPARE(*optionalNumber(row[9]), docs[i]["f1_t1"].get<double>());
            QVERIFY(optionalNumber(row[6]).has_value() && optionalNumber(row[7]).has_value());
            const auto metrics = nlohmann::json::parse(std::get<std::string>(row[10]));
            QCOMPARE(metrics["k"], docs[i]["k"]);
            QCOMPARE(metrics["lines"], docs[i]["lines"]);

            // The hypothesis is the prediction, the reference the document's own boundaries.
            const auto hyp = st.segmentationInfo(segmentationIds[i]);
            QCOMPARE(hyp.segmenter, std::string("hybrid"));
            QVERIFY(!hyp.author.empty());
            QCOMPARE(nlohmann::json::parse(hyp.params)["protocol"].get<std::string>(), std::string("oracle-count"));
            std::vector<std::size_t> offsets;
            for (const auto& b : st.boundaries(hyp.id))
                offsets.push_back(b.offset);
            QCOMPARE(offsets, predicted[i]);
            const auto ref = st.segmentationInfo(std::get<std::int64_t>(row[1]));
            QCOMPARE(ref.segmenter, std::string("reference"));
            QCOMPARE(ref.documentId, hyp.documentId);
            QCOMPARE(st.documentInfo(hyp.documentId).externalId, docs[i]["id"].get<std::string>());
        }
        QVERIFY(sawNullPk); // doc-c: stored as NULL, left out of the mean like the CLI does

        // The mean per segmenter is the CLI's overall group (Pk: mean over documents with a window).
        const auto groups = st.aggregateMetrics(store::GroupBy::Segmenter);
        QCOMPARE(groups.size(), std::size_t(1));
        QCOMPARE(groups[0].segmenter, std::string("hybrid"));
        QCOMPARE(groups[0].evaluations, std::size_t(3));
        double sum = 0;
        int n = 0;
        for (const auto& d : docs)
            if (!d["pk"].is_null()) {
                sum += d["pk"].get<double>();
                ++n;
            }
        QVERIFY(n > 0);
        QVERIFY(groups[0].pk.has_value());
        QVERIFY2(std::abs(*groups[0].pk - sum / n) < 1e-12, std::to_string(*groups[0].pk).c_str());
        const auto& all = j["groups"].back();
        QCOMPARE(all["category"].get<std::string>(), std::string("all"));
        QVERIFY(std::abs(*groups[0].pk - all["pk"].get<double>()) < 1e-12);

        // A second run reuses the references: three more predictions and evaluations only.
        const auto again = run({"eval", data.string(), "--segmenter", "structural", "--db", db.string()});
        QVERIFY2(again.code == 0, again.err.c_str());
        auto st2 = store::Store::open(db, {store::OpenMode::ReadOnly});
        QCOMPARE(count(st2, "evaluations"), std::int64_t(6));
        QCOMPARE(count(st2, "segmentations"), std::int64_t(9));
        QCOMPARE(st2.aggregateMetrics(store::GroupBy::Segmenter).size(), std::size_t(2));
    }

    void textFileAsDbFailsAndStaysUnchanged_data()
    {
        QTest::addColumn<QString>("command");
        QTest::newRow("segment") << "segment";
        QTest::newRow("eval") << "eval";
    }
    void textFileAsDbFailsAndStaysUnchanged()
    {
        QFETCH(QString, command);
        QTemporaryDir dir;
        const auto file = writeFile(dir, "guide.md", kMarkdown);
        const auto data = writeFile(dir, "d.jsonl", dataset());
        const std::string text = "these are my notes, not a database\n";
        const auto db = writeFile(dir, "notes.db", text);
        const auto r = command == "segment"
            ? run({"segment", file.string(), "--db", db.string(), "--json"})
            : run({"eval", data.string(), "--segmenter", "hybrid", "--db", db.string(), "--json"});
        QCOMPARE(r.code, 1);
        QCOMPARE(lineCount(r.err), 1);
        QVERIFY2(contains(r.err, "notes.db"), r.err.c_str());
        QVERIFY2(r.out.empty(), r.out.c_str());
        QCOMPARE(readBytes(db), text);
        QVERIFY(!std::filesystem::exists(db.string() + "-wal"));
    }

    void failedWriteRecordsNothingOfTheDataset()
    {
        QTemporaryDir dir;
        const auto data = writeFile(dir, "d.jsonl", dataset());
        const auto db = tempPath(dir, "ws.db");
        const auto first = run({"eval", data.string(), "--segmenter", "hybrid", "--db", db.string()});
        QVERIFY2(first.code == 0, first.err.c_str());
        // The second evaluation of the next run fails in the middle of its batch.
        exec(db, "CREATE TRIGGER fail_evaluation BEFORE INSERT ON evaluations "
                 "WHEN (SELECT count(*) FROM evaluations) >= 4 BEGIN SELECT RAISE(ABORT, 'simulated failure'); END");
        const auto r = run({"eval", data.string(), "--segmenter", "paragraphs", "--db", db.string(), "--json"});
        QCOMPARE(r.code, 1);
        QCOMPARE(lineCount(r.err), 1);
        QVERIFY2(contains(r.err, "simulated failure"), r.err.c_str());
        QVERIFY2(r.out.empty(), r.out.c_str());
        auto st = store::Store::open(db, {store::OpenMode::ReadOnly});
        QCOMPARE(count(st, "evaluations"), std::int64_t(3));
        QCOMPARE(count(st, "segmentations"), std::int64_t(6));
        QVERIFY(st.check().ok);
    }
};

QTEST_GUILESS_MAIN(TestStoreRecord)
#include "test_store_record.moc"
