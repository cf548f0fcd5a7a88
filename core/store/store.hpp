#pragma once
// The experiment store: one SQLite file per workspace that keeps documents, imported datasets,
// segmentation versions with their full annotation history, evaluations, inference runs, tags
// and notes. The desktop app and the CLI share the file.
//
// Rules (see also ARCHITECTURE.md, "Errors"):
// - Every write is one transaction taken with BEGIN IMMEDIATE (one user edit = one transaction).
//   A write that fails (disk full, read-only file, a lock held longer than busy_timeout) throws
//   Error with the file path in its context and rolls back: what was stored before is intact.
// - Opening never writes over a file that is not a BlockLens workspace, a corrupt file (checked
//   with PRAGMA quick_check) or a file written by a newer BlockLens: each gives a clear Error and
//   the file is left unchanged.
// - An older workspace is upgraded in place on open, in one transaction, after a backup copy
//   PATH.v<old>.bak (PATH.v<old>.bak.1, ... if that exists) has been written.
// - The database runs in WAL mode with foreign keys on and synchronous=FULL: readers never block
//   the writer and a committed edit survives a crash of the process (and of the machine).
// - A Store is one connection: use it from one thread at a time. Any number of Store objects,
//   in threads or processes, may share one file.
// - Offsets are code points (see document.hpp); boundary sets are ascending with levels 1..9.
#include "document/dataset.hpp"
#include "document/document.hpp"
#include "store/table.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::store {

namespace sql {
class WriteTransaction;
}

using Id = std::int64_t;

// The schema this build reads and writes. Migration N turns a version N-1 file into version N.
inline constexpr int kSchemaVersion = 4;
// PRAGMA application_id of a BlockLens workspace ("BLKL").
inline constexpr std::int32_t kApplicationId = 0x424C4B4C;

// $XDG_DATA_HOME/blocklens/workspace.db, or ~/.local/share/blocklens/workspace.db.
std::filesystem::path defaultWorkspacePath();
// Whether path is defaultWorkspacePath(). Store::open creates the default workspace's missing
// directories itself, so every path that writes to it works on a fresh home.
bool isDefaultWorkspacePath(const std::filesystem::path& path);
// The path given by an option if any, else $BLOCKLENS_DB if set, else defaultWorkspacePath().
std::filesystem::path resolveWorkspacePath(const std::optional<std::string>& option);

enum class OpenMode {
    OpenOrCreate, // create a new workspace if the file does not exist (or is an empty file)
    Existing,     // the file must already be a BlockLens workspace
    ReadOnly,     // never write to the file (no upgrade either)
};

struct OpenOptions {
    OpenMode mode = OpenMode::OpenOrCreate;
    int busyTimeoutMs = 5000;    // how long a write waits for another writer's lock
    bool quickCheck = true;      // PRAGMA quick_check on open
    bool createDirectories = false; // create missing parent directories (always done for the default path)
    // ReadOnly only: open a file of an older schema without upgrading it. Only info() and
    // check() are meaningful on such a store (for `db info` / `db check`).
    bool allowOlderSchema = false;
};

// ---- records --------------------------------------------------------------------------------

struct DocumentInfo {
    Id id = 0;
    std::string contentHash; // SHA-256 of the UTF-8 text
    std::string externalId;  // the dataset's id, or the first 12 hex digits of the hash
    std::string source, category, variant, lang, kind;
    std::size_t length = 0;  // code points
    std::size_t bytes = 0;
    std::string createdAt;   // ISO 8601 UTC
};

struct DatasetInfo {
    Id id = 0;
    std::string name;
    std::string sourcePath;
    std::size_t rows = 0;
    std::size_t reviewedRows = 0;
    std::string importedAt;
};

struct DatasetRow {
    std::size_t index = 0; // 0-based row order in the imported file
    Id documentId = 0;
    DocumentMeta meta;     // the row's own metadata (id, category, variant, lang, source)
    Id referenceSegmentationId = 0; // the boundaries as imported (never edited)
    Id currentSegmentationId = 0;   // the corrected version (== reference until corrected)
    bool reviewed = false;          // an annotator checked the current boundaries (schema v2)
    std::string reviewedBy, reviewedAt;
};

