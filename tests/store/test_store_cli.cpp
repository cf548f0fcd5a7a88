// blocklens-cli db / import / runs, in-process through runCli and once as the real binary.
#include "cli/cli.hpp"
#include "support/cli_capture.hpp"
#include "store_test_util.hpp"

#include <QProcess>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cstdlib>

using namespace blocklens;
using namespace blocklens::test;
namespace fs = std::filesystem;

namespace {

using Result = blocklens::test::CliResult;
const auto runCliCapture = &blocklens::test::runCliCaptured;

int lineCount(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

} // namespace

class TestStoreCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void helpForEveryStoreCommand()
    {
        for (const char* name : {"db", "import", "runs"}) {
            const auto r = runCliCapture({name, "--help"});
            QCOMPARE(r.code, 0);
            QVERIFY2(contains(r.out, std::string("usage: blocklens-cli ") + name), r.out.c_str());
            QVERIFY2(contains(r.out, "--db PATH"), r.out.c_str());
            QVERIFY2(contains(r.out, "--json"), r.out.c_str());
        }
        QVERIFY(contains(runCliCapture({"--help"}).out, "import"));
    }

    void initInfoCheck()
    {
        QTemporaryDir dir;
        const auto db = tempPath(dir, "sub/dir/ws.db").string();
        auto r = runCliCapture({"db", "init", "--db", db});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY(contains(r.out, "created workspace"));
        r = runCliCapture({"db", "init", "--db", db});
        QCOMPARE(r.code, 0);
        QVERIFY(contains(r.out, "already exists"));
        r = runCliCapture({"db", "info", "--db", db, "--json"});
        QCOMPARE(r.code, 0);
        const auto j = nlohmann::json::parse(r.out);
        QCOMPARE(j["schema_version"].get<int>(), store::kSchemaVersion);
        QCOMPARE(j["journal_mode"].get<std::string>(), std::string("wal"));
        QCOMPARE(j["documents"].get<int>(), 0);
        r = runCliCapture({"db", "info", "--db", db});
        QVERIFY(contains(r.out, "schema version"));
        r = runCliCapture({"db", "check", "--db", db});
        QCOMPARE(r.code, 0);
        QVERIFY(contains(r.out, ": ok"));
        r = runCliCapture({"db", "check", "--db", db, "--json", "--quick"});
        QCOMPARE(r.code, 0);
        QVERIFY(nlohmann::json::parse(r.out)["ok"].get<bool>());
    }

