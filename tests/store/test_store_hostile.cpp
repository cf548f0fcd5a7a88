// The workspace and the store's CLI under hostile use (issue 16): a file size limit (SIGXFSZ),
// export targets that are devices, links, directories or FIFOs, out-of-range levels, a failing
// schema upgrade, a dropped table, a corrupt sqlite_master, a query that runs forever, numeric
// options past int64, and a workspace whose name is not UTF-8.
#include "cli/cli.hpp"
#include "store_test_util.hpp"
#include "support/cli_capture.hpp"
#include "raw_sql.hpp"

#include <QProcess>
#include <QtTest>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <csignal>
#include <fstream>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

using namespace blocklens;
using namespace blocklens::test;
using store::Store;
namespace fs = std::filesystem;

namespace {

int lineCount(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// The progress lines of a command's stderr (those that are not errors: no "error" in them).
std::string progressLinesOf(const std::string& err)
{
    std::string kept, line;
    for (const char ch : err) {
        line += ch;
        if (ch == '\n') {
            if (line.find("error") == std::string::npos)
                kept += line;
            line.clear();
        }
    }
    return kept;
}

// A workspace with the small dataset (closed, so one file).
fs::path makeWorkspace(const QTemporaryDir& dir, const std::string& name = "ws.db")
{
    const auto path = tempPath(dir, name);
    auto st = Store::open(path);
    (void)st.importDataset(smallDataset(dir));
    return path;
}

// A dataset of `records` distinct records of about 2 KB each.
fs::path bigDataset(const QTemporaryDir& dir, int records)
{
    std::string text;
    for (int i = 0; i < records; ++i) {
        std::string body;
        while (body.size() < 2000)
            body += "record " + std::to_string(i) + " line " + std::to_string(body.size()) + ". ";
        text += nlohmann::json{{"id", "r" + std::to_string(i)}, {"text", body}}.dump() + "\n";
    }
    return writeFile(dir, "big.jsonl", text);
}

// The real blocklens-cli, with the file size limit `fsizeLimit` (0: none) and SIGXFSZ at its
// default action (which kills), as a shell's `ulimit -f` leaves it.
ProcessResult runCliProcess(const QStringList& args, rlim_t fsizeLimit = 0)
{
    QProcess p;
    p.setChildProcessModifier([fsizeLimit] {
        std::signal(SIGXFSZ, SIG_DFL);
        if (fsizeLimit) {
            rlimit limit{fsizeLimit, fsizeLimit};
            setrlimit(RLIMIT_FSIZE, &limit);
        }
    });
    p.start(QString::fromUtf8(BLOCKLENS_CLI_PATH), args);
    ProcessResult r;
    if (!p.waitForStarted(10000) || !p.waitForFinished(120000)) {
        r.err = "blocklens-cli did not start or finish";
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.exitCode = p.exitCode();
    r.status = p.exitStatus();
    r.out = p.readAllStandardOutput().toStdString();
    r.err = p.readAllStandardError().toStdString();
    return r;
}

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

void verifySmallWorkspace(const fs::path& path)
{
    auto st = Store::open(path, {.mode = store::OpenMode::ReadOnly});
    QVERIFY(st.check(true).ok);
    QCOMPARE(st.listDatasets().size(), std::size_t(1));
    QCOMPARE(st.listDocuments().size(), std::size_t(4));
}

} // namespace

class TestStoreHostile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // ulimit -f: without SIGXFSZ ignored the CLI died with exit 153; now it reports the full
    // "disk" and rolls back, and the workspace keeps what it had.
    void fileSizeLimitGivesTheDiskFullErrorNotASignal()
    {
        QTemporaryDir dir;
        const auto ws = makeWorkspace(dir);
        const auto data = bigDataset(dir, 2000); // ~4 MB of text
        const auto r = runCliProcess({"import", q(data), "--db", q(ws)}, fs::file_size(ws) + 512 * 1024);
        QVERIFY2(r.status == QProcess::NormalExit, ("killed by a signal; stderr: " + r.err).c_str());
        QVERIFY2(r.exitCode == 1, (std::to_string(r.exitCode) + ": " + r.err).c_str());
        // One error line, last; on a busy machine the import may first print a progress line (it
        // does once the work has been quiet for 500 ms), which is not an error.
        QCOMPARE(lineCount(r.err) - lineCount(progressLinesOf(r.err)), 1);
        QVERIFY2(contains(r.err, "disk is full") && contains(r.err, "rolled back") && contains(r.err, ws.string()),
                 r.err.c_str());
        verifySmallWorkspace(ws);
        auto st = Store::open(ws, {.mode = store::OpenMode::ReadOnly});
        QVERIFY(!st.findDataset("big"));
    }

    // An export that hits the file size limit removes its partial file.
    void exportPastTheFileSizeLimitLeavesNothing()
    {
        QTemporaryDir dir;
        const auto ws = makeWorkspace(dir);
        const auto out = tempPath(dir, "numbers.csv");
        // About 6 MB of rows against a 1 MiB limit (room for the workspace's 32 KiB -shm file).
        const auto r = runCliProcess({"db", "export", "--db", q(ws), "--out", q(out), "--sql",
                                      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) "
                                      "SELECT x, printf('%050d', x) AS padded FROM c"},
                                     1 << 20);
        QVERIFY2(r.status == QProcess::NormalExit, ("killed by a signal; stderr: " + r.err).c_str());
        QCOMPARE(r.exitCode, 1);
        QCOMPARE(lineCount(r.err), 1);
        QVERIFY2(contains(r.err, "file size limit") && contains(r.err, out.string()), r.err.c_str());
        QVERIFY(!fs::exists(out));
        QVERIFY(!fs::exists(out.string() + ".part"));
    }

