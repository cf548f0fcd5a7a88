#pragma once
// The desktop app's only way to run a model. Loading and every run happen on one worker thread
// that owns the engine::Model, an engine::Runner and the shared engine::BlockKvCache (so a
// comparison after a boundary edit finds the untouched blocks cached). The UI thread never waits.
//
//   InferenceWorker* w = window->inferenceWorker();
//   connect(w, &InferenceWorker::modelLoaded, ...);
//   w->requestLoad({.directory = dir});
//   const quint64 id = w->requestAttention({.ids = ids, .blocks = {0, 40, 97}});
//   connect(w, &InferenceWorker::attentionReady, this, [id](quint64 got, const AttentionReport& r) { ... });
//
// Requests:
//   - Each request*() returns at once with an id; its outcome is exactly one of the signals
//     modelLoaded / comparisonReady / attentionReady / sweepReady, failed(id, message) or cancelled(id).
//   - Latest wins, per kind: a new load supersedes an unfinished load (and the runs queued for the
//     old model); a new comparison supersedes an unfinished comparison; a new attention request an
//     unfinished attention request. The superseded request is stopped through a std::stop_source
//     wired into blocklens::Progress (between tensors while loading, between blocks and generated
//     tokens while running) and reports cancelled(id).
//   - Without a loaded model, comparisons and attention requests fail with a message saying so.
//   - A failed load keeps the previous model loaded.
// Signals are emitted on the thread that owns this object (the UI thread), in request order for
// one id: progress..., [compareStarted, tokenStreamed..., runFinished...], then the outcome.
#include "inference/inference_types.hpp"

#include <QObject>
#include <QThread>

#include <map>
#include <optional>
#include <stop_token>

namespace blocklens::ui {

class InferenceBackend;
class WorkspaceGateway;

class InferenceWorker : public QObject {
    Q_OBJECT
public:
    explicit InferenceWorker(QObject* parent = nullptr);
    ~InferenceWorker() override; // stops every request and waits for the thread

    quint64 requestLoad(const LoadJob& job);
    quint64 requestComparison(const CompareJob& job);
    quint64 requestAttention(const AttentionJob& job);
    // The repair chart's sweep (issue 18); latest wins among sweeps. Empties the block cache.
    quint64 requestSweep(const SweepJob& job);
    void cancel(quint64 id);  // no-op for an id already answered
    void cancelAll();
    void unload();            // frees the model and the block cache (queued behind running work)

    // The workspace (SQLite) where comparisons are recorded as runs, through its gateway's writer
    // (which must outlive the worker); null or without a file: not recorded.
    void setWorkspace(const WorkspaceGateway* workspace);

    const std::optional<ModelInfo>& model() const { return model_; }
    bool isLoading() const { return current_[Load] != 0; }
    bool isBusy() const { return !pending_.empty(); }

Q_SIGNALS:
    void loadProgress(quint64 id, qint64 done, qint64 total, const QString& what);
    void modelLoaded(quint64 id, const blocklens::ui::ModelInfo& info);
    void modelUnloaded();
    // Runs: blocks assembled / tokens generated; total 0 when unknown.
    void runProgress(quint64 id, qint64 done, qint64 total, const QString& what);
    void compareStarted(quint64 id, const blocklens::ui::CompareInput& input);
    // Every generated token as soon as the engine knows it (the first at TTFT), with the decoded
    // continuation so far.
    void tokenStreamed(quint64 id, blocklens::ui::CompareColumn column, qint32 token, const QString& textSoFar);
    void runFinished(quint64 id, blocklens::ui::CompareColumn column, const blocklens::engine::RunStats& stats);
    void comparisonReady(quint64 id, const blocklens::ui::CompareReport& report);
    void attentionReady(quint64 id, const blocklens::ui::AttentionReport& report);
    void sweepReady(quint64 id, const blocklens::ui::SweepReport& report);
    void failed(quint64 id, const QString& message);
    void cancelled(quint64 id);

private:
    friend class InferenceBackend;
    enum Kind { Load = 0, Compare = 1, Attention = 2, Sweep = 3, Kinds = 4 };
    quint64 start(Kind kind);     // new id; supersedes the kind's current request
    bool finish(quint64 id);      // true when the id was still wanted (its outcome is emitted)
    bool wanted(quint64 id) const { return pending_.count(id) != 0; }

    QThread thread_;
    InferenceBackend* backend_; // lives in thread_
    quint64 next_ = 1;
    quint64 current_[Kinds] = {0, 0, 0, 0};
    std::map<quint64, std::stop_source> pending_; // requests not yet answered
    std::optional<ModelInfo> model_;
};

} // namespace blocklens::ui
