#include "annotation/store_writer.hpp"

#include "util/error.hpp"

#include <QMetaObject>
#include <QPromise>

namespace blocklens::ui {

// Lives on the writer thread and owns that thread's connection to the workspace.
class StoreWriter::Worker : public QObject {
public:
    explicit Worker(StoreWriter* owner, QString path) : owner_(owner), path_(std::move(path)) {}

    store::Store& db()
    {
        if (!store_)
            store_ = store::Store::open(path_.toStdString());
        return *store_;
    }

    // Runs one write; reports failures without throwing across the thread boundary.
    template <class F>
    void guarded(Key key, F&& f)
    {
        try {
            f();
            Q_EMIT owner_->written(key);
        } catch (const Error& e) {
            Q_EMIT owner_->writeFailed(key, QString::fromStdString(e.what()));
        } catch (const std::exception& e) {
            Q_EMIT owner_->writeFailed(key, QString::fromStdString(e.what()));
        }
    }

    store::Id segmentation(Key key)
    {
        const auto it = sessions_.find(key);
        if (it == sessions_.end())
            throw Error("the edit session was not started (an earlier write failed)");
        return it->second;
    }

    StoreWriter* owner_;
    QString path_;
    std::optional<store::Store> store_;
    std::map<Key, store::Id> sessions_;
};

StoreWriter::StoreWriter(const QString& path, QObject* parent)
    : QObject(parent), path_(path), worker_(new Worker(this, path))
{
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    thread_.setObjectName(QStringLiteral("store-writer"));
    thread_.start();
}

StoreWriter::~StoreWriter()
{
    thread_.quit();
    thread_.wait();
}

template <class F>
void StoreWriter::post(F&& f)
{
    QMetaObject::invokeMethod(worker_, std::forward<F>(f), Qt::QueuedConnection);
}

void StoreWriter::beginDatasetRow(Key key, store::Id datasetId, int row, const QString& author)
{
    post([w = worker_, key, datasetId, row, author] {
        w->guarded(key, [&] {
            const store::Id id = w->db().beginCorrection(datasetId, static_cast<std::size_t>(row), author.toStdString());
            w->sessions_[key] = id;
            Q_EMIT w->owner_->sessionReady(key, id);
        });
    });
}

void StoreWriter::beginDocument(Key key, std::shared_ptr<const Document> doc, const QString& segmenter,
                                const QString& paramsJson, std::vector<Boundary> boundaries, const QString& author)
{
    post([w = worker_, key, doc, segmenter, paramsJson, boundaries = std::move(boundaries), author] {
        w->guarded(key, [&] {
            auto& db = w->db();
            const store::Id base = db.recordSegmentation(*doc, segmenter.toStdString(), paramsJson.toStdString(),
                                                         boundaries, author.toStdString());
            const store::Id id = db.forkSegmentation(base, author.toStdString());
            w->sessions_[key] = id;
            Q_EMIT w->owner_->sessionReady(key, id);
        });
    });
}

void StoreWriter::applyEdit(Key key, const store::AnnotationEdit& edit, const QString& author)
{
    post([w = worker_, key, edit, author] {
        w->guarded(key, [&] { w->db().applyAnnotationEdit(w->segmentation(key), edit, author.toStdString()); });
    });
}

void StoreWriter::undo(Key key, const QString& author)
{
    post([w = worker_, key, author] { w->guarded(key, [&] { w->db().undo(w->segmentation(key), author.toStdString()); }); });
}

void StoreWriter::redo(Key key, const QString& author)
{
    post([w = worker_, key, author] { w->guarded(key, [&] { w->db().redo(w->segmentation(key), author.toStdString()); }); });
}

void StoreWriter::setReviewed(store::Id datasetId, int row, bool reviewed, const QString& author)
{
    post([w = worker_, datasetId, row, reviewed, author] {
        w->guarded(0, [&] { w->db().setReviewed(datasetId, static_cast<std::size_t>(row), reviewed, author.toStdString()); });
    });
}

QFuture<QString> StoreWriter::run(std::function<void(store::Store&)> write)
{
    auto promise = std::make_shared<QPromise<QString>>();
    QFuture<QString> future = promise->future();
    promise->start();
    post([w = worker_, promise, write = std::move(write)] {
        QString error;
        try {
            write(w->db());
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        promise->addResult(error);
        promise->finish();
    });
    return future;
}

void StoreWriter::flush()
{
    QMetaObject::invokeMethod(worker_, [] {}, Qt::BlockingQueuedConnection);
}

} // namespace blocklens::ui
