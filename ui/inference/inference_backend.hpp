#pragma once
// The half of InferenceWorker that lives on the worker thread: it owns the model, the runner, the
// block KV cache, the tokenizer and the last document's tokenization, runs each request through
// core (the comparison is usecases/comparison.hpp's) and posts the outcome back to the
// InferenceWorker (which drops what is no longer wanted). Internal to ui/inference: use
// InferenceWorker.
#include "inference/inference_types.hpp"
#include "inference/second_model.hpp"
#include "usecases/comparison.hpp"
#include "usecases/model_comparison.hpp"

#include <QObject>
#include <QPointer>

#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace blocklens::engine {
class BlockKvCache;
class Model;
class Runner;
struct RepairSweepRow;
} // namespace blocklens::engine

namespace blocklens::net {
class RemoteClient;
struct ServerInfo;
} // namespace blocklens::net

namespace blocklens::ui {

class InferenceWorker;
class WorkspaceGateway;

class InferenceBackend : public QObject {
public:
    explicit InferenceBackend(InferenceWorker* front);
    ~InferenceBackend() override;

    // Each runs on the worker thread and posts exactly one outcome for `id`.
    void load(quint64 id, const LoadJob& job, std::stop_token stop);
    void compare(quint64 id, const CompareJob& job, std::stop_token stop);
    void attention(quint64 id, const AttentionJob& job, std::stop_token stop);
    void sweep(quint64 id, const SweepJob& job, std::stop_token stop);
    void unload();
    void setWorkspace(const WorkspaceGateway* workspace);

private:
    // The same requests on a model server (inference_backend_remote.cpp, issue 22).
    void loadRemote(quint64 id, const LoadJob& job, std::stop_token stop);
    void compareRemote(quint64 id, const CompareJob& job, std::stop_token stop);
    void attentionRemote(quint64 id, const AttentionJob& job, std::stop_token stop);
    void sweepRemote(quint64 id, const SweepJob& job, std::stop_token stop);
    // The chart's report of a sweep's rows, run here or on a server.
    static SweepReport sweepReport(const SweepJob& job, const usecases::ComparisonInput& input,
                                   const std::vector<engine::RepairSweepRow>& rows);
    // Records a comparison in the workspace (when one is set); the error text when that fails.
    void record(const usecases::ComparisonReport& result, const usecases::ComparisonOptions& options, const CompareJob& job,
                CompareReport& report, const usecases::ModelComparisonReport* withOther, const engine::Runner* other);

    // The document's tokens (encoded once for the last document), cut at `cuts`, plus the query block.
    usecases::ComparisonInput tokenize(const Document& doc, const std::vector<std::size_t>& cuts, const QString& query);
    // What a request on the document starts with: Cancelled if stopped, an Error without a model
    // or a document, else its tokens (tokenize).
    usecases::ComparisonInput documentInput(const Document* document, const std::vector<std::size_t>& cuts, const QString& query,
                                            const std::stop_token& stop);
    QString decode(const std::vector<std::int32_t>& ids) const;
    // engine::trainedContextWarning for a run of `tokens` tokens (prompt + generated) on the
    // loaded model, local or a server's; empty within its trained context.
    QString contextWarning(std::int64_t tokens) const;
    std::vector<QString> pieces(const std::vector<std::int32_t>& ids) const;

    // Posts cancelled(id) or failed(id, message) for an exception thrown by a request.
    void postFailure(quint64 id, const std::stop_token& stop, std::exception_ptr error);
    // Posts `fn` to run on the front's thread (dropped if the front is gone).
    template <class Fn> void post(Fn&& fn);

    QPointer<InferenceWorker> front_;
    std::unique_ptr<engine::BlockKvCache> cache_;
    std::unique_ptr<engine::Model> model_;
    std::unique_ptr<engine::Runner> runner_;
    std::optional<Tokenizer> tokenizer_;
    std::filesystem::path tokenizerFile_; // where tokenizer_ was read (a second model must have the same)
    SecondModel second_;                  // the side by side's "Compare with model…" (issue 19)
    ModelInfo info_;
    // The last document's tokenization: documents are re-cut far more often than re-typed.
    std::optional<usecases::DocumentTokens> tokens_;
    const WorkspaceGateway* workspace_ = nullptr; // where comparisons are recorded (its writer)
    // Set while the model is a server's (then model_ and runner_ are empty).
    std::unique_ptr<net::RemoteClient> remote_;
    std::unique_ptr<net::ServerInfo> remoteInfo_;
};

} // namespace blocklens::ui
