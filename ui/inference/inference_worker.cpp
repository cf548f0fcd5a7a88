#include "inference/inference_worker.hpp"

#include "inference/inference_backend.hpp"

#include <QMetaObject>

namespace blocklens::ui {

InferenceWorker::InferenceWorker(QObject* parent) : QObject(parent), backend_(new InferenceBackend(this))
{
    qRegisterMetaType<ModelInfo>();
    qRegisterMetaType<CompareInput>();
    qRegisterMetaType<CompareReport>();
    qRegisterMetaType<AttentionReport>();
    qRegisterMetaType<SweepReport>();
    qRegisterMetaType<CompareColumn>();
    thread_.setObjectName(QStringLiteral("inference"));
    backend_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, backend_, &QObject::deleteLater);
    thread_.start();
}

InferenceWorker::~InferenceWorker()
{
    cancelAll();
    thread_.quit();
    thread_.wait();
}

quint64 InferenceWorker::start(Kind kind)
{
    const quint64 id = next_++;
    if (current_[kind] != 0) {
        auto it = pending_.find(current_[kind]);
        if (it != pending_.end())
            it->second.request_stop();
    }
    current_[kind] = id;
    pending_.emplace(id, std::stop_source{});
    return id;
}

bool InferenceWorker::finish(quint64 id)
{
    for (quint64& c : current_)
        if (c == id)
            c = 0;
    return pending_.erase(id) != 0;
}

quint64 InferenceWorker::requestLoad(const LoadJob& job)
{
    // Runs queued for the old model would start on the new one with stale inputs: stop them too.
    for (Kind k : {Compare, Attention, Sweep})
        if (current_[k] != 0)
            cancel(current_[k]);
    const quint64 id = start(Load);
    const std::stop_token stop = pending_.at(id).get_token();
    QMetaObject::invokeMethod(backend_, [b = backend_, id, job, stop] { b->load(id, job, stop); }, Qt::QueuedConnection);
    return id;
}

quint64 InferenceWorker::requestComparison(const CompareJob& job)
{
    const quint64 id = start(Compare);
    const std::stop_token stop = pending_.at(id).get_token();
    QMetaObject::invokeMethod(backend_, [b = backend_, id, job, stop] { b->compare(id, job, stop); }, Qt::QueuedConnection);
    return id;
}

quint64 InferenceWorker::requestAttention(const AttentionJob& job)
{
    const quint64 id = start(Attention);
    const std::stop_token stop = pending_.at(id).get_token();
    QMetaObject::invokeMethod(backend_, [b = backend_, id, job, stop] { b->attention(id, job, stop); }, Qt::QueuedConnection);
    return id;
}

quint64 InferenceWorker::requestSweep(const SweepJob& job)
{
    const quint64 id = start(Sweep);
    const std::stop_token stop = pending_.at(id).get_token();
    QMetaObject::invokeMethod(backend_, [b = backend_, id, job, stop] { b->sweep(id, job, stop); }, Qt::QueuedConnection);
    return id;
}

void InferenceWorker::cancel(quint64 id)
{
    // The backend answers cancelled(id) once it sees the stop (at once for a request still queued).
    auto it = pending_.find(id);
    if (it != pending_.end())
        it->second.request_stop();
}

void InferenceWorker::cancelAll()
{
    for (auto& [id, source] : pending_)
        source.request_stop();
}

void InferenceWorker::unload()
{
    for (Kind k : {Load, Compare, Attention})
        if (current_[k] != 0)
            cancel(current_[k]);
    QMetaObject::invokeMethod(backend_, [b = backend_] { b->unload(); }, Qt::QueuedConnection);
}

void InferenceWorker::setWorkspace(const WorkspaceGateway* workspace)
{
    QMetaObject::invokeMethod(backend_, [b = backend_, workspace] { b->setWorkspace(workspace); }, Qt::QueuedConnection);
}

} // namespace blocklens::ui
