#include "store/schema.hpp"

namespace blocklens::store {
namespace {

// Version 1: the initial schema. Times are ISO 8601 UTC text with milliseconds.
// Offsets are code points; levels 1 (coarsest) .. 9.
constexpr const char* kV1 = R"SQL(
CREATE TABLE schema_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    software    TEXT NOT NULL
);

CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    content_hash  TEXT NOT NULL UNIQUE,          -- SHA-256 of the UTF-8 text, hex
    external_id   TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    category      TEXT NOT NULL DEFAULT '',
    variant       TEXT NOT NULL DEFAULT '',
    lang          TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL DEFAULT 'text',  -- text | markdown | code
    code_language TEXT NOT NULL DEFAULT '',
    length_cp     INTEGER NOT NULL CHECK (length_cp >= 0),
    length_bytes  INTEGER NOT NULL CHECK (length_bytes >= 0),
    text          TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE document_token_counts (
    document_id    INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    tokenizer_hash TEXT NOT NULL,
    tokenizer_name TEXT NOT NULL DEFAULT '',
    tokens         INTEGER NOT NULL CHECK (tokens >= 0),
    PRIMARY KEY (document_id, tokenizer_hash)
) WITHOUT ROWID;

CREATE TABLE segmentations (
    id                 INTEGER PRIMARY KEY,
    document_id        INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    segmenter          TEXT NOT NULL,             -- manual | reference | a segmenter's name
    params             TEXT NOT NULL DEFAULT '{}', -- JSON object
    author             TEXT NOT NULL DEFAULT '',
    parent_id          INTEGER REFERENCES segmentations(id) ON DELETE SET NULL,
    initial_boundaries TEXT NOT NULL DEFAULT '[]', -- JSON [[offset, level], ...]: where replay starts
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX segmentations_by_document ON segmentations(document_id, id);
CREATE INDEX segmentations_by_parent ON segmentations(parent_id);

-- The current boundary set of each segmentation.
CREATE TABLE boundaries (
    segmentation_id INTEGER NOT NULL REFERENCES segmentations(id) ON DELETE CASCADE,
    offset          INTEGER NOT NULL CHECK (offset > 0),
    level           INTEGER NOT NULL CHECK (level BETWEEN 1 AND 9),
    PRIMARY KEY (segmentation_id, offset)
) WITHOUT ROWID;

-- Every boundary edit, so history can be replayed and undone.
CREATE TABLE annotation_events (
    id              INTEGER PRIMARY KEY,
    segmentation_id INTEGER NOT NULL REFERENCES segmentations(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('insert', 'delete', 'move', 'level')),
    before_offset   INTEGER,
    before_level    INTEGER,
    after_offset    INTEGER,
    after_level     INTEGER,
    author          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'undone', 'discarded')),
    undone_at       TEXT,
    undone_by       TEXT,
    UNIQUE (segmentation_id, seq)
);

CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    source_path TEXT NOT NULL DEFAULT '',
    row_count   INTEGER NOT NULL DEFAULT 0,
    imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE dataset_rows (
    dataset_id                INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    row_index                 INTEGER NOT NULL,
    document_id               INTEGER NOT NULL REFERENCES documents(id),
    record_id                 TEXT NOT NULL DEFAULT '',
    category                  TEXT NOT NULL DEFAULT '',
    variant                   TEXT NOT NULL DEFAULT '',
    lang                      TEXT NOT NULL DEFAULT '',
    source                    TEXT NOT NULL DEFAULT '',
    reference_segmentation_id INTEGER NOT NULL REFERENCES segmentations(id),
    current_segmentation_id   INTEGER NOT NULL REFERENCES segmentations(id),
    PRIMARY KEY (dataset_id, row_index)
) WITHOUT ROWID;
CREATE INDEX dataset_rows_by_document ON dataset_rows(document_id);

