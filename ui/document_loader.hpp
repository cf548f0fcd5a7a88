#pragma once
// Loads documents and datasets off the UI thread; the result crosses back as a value.
#include "document/dataset.hpp"
#include "document/document.hpp"

#include <QFuture>
#include <QString>

#include <memory>

namespace blocklens::ui {

struct LoadedInput {
    QString path;
    std::shared_ptr<const Document> document; // set for a single document
    std::shared_ptr<const Dataset> dataset;   // set for a JSONL dataset
    // For a dataset opened with a workspace: its id there, and each row's current (corrected)
    // boundaries and review status, so earlier corrections come back on reopen.
    qint64 datasetId = 0;
    std::vector<std::vector<Boundary>> currentBoundaries;
    std::vector<bool> reviewed;
    QString error;                            // set when loading failed; the message names the problem
    bool invalidUtf8 = false;                 // the failure was invalid UTF-8: opening with replacement would work
    QString warning;                          // e.g. invalid bytes replaced
};

bool isDatasetFile(const QString& path);

// Runs on the global thread pool; never throws (errors land in LoadedInput::error). With a
// workspace path, a dataset is imported into that workspace (once: a later open of the same
// file finds it) and comes back with its corrections.
QFuture<LoadedInput> loadInputAsync(const QString& path, const QString& workspace = {}, bool replaceInvalidUtf8 = false);
LoadedInput loadInput(const QString& path, const QString& workspace = {}, bool replaceInvalidUtf8 = false);

} // namespace blocklens::ui