struct ImportOptions {
    std::string name;              // dataset name; default: the file name without extension
    // Optional token counts per document, stored under tokenizerHash.
    std::function<std::size_t(const Document&)> countTokens;
    std::string tokenizerHash, tokenizerName;
};

struct ImportResult {
    Id datasetId = 0;
    std::size_t rows = 0;
    std::size_t newDocuments = 0;    // documents not in the workspace before
    std::size_t boundaries = 0;
};

struct NewSegmentation {
    Id documentId = 0;
    std::string segmenter = "manual"; // "manual", "reference", or a segmenter's name
    std::string params = "{}";        // JSON object of the segmenter's parameters
    std::string author;               // who (or which program) made it
    std::optional<Id> parentId;       // the version it was derived from
    std::vector<Boundary> boundaries;
};

struct SegmentationInfo {
    Id id = 0;
    Id documentId = 0;
    std::optional<Id> parentId;
    std::string segmenter, params, author, createdAt;
    std::size_t boundaryCount = 0;
    std::size_t activeEdits = 0; // annotation events in effect (not undone)
    bool reviewed = false;       // schema v2
    std::string reviewedBy, reviewedAt;
};

// One boundary edit made by a person in the annotation view.
struct AnnotationEdit {
    enum class Kind { Insert, Delete, Move, Level };
    Kind kind = Kind::Insert;
    std::size_t offset = 0;    // the new boundary (Insert) or the existing one (Delete, Move, Level)
    std::size_t newOffset = 0; // Move: where it goes
    int level = 1;             // Insert: its level; Level: the new level

    static AnnotationEdit insert(std::size_t offset, int level) { return {Kind::Insert, offset, 0, level}; }
    static AnnotationEdit remove(std::size_t offset) { return {Kind::Delete, offset, 0, 0}; }
    static AnnotationEdit move(std::size_t from, std::size_t to) { return {Kind::Move, from, to, 0}; }
    static AnnotationEdit setLevel(std::size_t offset, int level) { return {Kind::Level, offset, 0, level}; }
};
std::string_view toString(AnnotationEdit::Kind kind); // insert | delete | move | level

struct AnnotationEvent {
    Id id = 0;
    Id segmentationId = 0;
    std::int64_t seq = 0; // 1, 2, ... per segmentation
    AnnotationEdit::Kind kind = AnnotationEdit::Kind::Insert;
    std::optional<Boundary> before, after; // Insert has no before, Delete no after
    std::string author, createdAt;
    enum class State { Active, Undone, Discarded } state = State::Active; // Discarded: undone, then overwritten by a new edit
    std::string undoneAt;
};

struct SegmentationDiff {
    std::vector<Boundary> added;   // in b, not in a (by offset)
    std::vector<Boundary> removed; // in a, not in b
    std::vector<std::pair<Boundary, Boundary>> levelChanged; // same offset, a's and b's level
    std::size_t unchanged = 0;
};

struct EvaluationRecord {
    Id segmentationId = 0;  // the hypothesis
    Id referenceId = 0;     // the reference segmentation
    std::string protocol;   // oracle-count | free | ...
    int granularity = 0;    // reference level L (boundaries with level <= L); 0 = all
    std::optional<double> pk, windowDiff, precision, recall, f1, f1Tolerant; // f1Tolerant: t = 1 line
    std::string metrics = "{}"; // JSON object with anything else
};

struct RunRecord {
    Id id = 0; // set when read back
    std::optional<Id> documentId, segmentationId;
    std::string modelName, modelHash, modelConfig = "{}"; // config: JSON
    std::string tokenizerHash;
    std::string attentionMode; // full | block | ...
    std::string device, dtype;
    std::string software = "{}"; // JSON: versions of BlockLens, libtorch, CUDA, ...
    std::optional<std::int64_t> tokens, blocks;
    std::optional<double> ttftMs, prefillMs, flops;
    std::optional<std::int64_t> kvBytes, cacheHits, cacheMisses;
    std::optional<double> logitKl, top1Agreement;
    std::string divergence = "{}"; // JSON: further divergence metrics
    std::string createdAt;         // set when read back
};

