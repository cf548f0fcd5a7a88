#pragma once
// A view's side of its requests to the inference worker (the side by side, the repair chart):
// of the worker's answers, only those for the request the view waits for count (`runId`, the
// view's own member; 0 while none runs). Their progress goes to `progress`; the request's end,
// whichever it is (its result, a failure, a cancellation), calls `ended` first, then the handler
// of that end. The connections live as long as `view`.
#include "inference/inference_worker.hpp"

#include <QString>

#include <functional>

class QProgressBar;

namespace blocklens::ui {

struct RequestEnds {
    std::function<void()> ended; // any end
    std::function<void(const QString& message)> failed;
    std::function<void()> cancelled;
};

// Progress, failure and cancellation (followRequests below adds the result).
void followRequestEnds(QObject* view, InferenceWorker* worker, const quint64& runId, QProgressBar* progress, RequestEnds ends);

// `ready`: the worker's signal of the result (comparisonReady, sweepReady), `shown` its handler.
template <class Report>
void followRequests(QObject* view, InferenceWorker* worker, const quint64& runId, QProgressBar* progress,
                    void (InferenceWorker::*ready)(quint64, const Report&), std::function<void(const Report&)> shown, RequestEnds ends)
{
    QObject::connect(worker, ready, view, [&runId, ended = ends.ended, shown = std::move(shown)](quint64 id, const Report& report) {
        if (id != runId)
            return;
        ended();
        shown(report);
    });
    followRequestEnds(view, worker, runId, progress, std::move(ends));
}

} // namespace blocklens::ui