    void importExportRoundTrip()
    {
        QTemporaryDir dir;
        const auto db = tempPath(dir, "ws.db").string();
        const auto data = writeFile(dir, "small.jsonl", smallDatasetJsonl()).string();
        auto r = runCliCapture({"import", data, "--db", db, "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        const auto j = nlohmann::json::parse(r.out);
        QCOMPARE(j["rows"].get<int>(), 4);
        QCOMPARE(j["dataset"].get<std::string>(), std::string("small"));
        // Importing the same name again fails with one line and changes nothing.
        r = runCliCapture({"import", data, "--db", db});
        QCOMPARE(r.code, 1);
        QCOMPARE(lineCount(r.err), 1);
        QVERIFY(contains(r.err, "already exists"));
        r = runCliCapture({"import", data, "--db", db, "--name", "copy"});
        QCOMPARE(r.code, 0);
        QVERIFY(contains(r.out, "0 new documents"));

        const auto out = tempPath(dir, "out.jsonl").string();
        r = runCliCapture({"db", "export", "--db", db, "--dataset", "small", "--out", out});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY(contains(r.out, "wrote 4 rows"));
        const Dataset original = loadDataset(data);
        const Dataset exported = loadDataset(out);
        QCOMPARE(exported.documents.size(), original.documents.size());
        for (std::size_t i = 0; i < original.documents.size(); ++i) {
            QVERIFY(exported.documents[i].text() == original.documents[i].text());
            QVERIFY(exported.documents[i].reference() == original.documents[i].reference());
        }
        QVERIFY(!fs::exists(out + ".part"));
        // The chunks form, by id, to standard output.
        r = runCliCapture({"db", "export", "--db", db, "--dataset", "1", "--form", "chunks"});
        QCOMPARE(r.code, 0);
        QCOMPARE(lineCount(r.out), 4);
        QVERIFY(contains(r.out, "\"chunks\":[\"# One\\nAlpha beta.\\n\\n\","));
        r = runCliCapture({"db", "export", "--db", db, "--dataset", "nope"});
        QCOMPARE(r.code, 1);
        QVERIFY(contains(r.err, "no dataset named 'nope'"));
        r = runCliCapture({"db", "export", "--db", db, "--dataset", "small", "--form", "xml"});
        QCOMPARE(r.code, 2);
        r = runCliCapture({"db", "export", "--db", db});
        QCOMPARE(r.code, 2);
        QVERIFY(contains(r.err, "exactly one of"));
    }

    void queriesAndRuns()
    {
        QTemporaryDir dir;
        const auto db = tempPath(dir, "ws.db").string();
        {
            auto st = store::Store::open(db);
            const auto imported = st.importDataset(smallDataset(dir));
            store::RunRecord run;
            run.documentId = st.datasetRows(imported.datasetId).at(0).documentId;
            run.modelName = "qwen3-0.6b";
            run.modelHash = "feedbeef00";
            run.attentionMode = "block";
            run.device = "cpu";
            run.dtype = "float32";
            run.ttftMs = 3.5;
            run.kvBytes = 1024;
            st.recordRun(run);
            run.modelName = "llama3";
            run.modelHash = "0011223344";
            run.attentionMode = "full";
            st.recordRun(run);
        }
        auto r = runCliCapture({"runs", "--db", db});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY(contains(r.out, "qwen3-0.6b") && contains(r.out, "llama3"));
        r = runCliCapture({"runs", "--db", db, "--json", "--model", "feedbeef"});
        QCOMPARE(r.code, 0);
        auto j = nlohmann::json::parse(r.out);
        QCOMPARE(j.size(), std::size_t(1));
        QCOMPARE(j[0]["attention_mode"].get<std::string>(), std::string("block"));
        QCOMPARE(j[0]["ttft_ms"].get<double>(), 3.5);
        r = runCliCapture({"runs", "--db", db, "--json", "--document", "a1", "--limit", "1"});
        QCOMPARE(r.code, 0);
        QCOMPARE(nlohmann::json::parse(r.out).size(), std::size_t(1));
        r = runCliCapture({"runs", "--db", db, "--document", "zzzz"});
        QCOMPARE(r.code, 1);

        r = runCliCapture({"db", "export", "--db", db, "--query", "runs", "--format", "csv"});
        QCOMPARE(r.code, 0);
        QCOMPARE(lineCount(r.out), 3); // header + 2 rows
        QVERIFY(r.out.starts_with("id,created_at,model_name"));
        r = runCliCapture({"db", "export", "--db", db, "--query", "documents", "--format", "jsonl"});
        QCOMPARE(r.code, 0);
        QCOMPARE(lineCount(r.out), 4);
        QVERIFY(nlohmann::json::parse(r.out.substr(0, r.out.find('\n'))).contains("content_hash"));
        const auto csvOut = tempPath(dir, "segs.csv").string();
        r = runCliCapture({"db", "export", "--db", db, "--query", "segmentations", "--out", csvOut, "--json"});
        QCOMPARE(r.code, 0);
        QCOMPARE(nlohmann::json::parse(r.out)["rows"].get<int>(), 4);
        r = runCliCapture({"db", "export", "--db", db, "--sql", "SELECT count(*) AS n FROM boundaries", "--format", "jsonl"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, std::string("{\"n\":6}\n"));
        r = runCliCapture({"db", "export", "--db", db, "--sql", "DROP TABLE notes"});
        QCOMPARE(r.code, 1);
        QVERIFY(contains(r.err, "read-only"));
        r = runCliCapture({"db", "export", "--db", db, "--query", "bogus"});
        QCOMPARE(r.code, 1);
        QVERIFY(contains(r.err, "unknown query"));
    }

    void badWorkspaceGivesOneLineError()
    {
        QTemporaryDir dir;
        const auto db = writeFile(dir, "notes.db", "just some text\n").string();
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"db", "info", "--db", db}, {"db", "check", "--db", db}, {"runs", "--db", db}, {"db", "init", "--db", db}}) {
            const auto r = runCliCapture(args);
            QCOMPARE(r.code, 1);
            QCOMPARE(lineCount(r.err), 1);
            QVERIFY2(contains(r.err, "not a SQLite database") && contains(r.err, db), r.err.c_str());
        }
        QCOMPARE(readBytes(db), std::string("just some text\n"));
        const auto missing = tempPath(dir, "missing.db").string();
        const auto r = runCliCapture({"db", "info", "--db", missing});
        QCOMPARE(r.code, 1);
        QVERIFY(contains(r.err, "does not exist"));
        QVERIFY(!fs::exists(missing));
        QCOMPARE(runCliCapture({"db", "frobnicate", "--db", missing}).code, 2);
    }

