#pragma once
// The segmentation being corrected for the document on screen: its boundaries, an undo stack
// of edits, and the link to the workspace where each edit is saved as it happens.
#include "annotation/store_writer.hpp"
#include "document/document.hpp"
#include "store/store.hpp"

#include <QObject>
#include <QUndoStack>

#include <memory>
#include <vector>

namespace blocklens::ui {

class AnnotationSession : public QObject {
    Q_OBJECT
public:
    // Where the edits go: a dataset row, or a single document segmented by `segmenter`.
    struct Origin {
        store::Id datasetId = 0; // 0 for a single document
        int row = -1;
        QString segmenter = QStringLiteral("manual");
        QString paramsJson = QStringLiteral("{}");
    };

    // `writer` may be null: edits then live in memory only.
    AnnotationSession(StoreWriter* writer, QString author, QObject* parent = nullptr);

    void start(std::shared_ptr<const Document> doc, std::vector<Boundary> boundaries, Origin origin);
    const Document* document() const { return doc_.get(); }
    std::shared_ptr<const Document> sharedDocument() const { return doc_; }
    const std::vector<Boundary>& boundaries() const { return boundaries_; }
    const Origin& origin() const { return origin_; }
    QUndoStack* undoStack() { return &undo_; }
    const QString& author() const { return author_; }

    // Each returns false (and emits editRejected with the reason) when the edit is not possible.
    bool split(std::size_t offset, int level);
    bool removeBoundary(std::size_t offset); // merges the two blocks it separates
    bool moveBoundary(std::size_t from, std::size_t to);
    bool setLevel(std::size_t offset, int level);
    bool edit(const store::AnnotationEdit& edit, const QString& description);

Q_SIGNALS:
    void boundariesChanged();
    void editRejected(const QString& why);
    void saveFailed(const QString& message);

private:
    class EditCommand;
    void applyLocally(const store::AnnotationEdit& edit);
    void ensureStoreSession();

    StoreWriter* writer_;
    QString author_;
    std::shared_ptr<const Document> doc_;
    std::vector<Boundary> boundaries_;
    Origin origin_;
    QUndoStack undo_;
    StoreWriter::Key key_ = 0;
    bool storeSessionStarted_ = false;
    static inline StoreWriter::Key nextKey_ = 1;
};

} // namespace blocklens::ui
