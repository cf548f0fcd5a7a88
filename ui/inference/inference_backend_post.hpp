#pragma once
// InferenceBackend::post, shared by the files that implement InferenceBackend (local and remote
// runs). Internal to ui/inference.
#include "inference/inference_backend.hpp"
#include "inference/inference_worker.hpp"

#include <QMetaObject>

namespace blocklens::ui {

template <class Fn> void InferenceBackend::post(Fn&& fn)
{
    if (InferenceWorker* f = front_.data())
        QMetaObject::invokeMethod(f, std::forward<Fn>(fn), Qt::QueuedConnection);
}

} // namespace blocklens::ui
