// Upgrading workspace files of every earlier schema version (tests/fixtures/store/workspace-vN.db,
// each written by the code of version N) to the current version, in place, with a backup.
#include "store_test_util.hpp"

#include <QtTest>

#include <sqlite3.h>

using namespace blocklens;
using namespace blocklens::test;
using store::Store;
namespace fs = std::filesystem;

namespace {

std::int64_t userVersion(const fs::path& path)
{
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
    std::int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

fs::path copyFixture(const QTemporaryDir& dir, const std::string& name)
{
    const auto to = tempPath(dir, name);
    fs::copy_file(storeFixturesDir() / name, to);
    fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write);
    return to;
}

} // namespace

class TestStoreMigrations : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Every committed fixture of an older version upgrades to the current one and keeps its data.
    void upgradesEveryEarlierVersion_data()
    {
        QTest::addColumn<int>("version");
        int found = 0;
        for (int v = 1; v < store::kSchemaVersion; ++v) {
            const auto name = "workspace-v" + std::to_string(v) + ".db";
            QVERIFY2(fs::exists(storeFixturesDir() / name), ("missing fixture " + name).c_str());
            QTest::newRow(name.c_str()) << v;
            ++found;
        }
        QVERIFY(found == store::kSchemaVersion - 1);
    }
    void upgradesEveryEarlierVersion()
    {
        QFETCH(int, version);
        QTemporaryDir dir;
        const auto path = copyFixture(dir, "workspace-v" + std::to_string(version) + ".db");
        QCOMPARE(userVersion(path), std::int64_t(version));
        const auto before = readBytes(path);
        {
            auto st = Store::open(path);
            const auto info = st.info();
            QCOMPARE(info.schemaVersion, store::kSchemaVersion);
            QVERIFY2(info.upgradedFrom.starts_with(std::to_string(version) + " (backup: "), info.upgradedFrom.c_str());
            QCOMPARE(int(info.migrations.size()), store::kSchemaVersion);
            QVERIFY(st.check(true).ok);
            QVERIFY(info.documents >= 3);
            QVERIFY(info.annotationEvents >= 4);
            if (version >= 3) { // the v3 fixture's assignment plan (tests/fixtures/store/README.md)
                const auto plan = st.assignmentPlan(*st.findDataset("fixture"));
                QVERIFY(plan.has_value());
                QCOMPARE(plan->annotators, (std::vector<std::string>{"alice", "carol"}));
                QCOMPARE(plan->rows.size(), std::size_t(3));
            }
        }
        // The backup is the old file, still at the old version.
        const fs::path backup = path.string() + ".v" + std::to_string(version) + ".bak";
        QVERIFY(fs::exists(backup));
        QCOMPARE(userVersion(backup), std::int64_t(version));
        QVERIFY(readBytes(backup).size() == before.size());
        // Opening again does not upgrade (or back up) a second time.
        auto again = Store::open(path, {.mode = store::OpenMode::Existing});
        QVERIFY(again.info().upgradedFrom.empty());
        QVERIFY(!fs::exists(backup.string() + ".1"));
    }

    // The v1 fixture's content, read through the current API after the upgrade.
    void v1DataSurvivesTheUpgrade()
    {
        QTemporaryDir dir;
        const auto path = copyFixture(dir, "workspace-v1.db");
        auto st = Store::open(path);
        const auto datasets = st.listDatasets();
        QCOMPARE(datasets.size(), std::size_t(1));
        QCOMPARE(datasets[0].name, std::string("fixture"));
        const auto rows = st.datasetRows(datasets[0].id);
        QCOMPARE(rows.size(), std::size_t(3));
        QCOMPARE(rows[1].meta.id, std::string("doc-fr"));
        QVERIFY(!rows[0].reviewed); // v2 column, default for old rows

        // Row 0's correction and its history (insert, move, level change, undone delete).
        const store::Id manual = rows[0].currentSegmentationId;
        QVERIFY(manual != rows[0].referenceSegmentationId);
        QCOMPARE(st.boundaries(manual), (std::vector<Boundary>{{8, 3}, {26, 1}, {53, 2}}));
        QCOMPARE(st.boundaries(rows[0].referenceSegmentationId), (std::vector<Boundary>{{26, 2}, {52, 2}}));
        const auto history = st.history(manual);
        QCOMPARE(history.size(), std::size_t(4));
        QVERIFY(history[1].kind == store::AnnotationEdit::Kind::Move);
        QCOMPARE(history[2].author, std::string("bob"));
        QVERIFY(history[3].state == store::AnnotationEvent::State::Undone);
        QCOMPARE(st.replay(manual), st.boundaries(manual));
        QVERIFY(st.redo(manual, "test")); // the undone delete can still be redone
        QCOMPARE(st.boundaries(manual), (std::vector<Boundary>{{26, 1}, {53, 2}}));

        // Text is byte-identical; export writes the corrected boundaries.
        std::ostringstream out;
        st.exportDataset(datasets[0].id, out);
        std::istringstream lines(out.str());
        std::string line;
        std::getline(lines, line);
        std::getline(lines, line);
        const auto fr = parseDatasetRecord(line, 2, "export");
        QVERIFY(fr.text() == "\xC3\x89t\xC3\xA9 \xC3\xA0 Paris.\nDeuxi\xC3\xA8me ligne \xE2\x80\x94 fin.\nTroisi\xC3\xA8me.\n");

        // Runs, evaluations, tags, notes, token counts.
        const auto runs = st.listRuns();
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs[0].modelName, std::string("qwen3-0.6b"));
        QCOMPARE(runs[0].kvBytes, std::optional<std::int64_t>(1 << 20));
        QCOMPARE(st.tags(store::TargetKind::Run, runs[0].id), (std::vector<std::string>{"baseline"}));
        QCOMPARE(st.notes(store::TargetKind::Segmentation, manual).size(), std::size_t(1));
        QCOMPARE(st.tokenCount(rows[0].documentId, runs[0].tokenizerHash), std::optional<std::size_t>(24));
        const auto metrics = st.aggregateMetrics(store::GroupBy::Segmenter);
        QCOMPARE(metrics.size(), std::size_t(1));
        QCOMPARE(metrics[0].segmenter, std::string("texttiling"));
        QCOMPARE(metrics[0].pk, std::optional<double>(0.25));

        // What version 2 added works on the upgraded file.
        st.setReviewed(datasets[0].id, 0, true, "test");
        QVERIFY(st.datasetRows(datasets[0].id)[0].reviewed);
        QVERIFY(st.check(true).ok);
    }

    // A read-only open never upgrades: it refuses, or reads the old file as it is when asked to.
    void readOnlyOpenDoesNotUpgrade()
    {
        QTemporaryDir dir;
        const auto path = copyFixture(dir, "workspace-v1.db");
        const auto before = readBytes(path);
        const auto err = errorOf([&] { Store::open(path, {.mode = store::OpenMode::ReadOnly}); });
        QVERIFY2(contains(err, "schema version 1") && contains(err, "upgrade") && contains(err, path.string()), err.c_str());
        auto st = Store::open(path, {.mode = store::OpenMode::ReadOnly, .allowOlderSchema = true});
        QCOMPARE(st.info().schemaVersion, 1);
        QVERIFY(st.check(true).ok);
        QCOMPARE(userVersion(path), std::int64_t(1));
        QVERIFY(readBytes(path) == before);
        QVERIFY(!fs::exists(path.string() + ".v1.bak"));
    }

    // An existing backup is never overwritten.
    void backupNamesDoNotCollide()
    {
        QTemporaryDir dir;
        const auto path = copyFixture(dir, "workspace-v1.db");
        writeFile(dir, "workspace-v1.db.v1.bak", "an older backup");
        auto st = Store::open(path);
        QVERIFY2(contains(st.info().upgradedFrom, "workspace-v1.db.v1.bak.1"), st.info().upgradedFrom.c_str());
        QCOMPARE(readBytes(path.string() + ".v1.bak"), std::string("an older backup"));
        QCOMPARE(userVersion(path.string() + ".v1.bak.1"), std::int64_t(1));
    }
};

QTEST_GUILESS_MAIN(TestStoreMigrations)
#include "test_store_migrations.moc"
