#include "annotation/annotation_session.hpp"

#include "annotation/boundary_edits.hpp"

namespace blocklens::ui {

// One boundary edit on the undo stack. The first redo() applies the edit and saves it; later
// undo()/redo() replay it both on screen and in the store's history.
class AnnotationSession::EditCommand : public QUndoCommand {
public:
    EditCommand(AnnotationSession* session, store::AnnotationEdit edit, store::AnnotationEdit inverse, const QString& text)
        : QUndoCommand(text), session_(session), edit_(edit), inverse_(inverse)
    {
    }

    void redo() override
    {
        session_->applyLocally(edit_);
        if (StoreWriter* w = session_->writer_) {
            if (firstRedo_)
                w->applyEdit(session_->key_, edit_, session_->author_);
            else
                w->redo(session_->key_, session_->author_);
        }
        firstRedo_ = false;
    }

    void undo() override
    {
        session_->applyLocally(inverse_);
        if (StoreWriter* w = session_->writer_)
            w->undo(session_->key_, session_->author_);
    }

private:
    AnnotationSession* session_;
    store::AnnotationEdit edit_, inverse_;
    bool firstRedo_ = true;
};

AnnotationSession::AnnotationSession(StoreWriter* writer, QString author, QObject* parent)
    : QObject(parent), writer_(writer), author_(std::move(author))
{
    if (writer_)
        connect(writer_, &StoreWriter::writeFailed, this, [this](quint64 key, const QString& message) {
            if (key == key_ || key == 0)
                Q_EMIT saveFailed(message);
        });
}

void AnnotationSession::start(std::shared_ptr<const Document> doc, std::vector<Boundary> boundaries, Origin origin)
{
    undo_.clear();
    doc_ = std::move(doc);
    boundaries_ = std::move(boundaries);
    origin_ = std::move(origin);
    key_ = nextKey_++;
    storeSessionStarted_ = false;
    Q_EMIT boundariesChanged();
}

void AnnotationSession::ensureStoreSession()
{
    if (storeSessionStarted_ || !writer_)
        return;
    storeSessionStarted_ = true;
    if (origin_.datasetId > 0)
        writer_->beginDatasetRow(key_, origin_.datasetId, origin_.row, author_);
    else
        writer_->beginDocument(key_, doc_, origin_.segmenter, origin_.paramsJson, boundaries_, author_);
}

void AnnotationSession::applyLocally(const store::AnnotationEdit& edit)
{
    applyEdit(boundaries_, edit, doc_ ? doc_->length() : 0);
    Q_EMIT boundariesChanged();
}

bool AnnotationSession::edit(const store::AnnotationEdit& e, const QString& description)
{
    if (!doc_)
        return false;
    std::vector<Boundary> trial = boundaries_;
    if (const QString why = applyEdit(trial, e, doc_->length()); !why.isEmpty()) {
        Q_EMIT editRejected(why);
        return false;
    }
    ensureStoreSession();
    undo_.push(new EditCommand(this, e, inverseEdit(boundaries_, e), description));
    return true;
}

bool AnnotationSession::split(std::size_t offset, int level)
{
    return edit(store::AnnotationEdit::insert(offset, level), tr("Split at %1").arg(offset));
}

bool AnnotationSession::removeBoundary(std::size_t offset)
{
    return edit(store::AnnotationEdit::remove(offset), tr("Merge at %1").arg(offset));
}

bool AnnotationSession::moveBoundary(std::size_t from, std::size_t to)
{
    return edit(store::AnnotationEdit::move(from, to), tr("Move %1 to %2").arg(from).arg(to));
}

bool AnnotationSession::setLevel(std::size_t offset, int level)
{
    return edit(store::AnnotationEdit::setLevel(offset, level), tr("Level %1 at %2").arg(level).arg(offset));
}

} // namespace blocklens::ui
