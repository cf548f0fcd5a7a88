// Write safety of the experiment store: bad files, read-only files, a full disk, a concurrent
// writer process, and a writer killed with SIGKILL in the middle of a batch of edits.
#include "edit_script.hpp"
#include "store_test_util.hpp"
#include "raw_sql.hpp"

#include <QElapsedTimer>
#include <QtTest>

#include <sqlite3.h>

#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

using namespace blocklens;
using namespace blocklens::test;
using store::Store;
namespace fs = std::filesystem;

namespace {

// A workspace with the small dataset and a note, closed (checkpointed: one file).
fs::path makeWorkspace(const QTemporaryDir& dir, const std::string& name = "ws.db")
{
    const auto path = tempPath(dir, name);
    auto st = Store::open(path);
    const auto r = st.importDataset(smallDataset(dir));
    st.addNote(store::TargetKind::Dataset, r.datasetId, "keep me", "test");
    return path;
}

// Checks that a workspace still holds what makeWorkspace stored and is intact.
void verifyIntact(const fs::path& path, std::size_t extraNotes = 0)
{
    auto st = Store::open(path, {.mode = store::OpenMode::ReadOnly});
    QVERIFY(st.check(true).ok);
    QCOMPARE(st.listDatasets().size(), std::size_t(1));
    QCOMPARE(st.listDocuments().size(), std::size_t(4));
    const auto id = st.listDatasets().front().id;
    QCOMPARE(st.notes(store::TargetKind::Dataset, id).size(), std::size_t(1));
    QCOMPARE(st.info().notes, std::int64_t(1 + extraNotes));
}

struct Snapshot {
    std::string main, wal;
};
Snapshot snapshot(const fs::path& p)
{
    fs::path wal = p;
    wal += "-wal";
    return {readBytes(p), fs::exists(wal) ? readBytes(wal) : std::string()};
}

} // namespace

