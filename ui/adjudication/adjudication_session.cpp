#include "adjudication/adjudication_session.hpp"

#include "util/error.hpp"

#include <QtConcurrent>

#include <filesystem>

namespace blocklens::ui {

namespace {

store::Store& connection(std::optional<store::Store>& store, const QString& workspace)
{
    if (!store)
        store.emplace(store::Store::open(workspace.toStdString(), {.mode = store::OpenMode::Existing}));
    return *store;
}

std::optional<std::int64_t> datasetFromFile(store::Store& db, const QString& sourceFile)
{
    std::error_code ec;
    const auto wanted = std::filesystem::weakly_canonical(sourceFile.toStdString(), ec);
    for (const auto& info : db.listDatasets())
        if (std::filesystem::weakly_canonical(info.sourcePath, ec) == wanted)
            return info.id;
    return std::nullopt;
}

} // namespace

AdjudicationSession::AdjudicationSession(QString workspace, QString reviewer, QObject* parent)
    : QObject(parent), workspace_(std::move(workspace)), reviewer_(std::move(reviewer))
{
    thread_.setMaxThreadCount(1);
}

AdjudicationSession::~AdjudicationSession()
{
    thread_.waitForDone();
}

QFuture<AdjudicationQueue> AdjudicationSession::loadQueue(const QString& dataset, const QString& sourceFile)
{
    return QtConcurrent::run(&thread_, [dataset, sourceFile, store = store_, documents = documents_, datasetId = datasetId_, workspace = workspace_] {
        AdjudicationQueue q;
        try {
            auto& db = connection(*store, workspace);
            const auto id = dataset.isEmpty() ? datasetFromFile(db, sourceFile) : db.findDataset(dataset.toStdString());
            if (!id) {
                q.error = dataset.isEmpty() ? QObject::tr("%1 is not a dataset of the workspace").arg(sourceFile)
                                            : QObject::tr("the workspace has no dataset named %1").arg(dataset);
                return q;
            }
            *datasetId = *id;
            *documents = analysis::loadAnnotatorVersions(db, std::to_string(*id));
            q.dataset = dataset.isEmpty() ? QString::number(*id) : dataset;
            const auto agreement = analysis::measureAgreement(*documents);
            if (agreement.levels.empty())
                return q; // no document with two annotators
            const auto& level = agreement.levels.front();
            for (std::size_t i : analysis::disagreementQueue(level)) {
                const auto& d = level.documents[i];
                q.entries.push_back({d.row, QString::fromStdString(d.id), d.meanB, d.annotators.size()});
            }
        } catch (const Error& e) {
            q.error = QString::fromStdString(e.what());
        }
        return q;
    });
}

template <typename Fn>
QFuture<AdjudicationState> AdjudicationSession::onDocument(Fn&& change)
{
    return QtConcurrent::run(&thread_, [change = std::forward<Fn>(change), store = store_, documents = documents_,
                                        datasetId = datasetId_, row = row_, workspace = workspace_, reviewer = reviewer_] {
        AdjudicationState s;
        try {
            auto& db = connection(*store, workspace);
            const auto rows = db.datasetRows(*datasetId);
            change(db, *row, rows.size());
            s.row = *row;
            const analysis::AnnotatedDocument* doc = nullptr;
            for (const auto& d : *documents)
                if (d.row == *row)
                    doc = &d;
            if (!doc)
                throw Error("row " + std::to_string(*row) + " is not in the loaded dataset");
            const auto documentId = rows.at(*row).documentId;
            s.id = QString::fromStdString(doc->id);
            s.length = db.documentInfo(documentId).length;
            s.lineStarts = doc->lineStarts;
            s.versions = doc->versions;
            s.plan = analysis::planAdjudication(doc->versions);
            s.adjudicatedId = analysis::openAdjudicatedVersion(db, documentId, s.plan, reviewer.toStdString());
            s.decisions = db.adjudicationDecisions(s.adjudicatedId);
            s.adjudicated = db.boundaries(s.adjudicatedId);
        } catch (const std::exception& e) {
            s.error = QString::fromStdString(e.what());
        }
        return s;
    });
}

QFuture<AdjudicationState> AdjudicationSession::open(std::size_t row)
{
    return onDocument([row, current = row_](store::Store&, std::size_t&, std::size_t rows) {
        if (row >= rows)
            throw Error("the dataset has no row " + std::to_string(row));
        *current = row;
    });
}

QFuture<AdjudicationState> AdjudicationSession::decide(Boundary boundary, bool accept)
{
    return onDocument([=, this, datasetId = datasetId_](store::Store& db, std::size_t& row, std::size_t) {
        const auto documentId = db.datasetRows(*datasetId).at(row).documentId;
        const auto adjudicated = db.latestAdjudicated(documentId);
        if (!adjudicated)
            throw Error("row " + std::to_string(row) + " has no adjudicated version to decide on");
        db.recordAdjudicationDecision(*adjudicated, boundary, accept, reviewer_.toStdString());
    });
}

QFuture<AdjudicationState> AdjudicationSession::undo()
{
    return onDocument([this, datasetId = datasetId_](store::Store& db, std::size_t& row, std::size_t) {
        const auto documentId = db.datasetRows(*datasetId).at(row).documentId;
        if (const auto adjudicated = db.latestAdjudicated(documentId))
            db.undoAdjudicationDecision(*adjudicated, reviewer_.toStdString());
    });
}

} // namespace blocklens::ui
