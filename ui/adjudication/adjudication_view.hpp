#pragma once
// The adjudication view (issue 21): a queue of a dataset's documents, most disagreed first; for the
// document chosen, each annotator's boundaries as a track, their majority, and the adjudicated
// version; the reviewer walks the contested boundaries and decides each with the keyboard:
//   A accept (keep it, at its majority level)   R reject (no boundary there)
//   J / Down next contested   K / Up previous   U or Ctrl+Z undo the last decision (one stack,
//   the workspace's: every decision is stored with who and when, an undone one as undone).
// It draws what AdjudicationSession answers; the logic is core's (analysis/adjudication.hpp).
#include "adjudication/adjudication_session.hpp"

#include <QFutureWatcher>
#include <QWidget>

class QLabel;
class QListWidget;

namespace blocklens::ui {

class AdjudicationTracks;

class AdjudicationView : public QWidget {
    Q_OBJECT
public:
    AdjudicationView(const QString& workspace, const QString& reviewer, QWidget* parent = nullptr);

    // Loads the queue of a dataset (by name or id; empty: the one imported from sourceFile) and
    // opens its most disagreed document.
    void openDataset(const QString& dataset, const QString& sourceFile = {});
    void openQueueEntry(int index);
    void accept() { decide(true); }
    void reject() { decide(false); }
    void undo();
    void moveToContested(int direction);

    const AdjudicationQueue& queue() const { return queue_; }
    const AdjudicationState& state() const { return state_; }
    // The contested boundary under review: an index into state().plan.boundaries, if any.
    std::optional<std::size_t> current() const;
    bool isBusy() const { return busy_ > 0; }
    const QString& reviewer() const { return session_->reviewer(); }

Q_SIGNALS:
    void queueShown();
    void documentShown(); // after every answer: opened, decided, undone
    void failed(const QString& message);

protected:
    void keyPressEvent(QKeyEvent* event) override;
    bool event(QEvent* event) override;

private:
    void decide(bool accept);
    void track(QFuture<AdjudicationState> future);
    void show(const AdjudicationState& state);

    AdjudicationSession* session_;
    QListWidget* queueList_;
    AdjudicationTracks* tracks_;
    QLabel* summary_;
    QLabel* detail_;
    QFutureWatcher<AdjudicationQueue> queueWatcher_;
    AdjudicationQueue queue_;
    AdjudicationState state_;
    std::size_t position_ = 0; // among the contested boundaries
    int busy_ = 0;
};

} // namespace blocklens::ui
