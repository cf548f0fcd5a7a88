#pragma once
// A view's side of its requests to the inference worker (the side by side, the repair chart):
// of the worker's answers, only those for the request the view waits for count (`runId`, the
// view's own member; 0 while none runs); their progress goes to `progress`, and a failure or a
// cancellation to the view's handlers. The connections live as long as `view`.
#include <QString>

#include <functional>

class QProgressBar;
class QObject;

namespace blocklens::ui {

class InferenceWorker;

struct RequestEnds {
    std::function<void(const QString& message)> failed;
    std::function<void()> cancelled;
};

void followRequests(QObject* view, InferenceWorker* worker, const quint64& runId, QProgressBar* progress, RequestEnds ends);

} // namespace blocklens::ui
