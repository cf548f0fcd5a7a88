#pragma once
// Runs segmenters off the UI thread. The latest request wins: a result for an older request is
// dropped, so dragging a threshold re-segments live without queueing stale work.
#include "document/document.hpp"
#include "segment/segmenter.hpp"

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <map>
#include <memory>

namespace blocklens::ui {

struct SegmentRequest {
    QString segmenter = QString::fromLatin1(segment::kDefaultSegmenter.data(), segment::kDefaultSegmenter.size());
    segment::RuleSet rules = 0; // 0: the segmenter's own candidate rules
    segment::SegmentOptions options;
    std::shared_ptr<const segment::Scorer> scorer; // replaces the segmenter's scorer (e.g. a retrained model)
};

struct SegmentResult {
    quint64 request = 0;
    std::shared_ptr<const Document> document;
    SegmentRequest what;
    segment::Segmentation segmentation;
    segment::Segmenter::Scored scored; // candidates and scores (empty for fixed-size)
    std::vector<Boundary> boundaries;  // the segmentation's cuts as level-1 boundaries
    double milliseconds = 0;
    QString error;
};

// A segmenter built from a request: a built-in one, with its candidate rules and scorer replaced
// if asked.
segment::Segmenter segmenterFor(const SegmentRequest& request);

// Synchronous: segments, scores and converts; never throws (errors land in SegmentResult::error).
SegmentResult runSegmentation(std::shared_ptr<const Document> doc, std::shared_ptr<const segment::TokenGrid> grid,
                              const SegmentRequest& request);

class SegmentationRunner : public QObject {
    Q_OBJECT
public:
    explicit SegmentationRunner(QObject* parent = nullptr);
    ~SegmentationRunner() override; // waits for a running segmentation

    // Replaces any pending request. The grid is computed once per document and kept.
    void request(std::shared_ptr<const Document> doc, const SegmentRequest& request);
    bool isBusy() const { return pending_ != 0; }
    std::shared_ptr<const segment::TokenGrid> grid() const { return grid_; }
    // Measure block sizes in this tokenizer's tokens (a loaded model's tokenizer.json, read off
    // the UI thread on the next request); empty: approx-tokens. The next request rebuilds the grid.
    void setTokenizerFile(const QString& path);
    QString tokenizerFile() const { return tokenizerFile_; }
    // Every later request for `segmenter` uses this scorer (null: the built-in one again); the
    // app's retrain action puts the retrained learned model here.
    void setScorerOverride(const QString& segmenter, std::shared_ptr<const segment::Scorer> scorer);
    std::shared_ptr<const segment::Scorer> scorerOverride(const QString& segmenter) const;

Q_SIGNALS:
    void finished(const blocklens::ui::SegmentResult& result);

private:
    void startNext();
    QFutureWatcher<SegmentResult> watcher_;
    quint64 next_ = 1;
    quint64 pending_ = 0;         // request whose result we want
    bool running_ = false;
    std::shared_ptr<const Document> queuedDoc_;
    SegmentRequest queued_;
    bool hasQueued_ = false;
    std::shared_ptr<const Document> gridDoc_;
    std::shared_ptr<const segment::TokenGrid> grid_;
    QString tokenizerFile_;
    std::shared_ptr<const Tokenizer> tokenizer_; // read from tokenizerFile_ (null until the first request)
    std::map<QString, std::shared_ptr<const segment::Scorer>> overrides_;
};

} // namespace blocklens::ui
