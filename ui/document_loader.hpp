#pragma once
// Reads a document or dataset file into a value that crosses back to the UI thread, with a
// message a user can act on when it cannot (invalid UTF-8 gets an "open anyway" remedy). What a
// workspace makes of a dataset is not decided here: see workspace/dataset_attach.hpp, which the
// WorkspaceGateway runs through the `attach` hook.
#include "document/dataset.hpp"
#include "document/document.hpp"

#include <QString>

#include <functional>
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

// Never throws (errors land in LoadedInput::error). `attach`, when given, runs on a loaded
// dataset (it fills datasetId, currentBoundaries and reviewed); what it throws is reported like a
// file that cannot be read. Call it off the UI thread (WorkspaceGateway::openInput does).
LoadedInput loadInput(const QString& path, bool replaceInvalidUtf8 = false,
                      const std::function<void(LoadedInput&)>& attach = {});

} // namespace blocklens::ui