struct RunFilter {
    std::string model;              // model name or hash (prefix); empty = any
    std::optional<Id> documentId;
    std::size_t limit = 0;          // 0 = all; newest first
};

enum class GroupBy { Segmenter, Category, SegmenterAndCategory };

struct MetricsGroup {
    std::string segmenter; // empty when grouped by category only
    std::string category;  // "category/variant"; empty when grouped by segmenter only
    std::string protocol;
    int granularity = 0;
    std::size_t evaluations = 0;
    std::optional<double> pk, windowDiff, precision, recall, f1, f1Tolerant; // means
};

// Bounds on a read-only query (Store::select): past any of them it stops with an Error that
// says which, and the workspace is untouched. A recursive CTE can run forever, or return rows
// forever; SQLite is asked every few thousand steps (sqlite3_progress_handler).
struct QueryLimits {
    std::chrono::milliseconds timeLimit{30000}; // 0: no limit
    std::function<bool()> cancelled;           // e.g. Ctrl+C was pressed; may be empty
    std::uint64_t maxResultBytes = 1ull << 30; // the rows kept in memory (about)
};

enum class TargetKind { Document, Dataset, Segmentation, Evaluation, Run };
std::string_view toString(TargetKind kind);

struct Note {
    Id id = 0;
    TargetKind target = TargetKind::Document;
    Id targetId = 0;
    std::string author, text, createdAt;
};

// Who annotates which rows of a dataset (schema v3); made by campaign/assignment.hpp.
struct AssignmentPlan {
    std::vector<std::string> annotators; // in the order given
    double overlap = 0;                  // share of rows given to two annotators
    std::uint64_t seed = 0;
    std::string createdBy, createdAt;
    std::vector<std::vector<std::string>> rows; // per row (import order): its annotators (read back by name)
};

// A reviewer's decision on one contested boundary of an adjudicated version (schema v4).
struct AdjudicationDecision {
    Id id = 0;
    Id segmentationId = 0;
    std::int64_t seq = 0;  // 1, 2, ... per adjudicated version
    Boundary boundary;     // accepted: kept at this level; rejected: no boundary at this offset
    bool accepted = false;
    std::string author, createdAt;
    bool undone = false;
    std::string undoneAt;
};

struct StoreInfo {
    std::string path;
    int schemaVersion = 0;    // of the file (older than kSchemaVersion only with allowOlderSchema)
    std::string createdWith;  // BlockLens version that created the file
    std::string journalMode;
    bool readOnly = false;
    std::int64_t fileBytes = 0;
    std::int64_t documents = 0, datasets = 0, segmentations = 0, annotationEvents = 0, evaluations = 0,
                 runs = 0, tags = 0, notes = 0;
    std::vector<std::pair<int, std::string>> migrations; // version, applied-at
    std::string upgradedFrom; // set when this open upgraded the file: "1 (backup: PATH.v1.bak)"
};

struct CheckResult {
    bool ok = true;
    std::vector<std::string> problems; // integrity_check and foreign_key_check messages
};

// ---- the store --------------------------------------------------------------------------------

class Store {
public:
    // Opens (creating, upgrading as the options allow) the workspace at `path`. Throws Error
    // naming the file for: a missing file (Existing/ReadOnly), a file that is not SQLite, a
    // SQLite file that is not a BlockLens workspace, a truncated or corrupt file, a newer
    // schema, an older schema that cannot be upgraded (read-only).
    static Store open(const std::filesystem::path& path, const OpenOptions& options = {});

    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;
    ~Store();

    const std::filesystem::path& path() const;
    bool readOnly() const;
    StoreInfo info();
    CheckResult check(bool full = true); // integrity_check (or quick_check) + foreign_key_check

