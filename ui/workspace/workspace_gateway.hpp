#pragma once
// The window's one way into the workspace (the SQLite file where corrections, runs and models
// live). Nothing here touches SQLite on the UI thread: reads run on the global thread pool, each
// on a short-lived read-only connection, and come back as futures of values; writes (annotation
// edits, recorded runs) go to the StoreWriter's own thread, in the order they were asked for, on
// its one connection. The features that work on threads of their own (the inference worker,
// retraining, the experiments browser) read and write through it too: read() and write() may be
// called from any thread.
#include "document_loader.hpp"
#include "store/store.hpp"

#include <QFuture>
#include <QObject>
#include <QString>
#include <QtConcurrent/QtConcurrentRun>

#include <functional>

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

    // Runs `read` on the thread pool with a read-only connection to the workspace. When there is
    // no workspace, the file cannot be opened or `read` throws, the value is `failed(message)`.
    // `options` may relax the open (e.g. allowOlderSchema for browsing); its mode stays ReadOnly.
    template <class R>
    QFuture<R> read(std::function<R(store::Store&)> read, std::function<R(const QString& error)> failed,
                    store::OpenOptions options = readOptions()) const
    {
        options.mode = store::OpenMode::ReadOnly;
        return QtConcurrent::run([workspace = path_, read = std::move(read), failed = std::move(failed), options]() -> R {
            QString error = noWorkspace();
            if (!workspace.isEmpty())
                try {
                    auto db = store::Store::open(workspace.toStdString(), options);
                    return read(db);
                } catch (const std::exception& e) {
                    error = QString::fromStdString(e.what());
                }
            return failed(error);
        });
    }
    // Runs `write` on the writer's thread after every write queued before it (edits included);
    // the future's value is "" when it succeeded, else why not (nothing was written then).
    QFuture<QString> write(std::function<void(store::Store&)> write) const;
    // Read-only, no integrity check (reading only; `db check` is the place for that).
    static store::OpenOptions readOptions();

private:
    static QString noWorkspace();
    QString path_;
    StoreWriter* writer_ = nullptr;
};

// The annotator this app works for: the settings' "annotator" (QSettings), else $USER, else
// "annotator". Edits, review marks and adjudication decisions are stored under this name.
QString settingsAnnotator();

} // namespace blocklens::ui
