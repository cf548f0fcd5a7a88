#include "retrain_controller.hpp"

#include "learn/learned_scorer.hpp"
#include "usecases/training_run.hpp"
#include "segment/evaluation.hpp"
#include "util/error.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QDir>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include <chrono>
#include <cmath>

namespace blocklens::ui {

QString retrainedModelPath(const QString& workspace)
{
    return QFileInfo(workspace).absoluteDir().filePath(QStringLiteral("segmenters/") + QString::fromLatin1(learn::kModelFileName.data()));
}

namespace {

// The workspace's corrected and reviewed rows, read through its gateway (this thread waits).
std::vector<Document> readCorrections(const WorkspaceGateway& workspace, std::size_t& rowsSeen)
{
    struct Corrections {
        std::vector<Document> documents;
        std::size_t rows = 0;
        QString error;
    };
    const Corrections c = workspace
                              .read<Corrections>(
                                  [](store::Store& db) {
                                      Corrections c;
                                      c.documents = learn::workspaceCorrections(db, c.rows);
                                      return c;
                                  },
                                  [](const QString& error) { return Corrections{{}, 0, error}; })
                              .result();
    if (!c.error.isEmpty())
        throw Error(c.error.toStdString());
    rowsSeen += c.rows;
    return c.documents;
}

RetrainResult retrain(const RetrainRequest& req, std::stop_token stop, RetrainController* owner)
{
    RetrainResult out;
    const auto start = std::chrono::steady_clock::now();
    try {
        req.workspace->flush(); // pending edits reach the workspace first
        learn::TrainingRunOptions o;
        if (!req.dataset.isEmpty())
            o.data = std::filesystem::path(req.dataset.toStdString());
        o.corrections = [workspace = req.workspace](std::size_t& rowsSeen) { return readCorrections(*workspace, rowsSeen); };
        o.split = 1.0; // everything the user has: the loop is closed on their own documents
        o.level = req.level;
        o.train = req.train;
        o.evaluateTraining = true;
        auto stageProgress = [&](const std::string& stage) {
            const QString name = QString::fromStdString(stage);
            Progress p;
            p.stop = stop;
            p.report = [owner, name](std::int64_t done, std::int64_t total, std::string_view) {
                Q_EMIT owner->progress(name, done, total); // queued to the UI thread
            };
            return p;
        };
        learn::TrainingRunResult run = learn::runTraining(o, stageProgress);
        // Before: the model in use now, on the same documents and protocol.
        std::shared_ptr<const learn::BoundaryModel> before = req.before;
        if (!before)
            before = std::make_shared<const learn::BoundaryModel>(learn::loadDefaultModel());
        segment::EvalOptions eo;
        eo.level = req.level;
        eo.protocol = segment::Protocol::OracleCount;
        const auto beforeReport = segment::evaluate(run.train, learn::learnedSegmenter(before, "before"), eo,
                                                    stageProgress("evaluating the previous model"));
        if (stop.stop_requested())
            throw Error("training was stopped");

        const QString path = retrainedModelPath(req.workspace->path());
        if (!QDir().mkpath(QFileInfo(path).absolutePath()))
            throw Error("cannot create the folder for the retrained model", {.file = QFileInfo(path).absolutePath().toStdString()});
        run.model.save(path.toStdString());
        out.ok = true;
        out.modelPath = path;
        out.model = std::make_shared<const learn::BoundaryModel>(std::move(run.model));
        out.documents = run.train.documents.size();
        out.corrected = run.fromDb;
        out.pkBefore = segment::overallPk(beforeReport);
        out.pkAfter = run.onTrain ? segment::overallPk(run.onTrain->learned) : std::nan("");
        out.pkBaseline = run.onTrain ? segment::overallPk(run.onTrain->baseline) : std::nan("");
    } catch (const std::exception& e) {
        out.cancelled = stop.stop_requested();
        out.error = out.cancelled ? QObject::tr("Retraining cancelled.") : QString::fromStdString(e.what());
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

} // namespace

RetrainController::RetrainController(QObject* parent) : QObject(parent)
{
    connect(&watcher_, &QFutureWatcher<RetrainResult>::finished, this, [this] {
        running_ = false;
        last_ = watcher_.result();
        Q_EMIT finished(last_);
    });
}

RetrainController::~RetrainController()
{
    stop_.request_stop();
    watcher_.waitForFinished();
}

bool RetrainController::start(const RetrainRequest& request)
{
    if (running_ || !request.workspace || !request.workspace->isOpen())
        return false;
    stop_ = std::stop_source();
    running_ = true;
    watcher_.setFuture(QtConcurrent::run(retrain, request, stop_.get_token(), this));
    return true;
}

void RetrainController::cancel() { stop_.request_stop(); }

} // namespace blocklens::ui
