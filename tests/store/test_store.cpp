// The experiment store's API: create/open, import/export round trip, segmentation versions,
// annotation edits with undo/redo/replay, evaluations, runs, tags/notes, tables.
#include "store_test_util.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cstdlib>

using namespace blocklens;
using namespace blocklens::test;
using store::AnnotationEdit;
using store::Store;

namespace {

std::vector<Boundary> bs(std::initializer_list<std::pair<std::size_t, int>> list)
{
    std::vector<Boundary> out;
    for (const auto& [o, l] : list)
        out.push_back({o, l});
    return out;
}

char* toString(const std::vector<Boundary>& v)
{
    std::string s = "[";
    for (const auto& b : v)
        s += "(" + std::to_string(b.offset) + "," + std::to_string(b.level) + ")";
    return qstrdup((s + "]").c_str());
}

// Parses exported JSONL back into documents.
std::vector<Document> parseJsonl(const std::string& text)
{
    std::vector<Document> out;
    std::istringstream in(text);
    std::string line;
    std::int64_t n = 0;
    while (std::getline(in, line))
        out.push_back(parseDatasetRecord(line, ++n, "export.jsonl"));
    return out;
}

struct ScopedEnv {
    std::string name;
    std::optional<std::string> old;
    ScopedEnv(std::string n, const char* value) : name(std::move(n))
    {
        if (const char* v = std::getenv(name.c_str()))
            old = v;
        if (value)
            setenv(name.c_str(), value, 1);
        else
            unsetenv(name.c_str());
    }
    ~ScopedEnv()
    {
        if (old)
            setenv(name.c_str(), old->c_str(), 1);
        else
            unsetenv(name.c_str());
    }
};

} // namespace

namespace QTest {
template <>
char* toString(const std::vector<Boundary>& v)
{
    return ::toString(v);
}
} // namespace QTest

class TestStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void createsAndReopensWorkspace()
    {
        QTemporaryDir dir;
        const auto path = tempPath(dir, "ws.db");
        {
            auto st = Store::open(path);
            const auto info = st.info();
            QCOMPARE(info.schemaVersion, store::kSchemaVersion);
            QCOMPARE(info.journalMode, std::string("wal"));
            QCOMPARE(info.documents, std::int64_t(0));
            QCOMPARE(info.migrations.size(), std::size_t(store::kSchemaVersion));
            QVERIFY(!st.readOnly());
            QVERIFY(st.check().ok);
        }
        auto again = Store::open(path, {.mode = store::OpenMode::Existing});
        QCOMPARE(again.info().schemaVersion, store::kSchemaVersion);
        QVERIFY(again.info().upgradedFrom.empty());
        // Foreign keys are on.
        const auto fk = again.select("PRAGMA foreign_keys");
        QCOMPARE(std::get<std::int64_t>(fk.rows.at(0).at(0)), std::int64_t(1));
    }

    void resolvesWorkspacePath()
    {
        {
            ScopedEnv db("BLOCKLENS_DB", "/tmp/from-env.db");
            QCOMPARE(store::resolveWorkspacePath(std::string("/x/option.db")), std::filesystem::path("/x/option.db"));
            QCOMPARE(store::resolveWorkspacePath(std::nullopt), std::filesystem::path("/tmp/from-env.db"));
        }
        ScopedEnv noDb("BLOCKLENS_DB", nullptr);
        {
            ScopedEnv xdg("XDG_DATA_HOME", "/data/home");
            QCOMPARE(store::resolveWorkspacePath(std::nullopt), std::filesystem::path("/data/home/blocklens/workspace.db"));
        }
        ScopedEnv noXdg("XDG_DATA_HOME", nullptr);
        ScopedEnv home("HOME", "/home/someone");
        QCOMPARE(store::defaultWorkspacePath(), std::filesystem::path("/home/someone/.local/share/blocklens/workspace.db"));
    }

    void createsDefaultDirectoriesOnlyWhenAsked()
    {
        QTemporaryDir dir;
        const auto path = tempPath(dir, "a/b/ws.db");
        QVERIFY(contains(errorOf([&] { Store::open(path); }), "does not exist"));
        QVERIFY(!std::filesystem::exists(path));
        auto st = Store::open(path, {.createDirectories = true});
        QVERIFY(std::filesystem::exists(path));
    }

    // Issue 15, item 1: on a fresh home ($XDG_DATA_HOME/blocklens/ missing) the first write of
    // any kind (an edit saved with S, a recorded comparison) creates the default workspace; a
    // directory the user named is still not guessed at.
    void createsTheDefaultWorkspaceOnFirstUse()
    {
        QTemporaryDir dir;
        const auto xdgHome = tempPath(dir, "fresh-home/share");
        ScopedEnv xdg("XDG_DATA_HOME", xdgHome.c_str());
        ScopedEnv noDb("BLOCKLENS_DB", nullptr);
        const auto path = store::resolveWorkspacePath(std::nullopt);
        QCOMPARE(path, xdgHome / "blocklens" / "workspace.db");
        QVERIFY(!std::filesystem::exists(path.parent_path()));
        QVERIFY(store::isDefaultWorkspacePath(path));
        {
            auto st = Store::open(path); // default options, as the app's writers and the CLI open it
            const Document doc("A first edit on a fresh home.\n\nSecond paragraph.\n");
            const auto id = st.addDocument(doc);
            QVERIFY(id > 0);
        }
        QVERIFY(std::filesystem::exists(path));
        QCOMPARE(Store::open(path, {.mode = store::OpenMode::Existing}).info().documents, std::int64_t(1));
        const auto other = tempPath(dir, "typo/ws.db");
        QVERIFY(!store::isDefaultWorkspacePath(other));
        QVERIFY(contains(errorOf([&] { Store::open(other); }), "does not exist"));
    }

    void importExportRoundTrip_data()
    {
        QTest::addColumn<QString>("source");
        QTest::newRow("small dataset") << QString();
        if (std::filesystem::exists(segdevPath()))
            QTest::newRow("segdev.jsonl") << QString::fromStdString(segdevPath().string());
    }
    void importExportRoundTrip()
    {
        QFETCH(QString, source);
        QTemporaryDir dir;
        const Dataset ds = source.isEmpty() ? smallDataset(dir) : loadDataset(source.toStdString());
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto r = st.importDataset(ds);
        QCOMPARE(r.rows, ds.documents.size());
        QCOMPARE(r.newDocuments, ds.documents.size());
        std::size_t boundaries = 0;
        for (const auto& d : ds.documents)
            boundaries += d.reference().size();
        QCOMPARE(r.boundaries, boundaries);

        std::ostringstream out;
        QCOMPARE(st.exportDataset(r.datasetId, out), ds.documents.size());
        const auto back = parseJsonl(out.str());
        QCOMPARE(back.size(), ds.documents.size());
        for (std::size_t i = 0; i < back.size(); ++i) {
            QVERIFY2(back[i].text() == ds.documents[i].text(), ("text differs in row " + std::to_string(i)).c_str());
            QCOMPARE(back[i].reference(), ds.documents[i].reference());
            QCOMPARE(back[i].meta().id, ds.documents[i].meta().id);
            QCOMPARE(back[i].meta().category, ds.documents[i].meta().category);
            QCOMPARE(back[i].meta().variant, ds.documents[i].meta().variant);
            QCOMPARE(back[i].meta().lang, ds.documents[i].meta().lang);
            QCOMPARE(back[i].meta().source, ds.documents[i].meta().source);
            // Each exported line is exactly what formatDatasetRecord makes of the original.
        }
        std::string expected;
        for (const auto& d : ds.documents)
            expected += formatDatasetRecord(d, d.reference()) + "\n";
        QVERIFY(out.str() == expected);

        // The chunks form keeps text and offsets (every boundary becomes level 1).
        std::ostringstream chunks;
        st.exportDataset(r.datasetId, chunks, RecordForm::Chunks);
        const auto fromChunks = parseJsonl(chunks.str());
        QCOMPARE(fromChunks.size(), ds.documents.size());
        for (std::size_t i = 0; i < fromChunks.size(); ++i) {
            QVERIFY(fromChunks[i].text() == ds.documents[i].text());
            QCOMPARE(fromChunks[i].reference().size(), ds.documents[i].reference().size());
            for (std::size_t k = 0; k < fromChunks[i].reference().size(); ++k)
                QCOMPARE(fromChunks[i].reference()[k].offset, ds.documents[i].reference()[k].offset);
        }
    }

    void importIsOneTransactionAndSharesDocuments()
    {
        QTemporaryDir dir;
        const Dataset ds = smallDataset(dir);
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto first = st.importDataset(ds);
        QCOMPARE(st.listDatasets().at(0).name, std::string("small"));
        // The same name again is refused and nothing is added.
        const auto err = errorOf([&] { st.importDataset(ds); });
        QVERIFY2(contains(err, "already exists") && contains(err, "ws.db"), err.c_str());
        QCOMPARE(st.listDatasets().size(), std::size_t(1));
        // Under another name the documents and reference segmentations are shared.
        const auto second = st.importDataset(ds, {.name = "again"});
        QCOMPARE(second.newDocuments, std::size_t(0));
        QCOMPARE(st.listDocuments().size(), ds.documents.size());
        const auto rows1 = st.datasetRows(first.datasetId);
        const auto rows2 = st.datasetRows(second.datasetId);
        for (std::size_t i = 0; i < rows1.size(); ++i)
            QCOMPARE(rows1[i].referenceSegmentationId, rows2[i].referenceSegmentationId);
        // A cancelled import stores nothing.
        std::stop_source stop;
        stop.request_stop();
        Progress progress;
        progress.stop = stop.get_token();
        QVERIFY(contains(errorOf([&] { st.importDataset(ds, {.name = "cancelled"}, progress); }), "cancelled"));
        QVERIFY(!st.findDataset("cancelled"));
        QCOMPARE(st.findDataset(std::to_string(first.datasetId)), std::optional<store::Id>(first.datasetId));
        // Token counts through the callback.
        const auto third = st.importDataset(ds, {.name = "counted",
                                                 .countTokens = [](const Document& d) { return d.length() / 2; },
                                                 .tokenizerHash = "abc123",
                                                 .tokenizerName = "half"});
        const auto row = st.datasetRows(third.datasetId).at(0);
        QCOMPARE(st.tokenCount(row.documentId, "abc123"), std::optional<std::size_t>(ds.documents[0].length() / 2));
        QCOMPARE(st.tokenCount(row.documentId, "other"), std::optional<std::size_t>());
    }

    void annotationEditsUndoRedoAndReplay()
    {
        QTemporaryDir dir;
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto r = st.importDataset(smallDataset(dir));
        const auto row = st.datasetRows(r.datasetId).at(0); // length 54, boundaries 19:1, 41:2
        // Imported references are kept as they are.
        QVERIFY(contains(errorOf([&] { st.applyAnnotationEdit(row.referenceSegmentationId, AnnotationEdit::remove(19), "x"); }),
                         "fork it first"));
        const store::Id seg = st.beginCorrection(r.datasetId, 0, "alice");
        QCOMPARE(st.beginCorrection(r.datasetId, 0, "alice"), seg); // already editable
        QCOMPARE(st.datasetRows(r.datasetId).at(0).currentSegmentationId, seg);
        QCOMPARE(st.segmentationInfo(seg).parentId, std::optional<store::Id>(row.referenceSegmentationId));

        std::vector<std::vector<Boundary>> snapshots{st.boundaries(seg)};
        const std::vector<AnnotationEdit> edits = {AnnotationEdit::insert(6, 3), AnnotationEdit::move(41, 40),
                                                   AnnotationEdit::setLevel(19, 2), AnnotationEdit::remove(6),
                                                   AnnotationEdit::insert(50, 1)};
        for (const auto& e : edits) {
            st.applyAnnotationEdit(seg, e, "alice");
            snapshots.push_back(st.boundaries(seg));
        }
        QCOMPARE(snapshots[1], bs({{6, 3}, {19, 1}, {41, 2}}));
        QCOMPARE(snapshots[2], bs({{6, 3}, {19, 1}, {40, 2}}));
        QCOMPARE(snapshots[3], bs({{6, 3}, {19, 2}, {40, 2}}));
        QCOMPARE(snapshots[4], bs({{19, 2}, {40, 2}}));
        QCOMPARE(snapshots[5], bs({{19, 2}, {40, 2}, {50, 1}}));
        for (std::size_t n = 0; n < snapshots.size(); ++n)
            QCOMPARE(st.replay(seg, n), snapshots[n]);

        // History records before/after and author.
        auto h = st.history(seg);
        QCOMPARE(h.size(), edits.size());
        QVERIFY(h[1].kind == AnnotationEdit::Kind::Move);
        QCOMPARE(h[1].before, std::optional<Boundary>(Boundary{41, 2}));
        QCOMPARE(h[1].after, std::optional<Boundary>(Boundary{40, 2}));
        QCOMPARE(h[0].before, std::optional<Boundary>());
        QCOMPARE(h[3].after, std::optional<Boundary>());
        QCOMPARE(h[4].author, std::string("alice"));
        QVERIFY(!h[4].createdAt.empty());

        // Undo twice, redo once: the boundary set follows the snapshots.
        QVERIFY(st.undo(seg, "bob"));
        QCOMPARE(st.boundaries(seg), snapshots[4]);
        QVERIFY(st.undo(seg, "bob"));
        QCOMPARE(st.boundaries(seg), snapshots[3]);
        QVERIFY(st.redo(seg, "bob"));
        QCOMPARE(st.boundaries(seg), snapshots[4]);
        QCOMPARE(st.segmentationInfo(seg).activeEdits, std::size_t(4));
        // A new edit discards what is left to redo.
        st.applyAnnotationEdit(seg, AnnotationEdit::insert(30, 1), "bob");
        QVERIFY(!st.redo(seg, "bob"));
        QCOMPARE(st.boundaries(seg), bs({{19, 2}, {30, 1}, {40, 2}}));
        h = st.history(seg);
        QCOMPARE(h.size(), std::size_t(6));
        QVERIFY(h[4].state == store::AnnotationEvent::State::Discarded);
        QVERIFY(h[5].state == store::AnnotationEvent::State::Active);
        // Undo everything gets back to the version's starting point.
        while (st.undo(seg, "bob")) {
        }
        QCOMPARE(st.boundaries(seg), snapshots[0]);
        QVERIFY(st.redo(seg, "bob"));
        QCOMPARE(st.boundaries(seg), snapshots[1]);
        QCOMPARE(st.replay(seg), st.boundaries(seg));
    }

    void invalidEditsChangeNothing_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("offset");
        QTest::addColumn<int>("newOffset");
        QTest::addColumn<int>("level");
        QTest::addColumn<QString>("needle");
        QTest::newRow("insert existing") << 0 << 19 << 0 << 1 << "there is one already";
        QTest::newRow("insert at 0") << 0 << 0 << 0 << 1 << "inside the text";
        QTest::newRow("insert past end") << 0 << 54 << 0 << 1 << "inside the text";
        QTest::newRow("insert level 10") << 0 << 5 << 0 << 10 << "outside 1..9";
        QTest::newRow("delete missing") << 1 << 5 << 0 << 0 << "there is none there";
        QTest::newRow("move missing") << 2 << 5 << 6 << 0 << "there is none there";
        QTest::newRow("move onto another") << 2 << 19 << 41 << 0 << "there is one there already";
        QTest::newRow("move out") << 2 << 19 << 60 << 0 << "inside the text";
        QTest::newRow("move onto itself") << 2 << 19 << 19 << 0 << "onto itself";
        QTest::newRow("same level") << 3 << 19 << 0 << 1 << "already has level";
        QTest::newRow("level 0") << 3 << 19 << 0 << 0 << "outside 1..9";
    }
    void invalidEditsChangeNothing()
    {
        QFETCH(int, kind);
        QFETCH(int, offset);
        QFETCH(int, newOffset);
        QFETCH(int, level);
        QFETCH(QString, needle);
        QTemporaryDir dir;
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto r = st.importDataset(smallDataset(dir));
        const store::Id seg = st.beginCorrection(r.datasetId, 0, "alice");
        const auto before = st.boundaries(seg);
        const AnnotationEdit e{static_cast<AnnotationEdit::Kind>(kind), std::size_t(offset), std::size_t(newOffset), level};
        const auto err = errorOf([&] { st.applyAnnotationEdit(seg, e, "alice"); });
        QVERIFY2(contains(err, needle.toStdString()), err.c_str());
        QVERIFY2(contains(err, "segmentation " + std::to_string(seg)), err.c_str());
        QCOMPARE(st.boundaries(seg), before);
        QVERIFY(st.history(seg).empty());
    }

    void segmentationHistoryAndDiff()
    {
        QTemporaryDir dir;
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto ds = smallDataset(dir);
        const auto r = st.importDataset(ds);
        const auto row = st.datasetRows(r.datasetId).at(1);
        const store::Id v2 = st.forkSegmentation(row.referenceSegmentationId, "alice");
        st.applyAnnotationEdit(v2, AnnotationEdit::setLevel(32, 1), "alice");
        st.applyAnnotationEdit(v2, AnnotationEdit::insert(5, 2), "alice");
        st.applyAnnotationEdit(v2, AnnotationEdit::remove(13), "alice");
        const store::Id hyp = st.recordSegmentation(ds.documents[1], "texttiling", "{\"w\": 3}", bs({{13, 1}, {20, 1}}), "cli");
        const auto history = st.segmentationHistory(row.documentId);
        QCOMPARE(history.size(), std::size_t(3));
        QCOMPARE(history[0].segmenter, std::string("reference"));
        QCOMPARE(history[1].segmenter, std::string("manual"));
        QCOMPARE(history[1].parentId, std::optional<store::Id>(history[0].id));
        QCOMPARE(history[1].author, std::string("alice"));
        QCOMPARE(history[1].activeEdits, std::size_t(3));
        QCOMPARE(history[2].id, hyp);
        QCOMPARE(history[2].params, std::string("{\"w\":3}"));

        const auto d = st.diff(row.referenceSegmentationId, v2);
        QCOMPARE(d.added, bs({{5, 2}}));
        QCOMPARE(d.removed, bs({{13, 1}}));
        QCOMPARE(d.levelChanged.size(), std::size_t(1));
        QCOMPARE(d.levelChanged[0].first, (Boundary{32, 3}));
        QCOMPARE(d.levelChanged[0].second, (Boundary{32, 1}));
        QCOMPARE(d.unchanged, std::size_t(0));
        const auto same = st.diff(hyp, hyp);
        QCOMPARE(same.unchanged, std::size_t(2));
        QVERIFY(same.added.empty() && same.removed.empty() && same.levelChanged.empty());

        // Bad segmentations are refused with the reason.
        QVERIFY(contains(errorOf([&] { st.recordSegmentation(ds.documents[1], "x", "{}", bs({{500, 1}})); }), "not inside"));
        QVERIFY(contains(errorOf([&] { st.recordSegmentation(ds.documents[1], "x", "[1]", {}); }), "JSON object"));
        QVERIFY(contains(errorOf([&] { st.recordSegmentation(ds.documents[1], "", "{}", {}); }), "name is empty"));
        QVERIFY(contains(errorOf([&] { st.diff(hyp, 999); }), "no segmentation with id 999"));
    }

    void correctedDatasetExport()
    {
        QTemporaryDir dir;
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto ds = smallDataset(dir);
        const auto r = st.importDataset(ds);
        const store::Id seg = st.beginCorrection(r.datasetId, 0, "alice");
        st.applyAnnotationEdit(seg, AnnotationEdit::move(41, 40), "alice");
        st.setReviewed(r.datasetId, 0, true, "alice");
        st.setReviewed(r.datasetId, 2, true, "bob");
        QVERIFY(contains(errorOf([&] { st.setReviewed(r.datasetId, 99, true, "bob"); }), "no row 99"));

        std::ostringstream corrected, original, reviewed;
        st.exportDataset(r.datasetId, corrected);
        st.exportDataset(r.datasetId, original, RecordForm::Record, true);
        QCOMPARE(st.exportDataset(r.datasetId, reviewed, RecordForm::Record, false, true), std::size_t(2));
        const auto c = parseJsonl(corrected.str());
        const auto o = parseJsonl(original.str());
        QCOMPARE(c[0].reference(), bs({{19, 1}, {40, 2}}));
        QCOMPARE(o[0].reference(), ds.documents[0].reference());
        QCOMPARE(c[1].reference(), ds.documents[1].reference());
        QVERIFY(c[0].text() == ds.documents[0].text());
        const auto rv = parseJsonl(reviewed.str());
        QCOMPARE(rv.size(), std::size_t(2));
        QCOMPARE(rv[1].meta().id, std::string("c3"));
        const auto rows = st.datasetRows(r.datasetId);
        QVERIFY(rows[0].reviewed && !rows[1].reviewed);
        QCOMPARE(rows[0].reviewedBy, std::string("alice"));
        QCOMPARE(st.listDatasets().at(0).reviewedRows, std::size_t(2));
        st.setSegmentationReviewed(seg, true, "carol");
        QVERIFY(st.segmentationInfo(seg).reviewed);
        QCOMPARE(st.segmentationInfo(seg).reviewedBy, std::string("carol"));
    }

    void evaluationsAndAggregatedMetrics()
    {
        QTemporaryDir dir;
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto ds = smallDataset(dir);
        const auto r = st.importDataset(ds);
        const auto rows = st.datasetRows(r.datasetId);
        bool referencesFound = true;
        auto evaluate = [&](std::size_t row, const std::string& segmenter, double pk, double f1) {
            const auto& doc = ds.documents[row];
            const store::Id hyp = st.recordSegmentation(doc, segmenter, "{}", doc.reference(), "test");
            const store::Id ref = st.ensureReference(doc);
            referencesFound = referencesFound && ref == rows[row].referenceSegmentationId; // the imported one
            store::EvaluationRecord e;
            e.segmentationId = hyp;
            e.referenceId = ref;
            e.protocol = "free";
            e.granularity = 2;
            e.pk = pk;
            e.windowDiff = pk + 0.1;
            e.f1 = f1;
            e.metrics = "{\"k\": 4}";
            return st.recordEvaluation(e);
        };
        evaluate(0, "texttiling", 0.2, 0.5);
        evaluate(1, "texttiling", 0.4, 0.7);
        evaluate(0, "structural", 0.1, 0.9);
        QVERIFY(referencesFound);
        const auto bySegmenter = st.aggregateMetrics(store::GroupBy::Segmenter);
        QCOMPARE(bySegmenter.size(), std::size_t(2));
        QCOMPARE(bySegmenter[1].segmenter, std::string("texttiling"));
        QCOMPARE(bySegmenter[1].evaluations, std::size_t(2));
        QVERIFY(qFuzzyCompare(*bySegmenter[1].pk, 0.3));
        QVERIFY(qFuzzyCompare(*bySegmenter[1].f1, 0.6));
        QVERIFY(!bySegmenter[1].recall);
        const auto byCategory = st.aggregateMetrics(store::GroupBy::Category);
        QCOMPARE(byCategory.size(), std::size_t(2));
        QCOMPARE(byCategory[0].category, std::string("book/plain"));
        QCOMPARE(byCategory[1].category, std::string("book/structured"));
        QCOMPARE(byCategory[1].evaluations, std::size_t(2));
        QCOMPARE(st.aggregateMetrics(store::GroupBy::SegmenterAndCategory).size(), std::size_t(3));
        QVERIFY(st.aggregateMetrics(store::GroupBy::Segmenter, "oracle-count").empty());

        // A reference of another document, or metrics that are not JSON, are refused.
        store::EvaluationRecord bad;
        bad.segmentationId = rows[0].referenceSegmentationId;
        bad.referenceId = rows[1].referenceSegmentationId;
        QVERIFY(contains(errorOf([&] { st.recordEvaluation(bad); }), "different documents"));
        bad.referenceId = rows[0].referenceSegmentationId;
        bad.metrics = "{oops";
        QVERIFY(contains(errorOf([&] { st.recordEvaluation(bad); }), "not valid JSON"));
        // ensureReference adds a document it has never seen.
        const Document fresh("brand new text\nsecond line\n", {}, bs({{15, 1}}));
        const store::Id ref = st.ensureReference(fresh);
        QCOMPARE(st.boundaries(ref), fresh.reference());
        QCOMPARE(st.ensureReference(fresh), ref);
    }

    void inferenceRuns()
    {
        QTemporaryDir dir;
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto r = st.importDataset(smallDataset(dir));
        const auto rows = st.datasetRows(r.datasetId);
        store::RunRecord run;
        run.documentId = rows[0].documentId;
        run.segmentationId = rows[0].currentSegmentationId;
        run.modelName = "qwen3-0.6b";
        run.modelHash = "abcdef0123";
        run.modelConfig = "{\"layers\": 28}";
        run.attentionMode = "block";
        run.device = "cuda:0";
        run.dtype = "bfloat16";
        run.ttftMs = 12.5;
        run.kvBytes = 4096;
        run.cacheHits = 3;
        run.cacheMisses = 1;
        run.logitKl = 0.002;
        const store::Id a = st.recordRun(run);
        run.attentionMode = "full";
        run.documentId = rows[1].documentId;
        const store::Id b = st.recordRun(run);
        run.modelName = "llama3";
        run.modelHash = "99999999";
        const store::Id c = st.recordRun(run);

        const auto all = st.listRuns();
        QCOMPARE(all.size(), std::size_t(3));
        QCOMPARE(all[0].id, c); // newest first
        QCOMPARE(st.listRuns({.model = "qwen3-0.6b"}).size(), std::size_t(2));
        QCOMPARE(st.listRuns({.model = "abcd"}).size(), std::size_t(2)); // hash prefix
        QCOMPARE(st.listRuns({.model = "abc"}).size(), std::size_t(0));  // too short for a prefix
        const auto onDoc = st.listRuns({.documentId = rows[0].documentId});
        QCOMPARE(onDoc.size(), std::size_t(1));
        QCOMPARE(onDoc[0].id, a);
        QCOMPARE(onDoc[0].attentionMode, std::string("block"));
        QCOMPARE(onDoc[0].ttftMs, std::optional<double>(12.5));
        QCOMPARE(onDoc[0].kvBytes, std::optional<std::int64_t>(4096));
        QCOMPARE(onDoc[0].prefillMs, std::optional<double>());
        QCOMPARE(onDoc[0].modelConfig, std::string("{\"layers\":28}"));
        QVERIFY(!onDoc[0].createdAt.empty());
        QCOMPARE(st.listRuns({.limit = 1}).at(0).id, c);
        QVERIFY(b != a);

        run.documentId = 12345;
        QVERIFY(contains(errorOf([&] { st.recordRun(run); }), "no document with id 12345"));
        run.documentId.reset();
        run.software = "not json";
        QVERIFY(contains(errorOf([&] { st.recordRun(run); }), "software versions is not valid JSON"));
    }

    void tagsAndNotes()
    {
        QTemporaryDir dir;
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto r = st.importDataset(smallDataset(dir));
        const auto row = st.datasetRows(r.datasetId).at(0);
        st.addTag(store::TargetKind::Document, row.documentId, "hard");
        st.addTag(store::TargetKind::Document, row.documentId, "english");
        st.addTag(store::TargetKind::Document, row.documentId, "hard"); // once
        QCOMPARE(st.tags(store::TargetKind::Document, row.documentId), (std::vector<std::string>{"english", "hard"}));
        st.removeTag(store::TargetKind::Document, row.documentId, "hard");
        QCOMPARE(st.tags(store::TargetKind::Document, row.documentId), (std::vector<std::string>{"english"}));
        st.addTag(store::TargetKind::Dataset, r.datasetId, "dev");
        st.addNote(store::TargetKind::Segmentation, row.currentSegmentationId, "Section 2 starts late.", "alice");
        const auto notes = st.notes(store::TargetKind::Segmentation, row.currentSegmentationId);
        QCOMPARE(notes.size(), std::size_t(1));
        QCOMPARE(notes[0].text, std::string("Section 2 starts late."));
        QCOMPARE(notes[0].author, std::string("alice"));
        QVERIFY(contains(errorOf([&] { st.addTag(store::TargetKind::Run, 77, "x"); }), "no run with id 77"));
        QVERIFY(contains(errorOf([&] { st.addNote(store::TargetKind::Document, row.documentId, ""); }), "empty"));
    }

    void batchIsAllOrNothing()
    {
        QTemporaryDir dir;
        const auto path = tempPath(dir, "ws.db");
        auto st = Store::open(path);
        auto other = Store::open(path);
        const auto ds = smallDataset(dir);
        store::Id seg = 0;
        {
            Store::Batch batch(st);
            seg = st.recordSegmentation(ds.documents[0], "fixed", "{}", bs({{10, 1}}), "test");
            // A call that fails undoes only itself; the batch goes on.
            QVERIFY(!errorOf([&] { st.recordSegmentation(ds.documents[0], "fixed", "{}", bs({{999, 1}}), "test"); }).empty());
            st.addNote(store::TargetKind::Segmentation, seg, "in the batch", "test");
            QVERIFY(other.listDocuments().empty()); // not visible before commit
            batch.commit();
        }
        QCOMPARE(other.segmentationHistory(other.listDocuments().at(0).id).size(), std::size_t(1));
        QCOMPARE(other.notes(store::TargetKind::Segmentation, seg).size(), std::size_t(1));
        {
            Store::Batch batch(st);
            st.addTag(store::TargetKind::Segmentation, seg, "dropped");
            st.recordSegmentation(ds.documents[1], "fixed", "{}", {}, "test");
        } // not committed: rolled back
        QVERIFY(st.tags(store::TargetKind::Segmentation, seg).empty());
        QCOMPARE(st.listDocuments().size(), std::size_t(1));
        st.addTag(store::TargetKind::Segmentation, seg, "kept"); // single writes work again
        QCOMPARE(other.tags(store::TargetKind::Segmentation, seg), (std::vector<std::string>{"kept"}));
    }

    void tablesExportToCsvAndJsonl()
    {
        QTemporaryDir dir;
        auto st = Store::open(tempPath(dir, "ws.db"));
        const auto r = st.importDataset(smallDataset(dir));
        const auto rows = st.datasetRows(r.datasetId);
        store::RunRecord run;
        run.documentId = rows[0].documentId;
        run.modelName = "model, \"quoted\"\nname";
        run.ttftMs = 1.25;
        st.recordRun(run);
        const auto t = st.queryTable("runs");
        QCOMPARE(t.rows.size(), std::size_t(1));
        std::ostringstream csv;
        store::writeCsv(t, csv);
        const std::string c = csv.str();
        QVERIFY(c.starts_with("id,created_at,model_name,"));
        QVERIFY2(contains(c, ",\"model, \"\"quoted\"\"\nname\","), c.c_str());
        QVERIFY(contains(c, ",1.25,"));
        std::ostringstream jsonl;
        store::writeJsonl(t, jsonl);
        const auto j = nlohmann::json::parse(jsonl.str());
        QCOMPARE(j["model_name"].get<std::string>(), run.modelName);
        QCOMPARE(j["ttft_ms"].get<double>(), 1.25);
        QVERIFY(j["prefill_ms"].is_null());
        QCOMPARE(j["document"].get<std::string>(), std::string("a1"));

        for (const char* name : {"evaluations", "segmentations", "documents", "datasets", "rows", "events", "metrics"})
            QVERIFY2(!st.queryTable(name).columns.empty(), name);
        QCOMPARE(st.queryTable("segmentations").rows.size(), std::size_t(4));
        QVERIFY(contains(errorOf([&] { st.queryTable("nope"); }), "unknown query 'nope'"));

        const auto sel = st.select("SELECT category, count(*) AS n FROM documents GROUP BY category ORDER BY category");
        QCOMPARE(sel.columns, (std::vector<std::string>{"category", "n"}));
        QCOMPARE(sel.rows.size(), std::size_t(3));
        QVERIFY(contains(errorOf([&] { st.select("DELETE FROM documents"); }), "read-only queries"));
        QVERIFY(contains(errorOf([&] { st.select("PRAGMA user_version = 7"); }), "read-only queries"));
        QVERIFY(contains(errorOf([&] { st.select("pragma user_version(7)"); }), "read-only queries"));
        QVERIFY(contains(errorOf([&] { st.select("ATTACH 'other.db' AS o"); }), "read-only queries"));
        QVERIFY(contains(errorOf([&] { st.select("WITH x AS (SELECT 1) DELETE FROM notes"); }), "read-only queries"));
        QCOMPARE(std::get<std::int64_t>(st.select("  PRAGMA user_version").rows.at(0).at(0)),
                 std::int64_t(store::kSchemaVersion));
        st.addTag(store::TargetKind::Document, st.listDocuments().front().id, "still-writable"); // query_only is off again
        QVERIFY(contains(errorOf([&] { st.select("SELECT 1; DELETE FROM documents"); }), "one statement"));
        QVERIFY(contains(errorOf([&] { st.select("SELECT FROM WHERE"); }), "not valid SQL"));
        QCOMPARE(st.listDocuments().size(), std::size_t(4));
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
