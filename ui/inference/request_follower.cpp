#include "inference/request_follower.hpp"

#include <QProgressBar>

namespace blocklens::ui {

void followRequestEnds(QObject* view, InferenceWorker* worker, const quint64& runId, QProgressBar* progress, RequestEnds ends)
{
    QObject::connect(worker, &InferenceWorker::runProgress, view, [&runId, progress](quint64 id, qint64 done, qint64 total, const QString& what) {
        if (id != runId)
            return;
        progress->setRange(0, static_cast<int>(total));
        progress->setValue(static_cast<int>(done));
        progress->setFormat(what + QStringLiteral(" %v/%m"));
    });
    QObject::connect(worker, &InferenceWorker::failed, view,
                     [&runId, ended = ends.ended, failed = std::move(ends.failed)](quint64 id, const QString& message) {
                         if (id != runId)
                             return;
                         ended();
                         failed(message);
                     });
    QObject::connect(worker, &InferenceWorker::cancelled, view, [&runId, ended = ends.ended, cancelled = std::move(ends.cancelled)](quint64 id) {
        if (id != runId)
            return;
        ended();
        cancelled();
    });
}

} // namespace blocklens::ui