    // -- documents and datasets
    Id addDocument(const Document& doc); // by content hash: returns the existing id if known
    std::optional<Id> findDocument(const std::string& contentHashOrPrefix);
    DocumentInfo documentInfo(Id documentId);
    std::vector<DocumentInfo> listDocuments();
    Document loadDocument(Id documentId); // text and the metadata first stored with it
    void setTokenCount(Id documentId, const std::string& tokenizerHash, std::size_t tokens,
                       const std::string& tokenizerName = {});
    std::optional<std::size_t> tokenCount(Id documentId, const std::string& tokenizerHash);

    // One transaction for the whole dataset; each row's boundaries become a "reference"
    // segmentation (shared with an earlier import of the same text and boundaries).
    ImportResult importDataset(const Dataset& dataset, const ImportOptions& options = {},
                               const Progress& progress = {});
    std::optional<Id> findDataset(const std::string& nameOrId);
    std::vector<DatasetInfo> listDatasets();
    std::vector<DatasetRow> datasetRows(Id datasetId);
    // Writes the dataset in the record format of shared/data/README.md (or the chunks form),
    // one line per row in import order, with each row's current (corrected) boundaries, or the
    // imported ones if `original`; only reviewed rows if `reviewedOnly`. Text and metadata are
    // written as imported. Returns the number of rows written.
    std::size_t exportDataset(Id datasetId, std::ostream& out, RecordForm form = RecordForm::Record,
                              bool original = false, bool reviewedOnly = false);
    // The same with any per-row formatter (one JSON object, no newline), e.g. the ecosystem's
    // block formats (document/exchange_formats.hpp).
    using RecordFormatter = std::function<std::string(const Document&, const std::vector<Boundary>&)>;
    std::size_t exportDataset(Id datasetId, std::ostream& out, const RecordFormatter& format, bool original = false,
                              bool reviewedOnly = false);
    // Marks a row's current boundaries as reviewed (or not), by `author`, now.
    void setReviewed(Id datasetId, std::size_t row, bool reviewed, const std::string& author);

    // -- segmentations
    Id addSegmentation(const NewSegmentation& segmentation);
    // Stores a segmenter's output for a document (added to the workspace if new). For `segment`.
    Id recordSegmentation(const Document& doc, const std::string& segmenter, const std::string& paramsJson,
                          const std::vector<Boundary>& boundaries, const std::string& author = {});
    // The id of a "reference" segmentation of the document with exactly doc.reference(),
    // added (with the document) if there is none. For `eval`.
    Id ensureReference(const Document& doc);
    SegmentationInfo segmentationInfo(Id segmentationId);
    std::vector<Boundary> boundaries(Id segmentationId);
    std::vector<SegmentationInfo> segmentationHistory(Id documentId); // oldest first
    SegmentationDiff diff(Id a, Id b);
    // A new manual version copying `from`'s boundaries, with parent `from`.
    Id forkSegmentation(Id from, const std::string& author);
    // Makes row `row` of a dataset editable: forks its current version into a manual one unless
    // it already is manual. Returns the segmentation to edit (the row's current one).
    Id beginCorrection(Id datasetId, std::size_t row, const std::string& author);

    void setSegmentationReviewed(Id segmentationId, bool reviewed, const std::string& author);

    // -- assignment (schema v3)
    // Stores a dataset's plan, one row per (row, annotator), in one transaction. A dataset that
    // already has a plan keeps it unless `replace` (its old plan is then removed with the new
    // one's writing); plan.rows must have one entry per dataset row.
    void setAssignmentPlan(Id datasetId, const AssignmentPlan& plan, bool replace = false);
    std::optional<AssignmentPlan> assignmentPlan(Id datasetId);
    // The first row assigned to `annotator` that is not done: done means the row is marked
    // reviewed by them, or they made a manual version of its document that is marked reviewed.
    std::optional<std::size_t> nextAssignedRow(Id datasetId, const std::string& annotator);

