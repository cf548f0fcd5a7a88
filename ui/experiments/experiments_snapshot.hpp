#pragma once
// Everything the experiments browser shows, read from a workspace in one go on a worker thread
// (a big store takes a while to read; the UI thread never touches SQLite here). Opened read-only:
// browsing never changes the file.
#include "store/store.hpp"

#include <QFuture>
#include <QMetaType>
#include <QString>

#include <map>
#include <vector>

namespace blocklens::ui {

struct ExperimentsSnapshot {
    QString path;
    QString error;                                // why the store could not be read ("" when fine)
    std::vector<store::RunRecord> runs;           // oldest first
    std::map<store::Id, store::DocumentInfo> documents;
    store::Table evaluations;                     // Store::queryTable("evaluations")
    std::vector<store::MetricsGroup> metrics;     // aggregateMetrics(SegmenterAndCategory)
};

ExperimentsSnapshot readExperiments(const QString& path);
QFuture<ExperimentsSnapshot> readExperimentsAsync(const QString& path);

// The segmenter a run's blocks came from, as recorded in its divergence JSON ("" when none: the
// reference run of a pair, whose numbers do not depend on the blocks' source).
QString runSegmenter(const store::RunRecord& run);
// The document's display name: its external id, or "#id", or "" for runs without a document.
QString runDocument(const store::RunRecord& run, const std::map<store::Id, store::DocumentInfo>& documents);

} // namespace blocklens::ui

Q_DECLARE_METATYPE(blocklens::ui::ExperimentsSnapshot)
