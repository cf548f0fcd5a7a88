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
    QString error;                            // set when loading failed; the message names the problem
    QString warning;                          // e.g. invalid bytes replaced
};

bool isDatasetFile(const QString& path);

// Runs on the global thread pool; never throws (errors land in LoadedInput::error).
QFuture<LoadedInput> loadInputAsync(const QString& path, bool replaceInvalidUtf8 = false);
LoadedInput loadInput(const QString& path, bool replaceInvalidUtf8 = false);

} // namespace blocklens::ui