    // -- adjudication (schema v4): segmentations with segmenter "adjudicated"
    // Records a reviewer's decision on a boundary of an adjudicated version and applies it to the
    // version's boundaries (accept: a boundary at that offset and level; reject: none there), in
    // one transaction. Throws Error if the segmentation is not an adjudicated one or the offset is
    // outside the document. Returns the decision's id.
    Id recordAdjudicationDecision(Id segmentationId, Boundary boundary, bool accept, const std::string& author);
    // Undoes the latest decision in effect (it stays stored as undone, by `author`, now) and
    // rebuilds the boundaries; false when there is none.
    bool undoAdjudicationDecision(Id segmentationId, const std::string& author);
    std::vector<AdjudicationDecision> adjudicationDecisions(Id segmentationId); // every one, in order
    // The newest adjudicated version of a document, if any.
    std::optional<Id> latestAdjudicated(Id documentId);
    // Writes, in import order, the rows of a dataset whose document has an adjudicated version,
    // with that version's boundaries. Returns the number of rows written.
    std::size_t exportAdjudicated(Id datasetId, std::ostream& out, const RecordFormatter& format);

    // -- annotation (only "manual" segmentations are editable)
    // Validates the edit against the current boundaries, then writes the event and the new
    // boundary set in one transaction. Discards undone events (no redo after a new edit).
    // Returns the event id.
    Id applyAnnotationEdit(Id segmentationId, const AnnotationEdit& edit, const std::string& author);
    // Undo the latest edit in effect / redo the latest undone one; the boundary set is rebuilt by
    // replaying the history. Return false when there is nothing to undo / redo.
    bool undo(Id segmentationId, const std::string& author);
    bool redo(Id segmentationId, const std::string& author);
    std::vector<AnnotationEvent> history(Id segmentationId); // every event, in order
    // The boundaries after the first `events` events in effect (all if nullopt), by replay from
    // the boundaries the segmentation was created with.
    std::vector<Boundary> replay(Id segmentationId, std::optional<std::size_t> events = std::nullopt);

    // -- evaluations and runs
    Id recordEvaluation(const EvaluationRecord& evaluation);
    Id recordRun(const RunRecord& run);
    std::vector<RunRecord> listRuns(const RunFilter& filter = {});
    std::vector<MetricsGroup> aggregateMetrics(GroupBy groupBy, const std::string& protocol = {});

    // -- tags and notes (attachable to documents, datasets, segmentations, evaluations, runs)
    void addTag(TargetKind target, Id targetId, const std::string& tag);
    void removeTag(TargetKind target, Id targetId, const std::string& tag);
    std::vector<std::string> tags(TargetKind target, Id targetId);
    Id addNote(TargetKind target, Id targetId, const std::string& text, const std::string& author = {});
    std::vector<Note> notes(TargetKind target, Id targetId);

    // -- tables for export (CSV / JSONL)
    // name: runs | evaluations | segmentations | documents | datasets | rows | events | metrics
    Table queryTable(const std::string& name);
    // Any read-only SQL (SELECT / WITH / read-only PRAGMA); a statement that writes is refused.
    Table select(const std::string& sql, const QueryLimits& limits = {});

    // Groups many writes into one transaction, e.g. recording every segmentation and evaluation
    // of a dataset run: all are stored at commit(), or none. Each store call inside stays
    // all-or-nothing on its own (a savepoint): one that throws undoes only its own changes and the
    // batch may go on; after a disk or I/O error SQLite rolls the whole batch back and later
    // writes through it (and commit()) are refused with an Error.
    //     Store::Batch batch(store);
    //     for (...) store.recordEvaluation(...);
    //     batch.commit();
    class Batch {
    public:
        explicit Batch(Store& store);
        ~Batch(); // rolls back unless committed
        Batch(const Batch&) = delete;
        Batch& operator=(const Batch&) = delete;
        void commit();

    private:
        Store& store_;
        std::unique_ptr<sql::WriteTransaction> tx_;
        bool outer_ = false;
    };

    struct Impl;

private:
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

} // namespace blocklens::store
