#pragma once
// The window's one way into the workspace (the SQLite file where corrections, runs and models
// live). Nothing here touches SQLite on the UI thread: reads run on the global thread pool and
// come back as futures of values, and edits go to the StoreWriter's own thread in order.
// Components that own a worker thread (the inference worker, retraining, the experiments
// browser) are given path() and open their own connection there.
#include "document_loader.hpp"

#include <QFuture>
#include <QObject>
#include <QString>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace blocklens::ui {

class StoreWriter;

// Another annotator's saved version of a document: "name (date)" and its boundaries.
using AnnotatorVersion = std::pair<QString, std::vector<Boundary>>;

class WorkspaceGateway : public QObject {
    Q_OBJECT
public:
    // `path`: the workspace file (empty: none; then nothing is saved and reads find nothing).
    explicit WorkspaceGateway(const QString& path, QObject* parent = nullptr);
    ~WorkspaceGateway() override; // finishes the queued writes

    const QString& path() const { return path_; }
    bool isOpen() const { return !path_.isEmpty(); }
    // The writer of annotation edits (null without a workspace).
    StoreWriter* writer() const { return writer_; }
    // Blocks until every write queued so far is done (closing the window, retraining).
    void flush();

    // Loads a document or dataset; a dataset is attached to the workspace (dataset_attach.hpp)
    // and comes back with its corrections. Never fails: errors land in LoadedInput::error.
    QFuture<LoadedInput> openInput(const QString& file, bool replaceInvalidUtf8 = false) const;
    // The manual versions of `document` saved by annotators other than `author`, newest last.
    // Empty without a workspace or on a read error (the comparison is a convenience).
    QFuture<std::vector<AnnotatorVersion>> otherAnnotators(std::shared_ptr<const Document> document, const QString& author) const;
    // The first row of a dataset assigned to `annotator` that they have not done yet
    // (Store::nextAssignedRow): "my next document". None without a workspace, without an
    // assignment of the dataset, or on a read error (the row opened first is then the first).
    QFuture<std::optional<std::size_t>> nextAssignedRow(qint64 datasetId, const QString& annotator) const;

private:
    QString path_;
    StoreWriter* writer_ = nullptr;
};

// The annotator this app works for: the settings' "annotator" (QSettings), else $USER, else
// "annotator". Edits, review marks and adjudication decisions are stored under this name.
QString settingsAnnotator();

} // namespace blocklens::ui