CREATE TABLE evaluations (
    id                INTEGER PRIMARY KEY,
    segmentation_id   INTEGER NOT NULL REFERENCES segmentations(id) ON DELETE CASCADE,
    reference_id      INTEGER NOT NULL REFERENCES segmentations(id) ON DELETE CASCADE,
    protocol          TEXT NOT NULL DEFAULT '',
    granularity       INTEGER NOT NULL DEFAULT 0,
    pk                REAL,
    windowdiff        REAL,
    precision         REAL,
    recall            REAL,
    f1                REAL,
    f1_tolerant       REAL,
    metrics           TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX evaluations_by_segmentation ON evaluations(segmentation_id);

CREATE TABLE inference_runs (
    id              INTEGER PRIMARY KEY,
    document_id     INTEGER REFERENCES documents(id) ON DELETE SET NULL,
    segmentation_id INTEGER REFERENCES segmentations(id) ON DELETE SET NULL,
    model_name      TEXT NOT NULL DEFAULT '',
    model_hash      TEXT NOT NULL DEFAULT '',
    model_config    TEXT NOT NULL DEFAULT '{}',
    tokenizer_hash  TEXT NOT NULL DEFAULT '',
    attention_mode  TEXT NOT NULL DEFAULT '',
    device          TEXT NOT NULL DEFAULT '',
    dtype           TEXT NOT NULL DEFAULT '',
    software        TEXT NOT NULL DEFAULT '{}',
    tokens          INTEGER,
    blocks          INTEGER,
    ttft_ms         REAL,
    prefill_ms      REAL,
    flops           REAL,
    kv_bytes        INTEGER,
    cache_hits      INTEGER,
    cache_misses    INTEGER,
    logit_kl        REAL,
    top1_agreement  REAL,
    divergence      TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX inference_runs_by_model ON inference_runs(model_hash);
CREATE INDEX inference_runs_by_document ON inference_runs(document_id);

-- Free-form tags and notes on documents, datasets, segmentations, evaluations and runs.
CREATE TABLE tags (
    target_kind TEXT NOT NULL CHECK (target_kind IN ('document', 'dataset', 'segmentation', 'evaluation', 'run')),
    target_id   INTEGER NOT NULL,
    tag         TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (target_kind, target_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags(tag);

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('document', 'dataset', 'segmentation', 'evaluation', 'run')),
    target_id   INTEGER NOT NULL,
    author      TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX notes_by_target ON notes(target_kind, target_id);
)SQL";

// Version 2: review status. An annotator marks a dataset row (its current boundaries) or a
// segmentation version as reviewed; who and when are kept.
constexpr const char* kV2 = R"SQL(
ALTER TABLE dataset_rows ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0 CHECK (reviewed IN (0, 1));
ALTER TABLE dataset_rows ADD COLUMN reviewed_by TEXT;
ALTER TABLE dataset_rows ADD COLUMN reviewed_at TEXT;
ALTER TABLE segmentations ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0 CHECK (reviewed IN (0, 1));
ALTER TABLE segmentations ADD COLUMN reviewed_by TEXT;
ALTER TABLE segmentations ADD COLUMN reviewed_at TEXT;
)SQL";

// Version 3: assignment of a dataset's rows to annotators (issue 21). One plan per dataset (who,
// what share of rows is shared, the seed that made it reproducible) and one row per (row,
// annotator) it assigns.
constexpr const char* kV3 = R"SQL(
CREATE TABLE assignment_plans (
    dataset_id  INTEGER PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
    annotators  TEXT NOT NULL,             -- JSON array of names, in the order given
    overlap     REAL NOT NULL CHECK (overlap >= 0 AND overlap <= 1),
    seed        INTEGER NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE assignments (
    dataset_id INTEGER NOT NULL,
    row_index  INTEGER NOT NULL,
    annotator  TEXT NOT NULL CHECK (annotator <> ''),
    PRIMARY KEY (dataset_id, row_index, annotator),
    FOREIGN KEY (dataset_id, row_index) REFERENCES dataset_rows(dataset_id, row_index) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX assignments_by_annotator ON assignments(dataset_id, annotator, row_index);
)SQL";

// Version 4: adjudication (issue 21). A reviewer accepts or rejects each boundary the annotators
// disagree on; every decision is kept with who and when, and an undone one stays as 'undone'.
// The adjudicated version itself is a segmentation (segmenter 'adjudicated') whose boundaries are
// its initial ones (the majority) with the active decisions applied in order.
constexpr const char* kV4 = R"SQL(
CREATE TABLE adjudication_decisions (
    id              INTEGER PRIMARY KEY,
    segmentation_id INTEGER NOT NULL REFERENCES segmentations(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    offset          INTEGER NOT NULL CHECK (offset > 0),
    level           INTEGER NOT NULL CHECK (level BETWEEN 1 AND 9),
    decision        TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
    author          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'undone')),
    undone_at       TEXT,
    undone_by       TEXT,
    UNIQUE (segmentation_id, seq)
);
)SQL";

constexpr Migration kMigrations[] = {
    {1, "initial schema: documents, datasets, segmentations, annotation events, evaluations, runs, tags, notes", kV1},
    {2, "review status of dataset rows and segmentations (reviewed, reviewed_by, reviewed_at)", kV2},
    {3, "assignment of dataset rows to annotators (assignment_plans, assignments)", kV3},
    {4, "adjudication decisions (adjudication_decisions)", kV4},
};

} // namespace

std::span<const Migration> migrations() { return kMigrations; }

} // namespace blocklens::store
