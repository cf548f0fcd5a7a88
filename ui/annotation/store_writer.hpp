#pragma once
// Writes annotation edits to the workspace on a thread of its own, in the order they were made,
// so the UI never waits on SQLite (an edit commits with a full fsync). Each document being edited
// is an "edit session" keyed by a number the UI picks; the writer resolves it to a segmentation
// id in the store the first time it is used.
#include "document/document.hpp"
#include "store/store.hpp"

#include <QFuture>
#include <QObject>
#include <QThread>

#include <functional>

#include <map>
#include <memory>
#include <optional>

namespace blocklens::ui {

class StoreWriter : public QObject {
    Q_OBJECT
public:
    // Starts the writer thread; `path` is the workspace file (created if missing).
    explicit StoreWriter(const QString& path, QObject* parent = nullptr);
    ~StoreWriter() override; // finishes the queued writes, then stops the thread

    using Key = quint64;
    // Edits of a dataset row: the row's current version (forked into a manual one on first use).
    void beginDatasetRow(Key key, store::Id datasetId, int row, const QString& author);
    // Edits of a single document: records the segmenter's output, then a manual fork of it.
    void beginDocument(Key key, std::shared_ptr<const Document> doc, const QString& segmenter,
                       const QString& paramsJson, std::vector<Boundary> boundaries, const QString& author);
    void applyEdit(Key key, const store::AnnotationEdit& edit, const QString& author);
    void undo(Key key, const QString& author);
    void redo(Key key, const QString& author);
    void setReviewed(store::Id datasetId, int row, bool reviewed, const QString& author);
    // Any other write (a recorded run), in order with the edits; "" when done, else the error.
    // May be called from any thread.
    QFuture<QString> run(std::function<void(store::Store&)> write);

    // Blocks until every write queued so far is done (tests, and closing the window).
    void flush();
    QString path() const { return path_; }

Q_SIGNALS:
    void sessionReady(quint64 key, qint64 segmentationId);
    void writeFailed(quint64 key, const QString& message); // the edit stays on screen; nothing stored is lost
    void written(quint64 key);

private:
    class Worker;
    template <class F> void post(F&& f);
    QString path_;
    QThread thread_;
    Worker* worker_;
};

} // namespace blocklens::ui
