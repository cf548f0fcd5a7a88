#pragma once
// Retrains the learned segmenter in the background (issue 8: "close the loop in the app"): what
// `blocklens-cli train-segmenter --data DATASET --db WORKSPACE --split 1` does (learn::runTraining,
// the same function), on the global thread pool, with progress per stage and cancel. Then it
// measures the quality before and after on the documents it trained on (the dataset's references,
// with the annotators' corrections in place of the originals; oracle-count Pk, level 2), and saves
// the new model as <workspace folder>/segmenters/learned.json, never over the shipped model.
#include "learn/boundary_model.hpp"
#include "learn/trainer.hpp"

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <stop_token>

namespace blocklens::ui {

class WorkspaceGateway;

struct RetrainRequest {
    QString dataset; // JSONL with reference boundaries (may be empty: corrections only)
    // The workspace holding the corrections (required: the model goes beside it). Its pending
    // edits are flushed, then the corrections read through it; it must outlive the retraining.
    WorkspaceGateway* workspace = nullptr;
    std::shared_ptr<const learn::BoundaryModel> before; // the model in use now (null: the shipped one)
    int level = 2;
    learn::TrainOptions train; // defaults of train-segmenter
};

struct RetrainResult {
    bool ok = false, cancelled = false;
    QString error;
    QString modelPath; // where the new model was saved
    std::shared_ptr<const learn::BoundaryModel> model;
    std::size_t documents = 0, corrected = 0; // training documents; of them from the workspace
    double pkBefore = 0, pkAfter = 0, pkBaseline = 0; // on those documents (baseline: hybrid)
    double seconds = 0;
};

// <workspace folder>/segmenters/learned.json
QString retrainedModelPath(const QString& workspace);

class RetrainController : public QObject {
    Q_OBJECT
public:
    explicit RetrainController(QObject* parent = nullptr);
    ~RetrainController() override; // cancels and waits

    // False (and nothing started) while a retraining runs or when the request has no workspace
    // file.
    bool start(const RetrainRequest& request);
    void cancel();
    bool isRunning() const { return running_; }
    const RetrainResult& lastResult() const { return last_; }

Q_SIGNALS:
    void progress(const QString& stage, qint64 done, qint64 total);
    void finished(const blocklens::ui::RetrainResult& result);

private:
    QFutureWatcher<RetrainResult> watcher_;
    std::stop_source stop_;
    bool running_ = false;
    RetrainResult last_;
};

} // namespace blocklens::ui