    // db export --out: a directory, a FIFO, a device, a symbolic link or an existing file is
    // refused (an existing file is replaced with --force), and no .part stays behind.
    void exportOutRefusesWhatItMustNotReplace()
    {
        QTemporaryDir dir;
        const auto ws = makeWorkspace(dir).string();
        auto exportTo = [&](const fs::path& out, bool force = false) {
            std::vector<std::string> args{"db", "export", "--db", ws, "--query", "documents", "--out", out.string()};
            if (force)
                args.push_back("--force");
            return runCliCaptured(args);
        };
        const fs::path root = dir.path().toStdString();
        fs::create_directory(root / "adir");
        auto r = exportTo(root / "adir");
        QCOMPARE(r.code, 1);
        QCOMPARE(lineCount(r.err), 1);
        QVERIFY2(contains(r.err, "not a regular file (a directory)"), r.err.c_str());
        QVERIFY(!fs::exists(root / "adir.part"));

        const auto victim = writeFile(dir, "victim.txt", "precious\n");
        fs::create_symlink(victim, root / "link.csv");
        for (bool force : {false, true}) {
            r = exportTo(root / "link.csv", force);
            QCOMPARE(r.code, 1);
            QVERIFY2(contains(r.err, "symbolic link"), r.err.c_str());
        }
        QVERIFY(fs::is_symlink(root / "link.csv"));
        QCOMPARE(readBytes(victim), std::string("precious\n"));

        if (::mkfifo((root / "pipe.csv").c_str(), 0600) == 0) {
            r = exportTo(root / "pipe.csv", true);
            QCOMPARE(r.code, 1);
            QVERIFY2(contains(r.err, "not a regular file (a FIFO)"), r.err.c_str());
            QVERIFY(fs::is_fifo(root / "pipe.csv"));
        }
        // A device node (as root, db export replaced /dev/full with a regular file). Made in the
        // temporary directory, so a failure here cannot damage the system's.
        if (::geteuid() == 0 && ::mknod((root / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
            r = exportTo(root / "null", true);
            QCOMPARE(r.code, 1);
            QVERIFY2(contains(r.err, "not a regular file (a character device)"), r.err.c_str());
            QVERIFY(fs::is_character_file(root / "null"));
            QVERIFY(!fs::exists(root / "null.part"));
        }

        const auto existing = writeFile(dir, "existing.csv", "keep\n");
        r = exportTo(existing);
        QCOMPARE(r.code, 1);
        QVERIFY2(contains(r.err, "already exists") && contains(r.err, "--force"), r.err.c_str());
        QCOMPARE(readBytes(existing), std::string("keep\n"));
        r = exportTo(existing, true);
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY(contains(readBytes(existing), "content_hash"));
        QVERIFY(!fs::exists(existing.string() + ".part"));
        // An error after the target was accepted (bad SQL) leaves nothing either.
        r = runCliCaptured({"db", "export", "--db", ws, "--sql", "SELECT nope FROM nowhere", "--out", (root / "new.csv").string()});
        QCOMPARE(r.code, 1);
        QVERIFY(!fs::exists(root / "new.csv"));
        QVERIFY(!fs::exists(root / "new.csv.part"));
    }

    void importRefusesAnOutOfRangeLevel()
    {
        QTemporaryDir dir;
        const auto ws = tempPath(dir, "ws.db");
        const auto data = writeFile(dir, "levels.jsonl",
                                    "{\"text\": \"one two three\", \"boundaries\": [{\"offset\": 4, \"level\": 4294967297}]}\n");
        const auto r = runCliCaptured({"import", data.string(), "--db", ws.string()});
        QCOMPARE(r.code, 1);
        QCOMPARE(lineCount(r.err), 1);
        QVERIFY2(contains(r.err, "levels.jsonl:1") && contains(r.err, "4294967297") && contains(r.err, "outside 1..9"),
                 r.err.c_str());
        QVERIFY(!fs::exists(ws));
    }

    // An upgrade that fails is rolled back; its backup copy must not pile up, one per attempt.
    void failedUpgradeLeavesNoBackupCopies()
    {
        QTemporaryDir dir;
        const auto db = tempPath(dir, "v1.db");
        fs::copy_file(storeFixturesDir() / "workspace-v1.db", db);
        fs::permissions(db, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
        // Migration 2 adds segmentations.reviewed_by: a column of that name makes it fail.
        rawSql(db, "ALTER TABLE segmentations ADD COLUMN reviewed_by TEXT");
        const auto before = readBytes(db);
        for (int attempt = 0; attempt < 3; ++attempt) {
            const auto e = errorOf([&] { (void)Store::open(db); });
            QVERIFY2(contains(e, "version 2") && contains(e, "reviewed_by"), e.c_str());
        }
        int copies = 0;
        for (const auto& entry : fs::directory_iterator(dir.path().toStdString()))
            copies += contains(entry.path().filename().string(), ".bak");
        QCOMPARE(copies, 0);
        auto st = Store::open(db, {.mode = store::OpenMode::ReadOnly, .allowOlderSchema = true});
        QCOMPARE(st.info().schemaVersion, 1);
    }

    // integrity_check does not notice a table dropped by hand; db check compares the schema.
    void checkFindsADroppedTableIndexOrColumn()
    {
        QTemporaryDir dir;
        const auto ws = makeWorkspace(dir);
        QCOMPARE(runCliCaptured({"db", "check", "--db", ws.string()}).code, 0);
        rawSql(ws, "DROP TABLE tags; DROP INDEX notes_by_target; ALTER TABLE inference_runs DROP COLUMN top1_agreement");
        auto r = runCliCaptured({"db", "check", "--db", ws.string()});
        QCOMPARE(r.code, 1);
        QVERIFY2(contains(r.out, "table tags is missing"), r.out.c_str());
        QVERIFY2(contains(r.out, "index notes_by_target is missing"), r.out.c_str());
        QVERIFY2(contains(r.out, "table inference_runs has no column top1_agreement"), r.out.c_str());
        r = runCliCaptured({"db", "check", "--db", ws.string(), "--json", "--quick"});
        QCOMPARE(r.code, 1);
        QCOMPARE(nlohmann::json::parse(r.out)["problems"].size(), std::size_t(3));
        // An older schema is checked against its own version.
        QTemporaryDir dir2;
        const auto v1 = tempPath(dir2, "v1.db");
        fs::copy_file(storeFixturesDir() / "workspace-v1.db", v1);
        QCOMPARE(runCliCaptured({"db", "check", "--db", v1.string()}).code, 0);
    }

    // A damaged sqlite_master: one line that says the file is damaged, nothing about
    // permissions or the write-ahead log.
    void corruptSchemaTableGivesOneTruthfulLine()
    {
        QTemporaryDir dir;
        const auto ws = makeWorkspace(dir);
        {
            std::fstream f(ws, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(100); // page 1 after the file header: the root page of sqlite_master
            const std::string junk(400, '\x5A');
            f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
        }
        const auto damaged = readBytes(ws);
        for (const auto& args : std::vector<std::vector<std::string>>{{"db", "info", "--db", ws.string()},
                                                                       {"db", "check", "--db", ws.string()},
                                                                       {"runs", "--db", ws.string()},
                                                                       {"import", "x.jsonl", "--db", ws.string()}}) {
            const auto r = runCliCaptured(args);
            QCOMPARE(r.code, 1);
            QCOMPARE(lineCount(r.err), 1);
            QVERIFY2(contains(r.err, "corrupt") || contains(r.err, "damaged") || contains(r.err, "malformed"), r.err.c_str());
            QVERIFY2(!contains(r.err, "write-ahead") && !contains(r.err, "permission") && !contains(r.err, "not writable"),
                     r.err.c_str());
        }
        QCOMPARE(readBytes(ws), damaged);
    }

    // A recursive CTE runs forever: a time limit stops it, with a message and exit 1.
    void endlessQueryStopsAtItsTimeLimit()
    {
        QTemporaryDir dir;
        const auto ws = makeWorkspace(dir).string();
        for (const char* sql : {"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
                                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"}) {
            const auto out = tempPath(dir, "endless.csv");
            const auto r = runCliCaptured({"db", "export", "--db", ws, "--sql", sql, "--timeout", "0.3", "--out", out.string()});
            QCOMPARE(r.code, 1);
            QVERIFY2(contains(r.err, "time limit of 0.3 s"), r.err.c_str());
            QVERIFY(!fs::exists(out));
            QVERIFY(!fs::exists(out.string() + ".part"));
        }
        // A query that ends is not affected, and the workspace still opens read-write afterwards.
        auto r = runCliCaptured({"db", "export", "--db", ws, "--sql",
                                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) SELECT sum(x) FROM c"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY(contains(r.out, "500500"));
        QCOMPARE(runCliCaptured({"db", "export", "--db", ws, "--sql", "SELECT 1", "--timeout", "-1"}).code, 2);
        (void)Store::open(ws).addTag(store::TargetKind::Dataset, 1, "still-writable");
    }

    // Ctrl+C stops a query with no time limit: one line, exit 1, the workspace untouched.
    void ctrlCInterruptsAQuery()
    {
        QTemporaryDir dir;
        const auto ws = makeWorkspace(dir);
        const auto before = readBytes(ws);
        QProcess p;
        p.start(QString::fromUtf8(BLOCKLENS_CLI_PATH),
                {"db", "export", "--db", q(ws), "--timeout", "0", "--sql",
                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"});
        QVERIFY(p.waitForStarted(10000));
        // Loading the binary (libtorch) can take seconds on a busy machine: send Ctrl+C once the
        // query runs, i.e. once the process catches SIGINT (SigCgt in /proc/PID/status).
        const auto pid = static_cast<pid_t>(p.processId());
        bool catching = false;
        for (int i = 0; i < 600 && !catching && p.state() == QProcess::Running; ++i) {
            std::ifstream status("/proc/" + std::to_string(pid) + "/status");
            for (std::string line; std::getline(status, line);)
                if (line.starts_with("SigCgt:"))
                    catching = (std::stoull(line.substr(7), nullptr, 16) >> (SIGINT - 1)) & 1;
            if (!catching)
                QTest::qWait(50);
        }
        QVERIFY2(catching, "blocklens-cli never started catching SIGINT");
        QVERIFY(!p.waitForFinished(500)); // still running: no time limit
        ::kill(pid, SIGINT);
        QVERIFY(p.waitForFinished(20000));
        const auto err = p.readAllStandardError().toStdString();
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(contains(err, "interrupted") && lineCount(err) == 1, err.c_str());
        QCOMPARE(readBytes(ws), before);
    }

    // "error: stoll" said nothing; numbers past int64 name the option and the range.
    void numbersPastInt64NameTheOption()
    {
        QTemporaryDir dir;
        const auto ws = makeWorkspace(dir).string();
        auto r = runCliCaptured({"runs", "--db", ws, "--document", "99999999999999999999"});
        QCOMPARE(r.code, 2);
        QVERIFY2(contains(r.err, "--document: 99999999999999999999 is out of range") && !contains(r.err, "stoll"),
                 r.err.c_str());
        r = runCliCaptured({"runs", "--db", ws, "--limit", "99999999999999999999"});
        QCOMPARE(r.code, 2);
        QVERIFY2(contains(r.err, "--limit: 99999999999999999999 is out of range"), r.err.c_str());
        // A document id that fits but does not exist is just not there.
        r = runCliCaptured({"runs", "--db", ws, "--document", "999999999"});
        QCOMPARE(r.code, 1);
        QVERIFY2(contains(r.err, "no document '999999999'"), r.err.c_str());
        auto st = Store::open(ws, {.mode = store::OpenMode::ReadOnly});
        QVERIFY(!st.findDocument("99999999999999999999"));
    }

    // A workspace whose file name is not UTF-8: --json output stays valid JSON.
    void nonUtf8WorkspaceNameInJson()
    {
        QTemporaryDir dir;
        const auto ws = makeWorkspace(dir, "ws-\xff.db").string();
        for (const auto& args : std::vector<std::vector<std::string>>{{"db", "info", "--db", ws, "--json"},
                                                                       {"db", "check", "--db", ws, "--json"}}) {
            const auto r = runCliCaptured(args);
            QVERIFY2(r.code == 0, r.err.c_str());
            QVERIFY2(contains(nlohmann::json::parse(r.out)["path"].get<std::string>(), "ws-\xEF\xBF\xBD.db"), r.out.c_str());
        }
        for (const auto& entry : fs::directory_iterator(dir.path().toStdString()))
            fs::remove(entry.path()); // QTemporaryDir cannot name a file that is not UTF-8
    }
};

QTEST_GUILESS_MAIN(TestStoreHostile)
#include "test_store_hostile.moc"
