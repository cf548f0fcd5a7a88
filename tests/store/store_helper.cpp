// store_helper: a separate process that writes to a workspace, for the store tests (a second
// process is the realistic case: the CLI writing while the app reads), and the generator of the
// committed fixture files.
//
//   store_helper edits DB SEGMENTATION N        N scripted edits (edit_script.hpp), one
//                                               transaction each; prints "committed K" after each
//   store_helper fill-limited DB LIMIT_BYTES    with RLIMIT_FSIZE = LIMIT_BYTES (SIGXFSZ ignored),
//                                               adds 64 KiB notes until a write fails; prints
//                                               "stored K" and "error: MESSAGE"; exit 3 on the
//                                               expected error
//   store_helper import-limited DB DATASET LIMIT_BYTES   the same for a dataset import
//   store_helper readonly-probe DB             opens the workspace as an unprivileged user (drops
//                                               root to nobody), reads it, tries one write; prints
//                                               "read-only 1", "documents N", "error: MESSAGE"
//   store_helper make-fixture-v1 DB            builds tests/fixtures/store/workspace-v1.db; was run
//                                               with the schema-v1 code (commit that added it)
//   store_helper make-fixture-v2 DB            builds tests/fixtures/store/workspace-v2.db: the v1
//                                               content plus review marks; run with the schema-v2 code
#include "edit_script.hpp"
#include "document/dataset.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

using namespace blocklens;