class TestStoreSafety : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Each bad file gives a clear error naming the file and is left byte for byte as it was.
    void badFilesAreRefusedAndLeftUnchanged_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("mode");
        QTest::addColumn<QString>("needle");
        const int openOrCreate = int(store::OpenMode::OpenOrCreate), existing = int(store::OpenMode::Existing);
        QTest::newRow("text file renamed .db") << "text" << openOrCreate << "not a SQLite database";
        QTest::newRow("short binary file") << "short" << openOrCreate << "not a SQLite database";
        QTest::newRow("truncated to half") << "truncated" << openOrCreate << "truncated";
        QTest::newRow("truncated header") << "header-only" << openOrCreate << "truncated";
        QTest::newRow("damaged pages") << "damaged" << openOrCreate << "corrupt";
        QTest::newRow("newer schema version") << "newer" << openOrCreate << "newer BlockLens";
        QTest::newRow("another program's database") << "foreign" << openOrCreate << "not a BlockLens workspace";
        QTest::newRow("empty file, existing required") << "empty" << existing << "empty";
        QTest::newRow("empty SQLite database, existing required") << "empty-sqlite" << existing << "empty SQLite database";
        QTest::newRow("missing file, existing required") << "missing" << existing << "does not exist";
        QTest::newRow("a directory") << "directory" << openOrCreate << "directory";
    }
    void badFilesAreRefusedAndLeftUnchanged()
    {
        QFETCH(QString, kind);
        QFETCH(int, mode);
        QFETCH(QString, needle);
        QTemporaryDir dir;
        fs::path path = tempPath(dir, "ws.db");
        const std::string k = kind.toStdString();
        if (k == "text") {
            writeFile(dir, "ws.db", "These are my notes, not a database.\nSecond line.\n");
        } else if (k == "short") {
            writeFile(dir, "ws.db", std::string("\x00\x01\x02\x03", 4));
        } else if (k == "truncated" || k == "header-only" || k == "damaged") {
            makeWorkspace(dir);
            std::string bytes = readBytes(path);
            QVERIFY(bytes.size() > 8 * 4096);
            if (k == "truncated")
                bytes.resize(bytes.size() / 2 + 100);
            else if (k == "header-only")
                bytes.resize(60);
            else
                for (std::size_t i = 4096; i < bytes.size(); i += 7)
                    bytes[i] = static_cast<char>(0xA5 ^ (i & 0xff)); // garbage over every page but the first
            writeFile(dir, "ws.db", bytes);
        } else if (k == "newer") {
            makeWorkspace(dir);
            rawSql(path, "PRAGMA user_version = 99");
        } else if (k == "foreign") {
            rawSql(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);");
        } else if (k == "empty") {
            writeFile(dir, "ws.db", "");
        } else if (k == "empty-sqlite") {
            rawSql(path, "PRAGMA user_version = 0");
        } else if (k == "directory") {
            fs::create_directory(path);
        }
        const bool existed = fs::exists(path);
        const Snapshot before = existed && !fs::is_directory(path) ? snapshot(path) : Snapshot{};
        const auto err = errorOf([&] { Store::open(path, {.mode = static_cast<store::OpenMode>(mode)}); });
        QVERIFY2(contains(err, needle.toStdString()), err.c_str());
        QVERIFY2(contains(err, path.string()), err.c_str()); // the file is named
        if (k == "newer")
            QVERIFY2(contains(err, "version 99") && contains(err, "up to version " + std::to_string(store::kSchemaVersion)),
                     err.c_str());
        QCOMPARE(fs::exists(path), existed); // nothing created
        if (existed && !fs::is_directory(path)) {
            const Snapshot after = snapshot(path);
            QVERIFY2(after.main == before.main, "the file was changed");
        }
        // Opening read-only and through the CLI's check give the same refusal.
        if (existed && k != "directory" && k != "empty" && k != "empty-sqlite")
            QVERIFY(!errorOf([&] { Store::open(path, {.mode = store::OpenMode::ReadOnly}); }).empty());
    }

    void readOnlyFileOpensReadOnly()
    {
        QTemporaryDir dir;
        const auto path = makeWorkspace(dir);
        const std::string before = readBytes(path);
        // A process that may not write the file (root drops to nobody in the helper).
        QVERIFY(chmod(dir.path().toLocal8Bit().constData(), 0755) == 0);
        QVERIFY(chmod(path.c_str(), 0444) == 0);
        const auto r = runHelper({"readonly-probe", QString::fromStdString(path.string())});
        QVERIFY2(r.exitCode == 0, (r.out + r.err).c_str());
        QVERIFY2(contains(r.out, "read-only 1"), r.out.c_str());
        QVERIFY2(contains(r.out, "documents 4"), r.out.c_str());
        QVERIFY2(contains(r.out, "error: ") && contains(r.out, "read-only") && contains(r.out, path.string()), r.out.c_str());
        QVERIFY(!contains(r.out, "wrote"));
        QVERIFY(readBytes(path) == before);

        // In-process: ReadOnly mode refuses every write with a clear message, and stores nothing.
        QVERIFY(chmod(path.c_str(), 0644) == 0);
        auto st = Store::open(path, {.mode = store::OpenMode::ReadOnly});
        QVERIFY(st.readOnly());
        const auto id = st.listDocuments().front().id;
        const auto err = errorOf([&] { st.addTag(store::TargetKind::Document, id, "x"); });
        QVERIFY2(contains(err, "read-only") && contains(err, path.string()), err.c_str());
        QVERIFY(st.tags(store::TargetKind::Document, id).empty());
        verifyIntact(path);
    }

    void diskFullRollsBackAndKeepsData()
    {
        QTemporaryDir dir;
        const auto path = makeWorkspace(dir);
        const auto limit = fs::file_size(path) + 300 * 1024; // room for a few 64 KiB notes in the WAL
        const auto r = runHelper({"fill-limited", QString::fromStdString(path.string()), QString::number(limit)});
        QVERIFY2(r.exitCode == 3, (r.out + r.err).c_str());
        QVERIFY2(contains(r.out, "error: ") && contains(r.out, "disk is full") && contains(r.out, "rolled back")
                     && contains(r.out, path.string()),
                 r.out.c_str());
        std::size_t stored = 0;
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);)
            if (line.starts_with("stored "))
                stored = std::stoul(line.substr(7));
        QVERIFY2(stored >= 1 && stored < 20, r.out.c_str());
        // Everything committed before the failure is there, the failed note is not, and the
        // file is intact.
        auto st = Store::open(path);
        QVERIFY(st.check(true).ok);
        const auto docId = st.listDocuments().front().id;
        QCOMPARE(st.notes(store::TargetKind::Document, docId).size(), stored);
        verifyIntact(path, stored);
    }

    void diskFullDuringImportStoresNothing()
    {
        if (!fs::exists(segdevPath()))
            QSKIP("shared/data/segdev.jsonl is not available");
        QTemporaryDir dir;
        const auto path = makeWorkspace(dir);
        const auto limit = fs::file_size(path) + 1024 * 1024; // segdev needs ~13 MB
        const auto r = runHelper({"import-limited", QString::fromStdString(path.string()),
                                  QString::fromStdString(segdevPath().string()), QString::number(limit)});
        QVERIFY2(r.exitCode == 3, (r.out + r.err).c_str());
        QVERIFY2(contains(r.out, "disk is full"), r.out.c_str());
        verifyIntact(path); // no dataset 'limited', no partial documents
        auto st = Store::open(path);
        QVERIFY(!st.findDataset("limited"));
    }

    void concurrentWriterProcessAndReader()
    {
        QTemporaryDir dir;
        const auto path = tempPath(dir, "ws.db");
        constexpr std::size_t kEdits = 1000;
        store::Id seg = 0;
        {
            auto st = Store::open(path);
            const Document doc = longDocument(4000);
            seg = st.recordSegmentation(doc, "manual", "{}", {}, "test");
        }
        auto reader = Store::open(path, {.mode = store::OpenMode::Existing});
        QProcess writer;
        writer.start(QString::fromUtf8(BLOCKLENS_STORE_HELPER_PATH),
                     {"edits", QString::fromStdString(path.string()), QString::number(seg), QString::number(kEdits)});
        QVERIFY(writer.waitForStarted(10000));
        QElapsedTimer timer;
        timer.start();
        std::size_t reads = 0, writes = 0, lastSeen = 0;
        qint64 slowestReadMs = 0;
        std::string failure;
        const auto docId = reader.segmentationInfo(seg).documentId;
        while (writer.state() != QProcess::NotRunning && timer.elapsed() < 300000) {
            try {
                QElapsedTimer readTimer;
                readTimer.start();
                const auto now = reader.boundaries(seg);
                slowestReadMs = std::max<qint64>(slowestReadMs, readTimer.elapsed());
                // Every read sees the state after a whole number of edits, never going back.
                bool found = false;
                for (std::size_t k = lastSeen; k <= kEdits; ++k) {
                    const auto expected = expectedAfterEdits(k);
                    if (expected == now) {
                        lastSeen = k;
                        found = true;
                        break;
                    }
                    if (expected.size() > now.size())
                        break;
                }
                if (!found && failure.empty())
                    failure = "read " + std::to_string(reads) + " saw " + std::to_string(now.size())
                        + " boundaries: not the state after a whole number of edits at or after edit "
                        + std::to_string(lastSeen);
                ++reads;
                if (reads % 25 == 0) { // this connection writes too, contending for the lock
                    reader.addNote(store::TargetKind::Document, docId, "reader note " + std::to_string(reads), "reader");
                    ++writes;
                }
            } catch (const Error& e) {
                failure = e.what();
                break;
            }
            QCoreApplication::processEvents(); // lets QProcess notice the writer has exited
        }
        if (writer.state() != QProcess::NotRunning)
            QVERIFY(writer.waitForFinished(300000));
        const std::string out = writer.readAllStandardOutput().toStdString();
        const std::string err = writer.readAllStandardError().toStdString();
        QVERIFY2(failure.empty(), failure.c_str());
        QVERIFY2(writer.exitCode() == 0, (out + err).c_str());
        QVERIFY2(!contains(out + err, "locked") && !contains(out + err, "busy"), (out + err).c_str());
        QVERIFY2(contains(out, "committed " + std::to_string(kEdits) + "\n"), out.c_str());
        QVERIFY(reads > 10);
        qInfo("%zu reads and %zu writes by the reader during %zu edits by the writer process (%lld ms; slowest read "
              "%lld ms)",
              reads, writes, kEdits, static_cast<long long>(timer.elapsed()), static_cast<long long>(slowestReadMs));
        QCOMPARE(reader.boundaries(seg), expectedAfterEdits(kEdits));
        QCOMPARE(reader.replay(seg), expectedAfterEdits(kEdits));
        QCOMPARE(reader.history(seg).size(), kEdits);
        QCOMPARE(reader.notes(store::TargetKind::Document, docId).size(), writes);
        QVERIFY(reader.check(true).ok);
    }

    void killedWriterLosesAtMostTheEditInFlight()
    {
        QTemporaryDir dir;
        const auto path = tempPath(dir, "ws.db");
        store::Id seg = 0;
        {
            auto st = Store::open(path);
            seg = st.recordSegmentation(longDocument(200000), "manual", "{}", {}, "test");
        }
        QProcess writer;
        writer.start(QString::fromUtf8(BLOCKLENS_STORE_HELPER_PATH),
                     {"edits", QString::fromStdString(path.string()), QString::number(seg), "100000"});
        QVERIFY(writer.waitForStarted(10000));
        std::string out;
        std::size_t lastCommitted = 0;
        QElapsedTimer timer;
        timer.start();
        while (lastCommitted < 300 && timer.elapsed() < 120000) {
            if (!writer.waitForReadyRead(1000) && writer.state() == QProcess::NotRunning)
                break;
            out += writer.readAllStandardOutput().toStdString();
            const auto p = out.rfind("committed ");
            if (p != std::string::npos && out.find('\n', p) != std::string::npos)
                lastCommitted = std::stoul(out.substr(p + 10));
        }
        QVERIFY2(writer.state() == QProcess::Running, out.c_str());
        ::kill(static_cast<pid_t>(writer.processId()), SIGKILL);
        QVERIFY(writer.waitForFinished(10000));
        QCOMPARE(writer.exitStatus(), QProcess::CrashExit);
        // Everything the writer reported as committed before the kill is there.
        out += writer.readAllStandardOutput().toStdString();
        const auto p = out.rfind("committed ");
        if (p != std::string::npos && out.find('\n', p) != std::string::npos)
            lastCommitted = std::stoul(out.substr(p + 10));

        auto st = Store::open(path, {.mode = store::OpenMode::Existing});
        const auto check = st.check(true);
        QVERIFY2(check.ok, check.problems.empty() ? "" : check.problems.front().c_str());
        const std::size_t events = st.history(seg).size();
        qInfo("killed after %zu reported commits; %zu edits stored", lastCommitted, events);
        QVERIFY(events >= lastCommitted);     // nothing reported as saved is lost
        QVERIFY(events <= lastCommitted + 1); // at most the edit in flight (committed, not yet reported)
        QCOMPARE(st.boundaries(seg), expectedAfterEdits(events));
        QCOMPARE(st.replay(seg), expectedAfterEdits(events));
        // And the workspace takes new edits.
        st.applyAnnotationEdit(seg, scriptedEdit(events), "test");
        QCOMPARE(st.boundaries(seg), expectedAfterEdits(events + 1));
    }
};

QTEST_GUILESS_MAIN(TestStoreSafety)
#include "test_store_safety.moc"
