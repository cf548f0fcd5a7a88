#pragma once
// The adjudication view's way into the workspace: every read and write runs off the UI thread, on
// one thread of its own, in the order asked (a decision is stored before the next one is read),
// over one connection. Each call answers with the whole state the view draws.
#include "analysis/adjudication.hpp"
#include "store/store.hpp"

#include <QFuture>
#include <QObject>
#include <QString>
#include <QThreadPool>

#include <memory>
#include <optional>
#include <vector>

namespace blocklens::ui {

// One document of the queue: a dataset row several annotators segmented.
struct AdjudicationQueueEntry {
    std::size_t row = 0;
    QString id;           // the dataset's id of the row
    double meanB = 1;     // mean boundary similarity of its annotator pairs
    std::size_t annotators = 0;
};

struct AdjudicationQueue {
    QString error; // empty on success
    QString dataset;
    std::vector<AdjudicationQueueEntry> entries; // most disagreed first
};

struct AdjudicationState {
    QString error;
    std::size_t row = 0;
    QString id;
    std::size_t length = 0; // code points
    std::vector<std::size_t> lineStarts;
    std::vector<analysis::AnnotatorVersion> versions;
    analysis::AdjudicationPlan plan;
    std::int64_t adjudicatedId = 0;
    std::vector<store::AdjudicationDecision> decisions; // every one, undone ones too
    std::vector<Boundary> adjudicated;                  // its boundaries now
};

class AdjudicationSession : public QObject {
    Q_OBJECT
public:
    AdjudicationSession(QString workspace, QString reviewer, QObject* parent = nullptr);
    ~AdjudicationSession() override; // waits for the queued work

    const QString& reviewer() const { return reviewer_; }
    // The dataset by name or id, or (with an empty name) the one imported from `sourceFile`.
    QFuture<AdjudicationQueue> loadQueue(const QString& dataset, const QString& sourceFile = {});
    // Opens a row of the loaded dataset: its annotators' versions, their plan, and the adjudicated
    // version (made from the majority when the document has none yet).
    QFuture<AdjudicationState> open(std::size_t row);
    QFuture<AdjudicationState> decide(Boundary boundary, bool accept);
    QFuture<AdjudicationState> undo();

private:
    template <typename Fn>
    QFuture<AdjudicationState> onDocument(Fn&& change);

    QString workspace_, reviewer_;
    QThreadPool thread_; // one thread: the store's work in order
    // Used only on thread_.
    std::shared_ptr<std::optional<store::Store>> store_ = std::make_shared<std::optional<store::Store>>();
    std::shared_ptr<std::vector<analysis::AnnotatedDocument>> documents_ = std::make_shared<std::vector<analysis::AnnotatedDocument>>();
    std::shared_ptr<std::int64_t> datasetId_ = std::make_shared<std::int64_t>(0);
    std::shared_ptr<std::size_t> row_ = std::make_shared<std::size_t>(0);
};

} // namespace blocklens::ui