    void olderWorkspaceIsReadAndUpgradedByTheCli()
    {
        QTemporaryDir dir;
        const auto db = tempPath(dir, "v1.db").string();
        fs::copy_file(storeFixturesDir() / "workspace-v1.db", db);
        // info and check read the old file as it is.
        auto r = runCliCapture({"db", "info", "--db", db, "--json"});
        QCOMPARE(r.code, 0);
        QCOMPARE(nlohmann::json::parse(r.out)["schema_version"].get<int>(), 1);
        QCOMPARE(runCliCapture({"db", "check", "--db", db}).code, 0);
        QVERIFY(!fs::exists(db + ".v1.bak"));
        // A command that needs the current schema upgrades the (writable) file, with a backup.
        r = runCliCapture({"runs", "--db", db, "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QCOMPARE(nlohmann::json::parse(r.out).size(), std::size_t(1));
        QVERIFY(fs::exists(db + ".v1.bak"));
        r = runCliCapture({"db", "info", "--db", db, "--json"});
        QCOMPARE(nlohmann::json::parse(r.out)["schema_version"].get<int>(), store::kSchemaVersion);
    }

    void badDatasetCreatesNoWorkspace()
    {
        QTemporaryDir dir;
        const auto db = tempPath(dir, "new.db").string();
        const auto data = writeFile(dir, "bad.jsonl", "{\"text\": \"ok\"}\n{broken\n").string();
        const auto r = runCliCapture({"import", data, "--db", db});
        QCOMPARE(r.code, 1);
        QVERIFY2(contains(r.err, "bad.jsonl:2"), r.err.c_str());
        QVERIFY(!fs::exists(db));
    }

    void environmentVariableChoosesTheWorkspace()
    {
        QTemporaryDir dir;
        const auto db = tempPath(dir, "env.db").string();
        setenv("BLOCKLENS_DB", db.c_str(), 1);
        const auto r = runCliCapture({"db", "init"});
        unsetenv("BLOCKLENS_DB");
        QCOMPARE(r.code, 0);
        QVERIFY(fs::exists(db));
    }

    // The real binary, as the app's users run it.
    void realBinary()
    {
        QTemporaryDir dir;
        const auto db = tempPath(dir, "ws.db").string();
        const auto data = writeFile(dir, "small.jsonl", smallDatasetJsonl()).string();
        QProcess p;
        p.start(QString::fromUtf8(BLOCKLENS_CLI_PATH),
                {"import", QString::fromStdString(data), "--db", QString::fromStdString(db), "--json"});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        const auto j = nlohmann::json::parse(p.readAllStandardOutput().toStdString());
        QCOMPARE(j["rows"].get<int>(), 4);
        p.start(QString::fromUtf8(BLOCKLENS_CLI_PATH), {"db", "check", "--db", QString::fromStdString(db)});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestStoreCli)
#include "test_store_cli.moc"