namespace {

void limitFileSize(const char* bytes)
{
    std::signal(SIGXFSZ, SIG_IGN); // a write past the limit fails with EFBIG instead of killing us
    rlimit r{};
    r.rlim_cur = r.rlim_max = std::strtoull(bytes, nullptr, 10);
    if (setrlimit(RLIMIT_FSIZE, &r) != 0) {
        std::perror("setrlimit");
        std::exit(2);
    }
}

int edits(const std::string& db, store::Id segmentation, std::size_t n)
{
    auto st = store::Store::open(db, {.mode = store::OpenMode::Existing});
    for (std::size_t i = 0; i < n; ++i) {
        st.applyAnnotationEdit(segmentation, test::scriptedEdit(i), "helper");
        std::printf("committed %zu\n", i + 1);
        std::fflush(stdout);
        // A person's edits come apart. Back to back, this process would take the write lock again
        // within microseconds of releasing it, and on a loaded machine the other connection's
        // busy handler (polling every 1-100 ms) could miss every gap for its 5 s timeout.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return 0;
}

int fillLimited(const std::string& db, const char* limit)
{
    auto st = store::Store::open(db, {.mode = store::OpenMode::Existing});
    const auto documents = st.listDocuments();
    if (documents.empty()) {
        std::puts("no documents");
        return 2;
    }
    limitFileSize(limit);
    const std::string text(64 * 1024, 'x');
    std::size_t stored = 0;
    try {
        for (;;) {
            st.addNote(store::TargetKind::Document, documents.front().id, text + std::to_string(stored), "helper");
            ++stored;
            std::printf("stored %zu\n", stored);
            std::fflush(stdout);
        }
    } catch (const Error& e) {
        std::printf("error: %s\n", e.what());
        return 3;
    }
}

int importLimited(const std::string& db, const std::string& dataset, const char* limit)
{
    auto st = store::Store::open(db, {.mode = store::OpenMode::Existing});
    const Dataset ds = loadDataset(dataset);
    limitFileSize(limit);
    try {
        st.importDataset(ds, {.name = "limited"});
        std::puts("imported");
        return 0;
    } catch (const Error& e) {
        std::printf("error: %s\n", e.what());
        return 3;
    }
}

int readonlyProbe(const std::string& db)
{
    if (geteuid() == 0) {
        // root ignores file permissions: become nobody so a 0444 file really is read-only.
        if (setgid(65534) != 0 || setuid(65534) != 0) {
            std::perror("dropping privileges");
            return 2;
        }
    }
    try {
        auto st = store::Store::open(db);
        std::printf("read-only %d\n", st.readOnly() ? 1 : 0);
        std::printf("documents %lld\n", static_cast<long long>(st.info().documents));
        std::fflush(stdout);
        st.addTag(store::TargetKind::Document, st.listDocuments().front().id, "should-fail");
        std::puts("wrote");
    } catch (const Error& e) {
        std::printf("error: %s\n", e.what());
    }
    return 0;
}

// The v1 fixture: a little of everything the schema holds.
int makeFixtureV1(const std::string& db)
{
    auto st = store::Store::open(db, {.mode = store::OpenMode::OpenOrCreate});
    Dataset ds;
    ds.path = "fixture.jsonl";
    ds.documents.push_back(parseDatasetRecord(
        "{\"id\": \"doc-en\", \"category\": \"book\", \"variant\": \"structured\", \"lang\": \"en\", "
        "\"source\": \"handbook/en/intro.html\", \"text\": \"# Intro\\nFirst paragraph.\\n\\n## Part\\nSecond part "
        "here.\\n\\n## End\\nThe end.\\n\", \"boundaries\": [{\"offset\": 26, \"level\": 2}, {\"offset\": 52, \"level\": 2}]}",
        1, ds.path));
    ds.documents.push_back(parseDatasetRecord(
        "{\"id\": \"doc-fr\", \"category\": \"book\", \"variant\": \"plain\", \"lang\": \"fr\", "
        "\"source\": \"handbook/fr/intro.html\", \"text\": \"Été à Paris.\\nDeuxième ligne — fin.\\nTroisième.\\n\", "
        "\"boundaries\": [{\"offset\": 13, \"level\": 1}]}",
        2, ds.path));
    ds.documents.push_back(parseDatasetRecord(
        "{\"chunks\": [\"def a():\\n    return 1\\n\\n\", \"def b():\\n    return 2\\n\"]}", 3, ds.path));
    const auto imported = st.importDataset(ds, {.name = "fixture"});
    const auto rows = st.datasetRows(imported.datasetId);

    // A correction of row 0 with a history: insert, move, level change, an undone delete.
    const store::Id manual = st.beginCorrection(imported.datasetId, 0, "alice");
    st.applyAnnotationEdit(manual, store::AnnotationEdit::insert(8, 3), "alice");
    st.applyAnnotationEdit(manual, store::AnnotationEdit::move(52, 53), "alice");
    st.applyAnnotationEdit(manual, store::AnnotationEdit::setLevel(26, 1), "bob");
    st.applyAnnotationEdit(manual, store::AnnotationEdit::remove(8), "bob");
    st.undo(manual, "bob");

    // A segmenter's output, its evaluation, and an inference run.
    const Document doc = st.loadDocument(rows[0].documentId);
    const store::Id hyp = st.recordSegmentation(doc, "texttiling", "{\"window\": 20, \"depth\": 1}",
                                                {{26, 1}, {40, 1}}, "blocklens-cli segment");
    store::EvaluationRecord ev;
    ev.segmentationId = hyp;
    ev.referenceId = rows[0].referenceSegmentationId;
    ev.protocol = "free";
    ev.granularity = 2;
    ev.pk = 0.25;
    ev.windowDiff = 0.3;
    ev.precision = 0.5;
    ev.recall = 0.5;
    ev.f1 = 0.5;
    ev.f1Tolerant = 1.0;
    ev.metrics = "{\"k\": 2, \"lines\": 9}";
    const store::Id evaluation = st.recordEvaluation(ev);
    store::RunRecord run;
    run.documentId = rows[0].documentId;
    run.segmentationId = hyp;
    run.modelName = "qwen3-0.6b";
    run.modelHash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    run.modelConfig = "{\"layers\": 28}";
    run.tokenizerHash = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    run.attentionMode = "block";
    run.device = "cpu";
    run.dtype = "float32";
    run.software = "{\"blocklens\": \"0.1.0\"}";
    run.tokens = 24;
    run.blocks = 3;
    run.ttftMs = 12.5;
    run.prefillMs = 11.0;
    run.flops = 1.5e9;
    run.kvBytes = 1 << 20;
    run.cacheHits = 1;
    run.cacheMisses = 2;
    run.logitKl = 0.01;
    run.top1Agreement = 0.98;
    run.divergence = "{\"js\": 0.004}";
    const store::Id runId = st.recordRun(run);

    st.setTokenCount(rows[0].documentId, run.tokenizerHash, 24, "qwen3");
    st.addTag(store::TargetKind::Document, rows[1].documentId, "french");
    st.addTag(store::TargetKind::Run, runId, "baseline");
    st.addTag(store::TargetKind::Evaluation, evaluation, "dev");
    st.addNote(store::TargetKind::Segmentation, manual, "Moved the last section start onto its heading.", "alice");
    st.addNote(store::TargetKind::Dataset, imported.datasetId, "Fixture made by schema version 1.", "store_helper");
    std::printf("fixture %s: schema %d\n", db.c_str(), st.info().schemaVersion);
    return 0;
}

// The v2 fixture: the v1 content plus what version 2 added (review status of a row and of a
// segmentation version).
int makeFixtureV2(const std::string& db)
{
    if (const int rc = makeFixtureV1(db); rc != 0)
        return rc;
    auto st = store::Store::open(db, {.mode = store::OpenMode::Existing});
    const auto dataset = *st.findDataset("fixture");
    const auto rows = st.datasetRows(dataset);
    st.setReviewed(dataset, 1, true, "carol");
    st.setSegmentationReviewed(rows[0].currentSegmentationId, true, "alice");
    st.addNote(store::TargetKind::Dataset, dataset, "Review marks added by schema version 2.", "store_helper");
    std::printf("fixture %s: schema %d\n", db.c_str(), st.info().schemaVersion);
    return 0;
}

int usage()
{
    std::fputs("usage: store_helper (edits DB SEG N | fill-limited DB BYTES | import-limited DB DATASET BYTES |"
               " readonly-probe DB | make-fixture-v1 DB | make-fixture-v2 DB)\n",
               stderr);
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3)
        return usage();
    const std::string cmd = argv[1], db = argv[2];
    try {
        if (cmd == "edits" && argc == 5)
            return edits(db, std::stoll(argv[3]), std::stoull(argv[4]));
        if (cmd == "fill-limited" && argc == 4)
            return fillLimited(db, argv[3]);
        if (cmd == "import-limited" && argc == 5)
            return importLimited(db, argv[3], argv[4]);
        if (cmd == "readonly-probe" && argc == 3)
            return readonlyProbe(db);
        if (cmd == "make-fixture-v2" && argc == 3)
            return makeFixtureV2(argv[2]);
        if (cmd == "make-fixture-v1" && argc == 3)
            return makeFixtureV1(db);
    } catch (const std::exception& e) {
        std::printf("error: %s\n", e.what());
        std::fflush(stdout);
        return 1;
    }
    return usage();
}
