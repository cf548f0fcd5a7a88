#pragma once
// Everything the experiments browser shows, read from a store in one go on a worker thread (a big
// store takes a while to read; the UI thread never touches SQLite here): the workspace through
// its gateway, another store file directly. Opened read-only: browsing never changes the file.
#include "store/store.hpp"

#include <QFuture>
#include <QMetaType>
#include <QString>

#include <map>
#include <optional>
#include <vector>

namespace blocklens::ui {

struct ExperimentsSnapshot {
    QString path;
    QString error;                                // why the store could not be read ("" when fine)
    std::vector<store::RunRecord> runs;           // oldest first
    std::map<store::Id, store::DocumentInfo> documents;
    std::map<store::Id, QString> datasetRows;    // a document's first dataset row: "set.jsonl row 3" (from 1)
    store::Table evaluations;                     // Store::queryTable("evaluations")
    std::vector<store::MetricsGroup> metrics;     // aggregateMetrics(SegmenterAndCategory)
};

// How the browser opens a store: read-only, no integrity check, an older schema as it is.
store::OpenOptions browseOptions();
// Reads everything from an open store (the workspace, through WorkspaceGateway::read); throws
// what the store throws.
ExperimentsSnapshot readExperiments(store::Store& store, const QString& path);
// Opens another store file (browseOptions) and reads it; errors land in the snapshot's error.
ExperimentsSnapshot readExperiments(const QString& path);
QFuture<ExperimentsSnapshot> readExperimentsAsync(const QString& path);
ExperimentsSnapshot failedSnapshot(const QString& path, const QString& error);

// The segmenter a run's blocks came from, as recorded in its divergence JSON ("" when none: the
// reference run of a pair, whose numbers do not depend on the blocks' source).
QString runSegmenter(const store::RunRecord& run);
// A document's display name: its file's name or dataset source ("mixed/d/26"), else its dataset
// id, else its dataset row ("set.jsonl row 3", from `datasetRows`), else the external id (the
// first digits of the content hash), else "#id": a hash only when there is no name at all.
QString documentName(store::Id id, const std::map<store::Id, store::DocumentInfo>& documents,
                     const std::map<store::Id, QString>& datasetRows = {});
// The run's document by name (documentName), or "" for runs without a document.
QString runDocument(const store::RunRecord& run, const std::map<store::Id, store::DocumentInfo>& documents,
                    const std::map<store::Id, QString>& datasetRows = {});

// A run's attention as a repair family and its setting (issue 18), read from the recorded mode,
// which is engine::variantName's text ("block-cached+recompute-first:16"). Families: "full",
// "block", "block-cached" (plain block attention, no repair), "sink", "recompute-first",
// "recompute-frac". The setting: N of sink:N (sink:bos is one token: 1), k, r; none for the
// plain modes. Read here rather than with engine::parseAttentionVariant so that browsing needs no
// engine (a build without libtorch reads stores recorded elsewhere); a name it does not know is
// its own family without a setting.
struct RunRepair {
    QString family;
    QString settingText;           // as recorded ("16", "0.15", "bos"); "" for none
    std::optional<double> setting; // its value
};
RunRepair runRepair(const store::RunRecord& run);

} // namespace blocklens::ui

Q_DECLARE_METATYPE(blocklens::ui::ExperimentsSnapshot)
