#pragma once
// The segmentation feature: the segmenter panel (segmenterDock), live metrics (metricsDock) and the
// boundary score chart (chartDock); the segmenter's output as suggestions to accept or reject, as
// a track beside the document, and as the disagreements to jump between; other segmenters as
// tracks (View > Compare); and the review queue, a dataset sorted by disagreement.
#include "document_pane.hpp"
#include "segmentation_runner.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QFutureWatcher>
#include <QObject>

#include <memory>
#include <vector>

namespace blocklens::ui {

class FeatureHost;
class MetricsPanel;
class ScoreChart;
class SegmenterPanel;
class Workbench;

class SegmentationFeature : public QObject {
    Q_OBJECT
public:
    SegmentationFeature(FeatureHost& host, Workbench& workbench);

    SegmentationRunner* runner() { return &runner_; }
    SegmenterPanel* panel() const { return panel_; }
    ScoreChart* chart() const { return chart_; }
    MetricsPanel* metrics() const { return metrics_; }
    // The segmenter's last result on screen (its document may be an earlier one: compare).
    const SegmentResult& lastResult() const { return lastResult_; }
    const std::vector<std::size_t>& suggestions() const { return suggestions_; }
    // Segments the document on screen again with the panel's request (latest request wins).
    void requestSegmentation();

Q_SIGNALS:
    void segmentationShown(); // a segmenter's result is on screen (tracks, chart, metrics)
    void reviewQueueReady();

private:
    void buildActions();
    void documentChanged(); // a new document is on screen: reset panels, re-segment
    void showSegmentation(const SegmentResult& result);
    void updateSuggestions();
    void acceptSuggestion();
    void rejectSuggestion();
    std::optional<std::size_t> nearestSuggestion() const;
    void jumpToDisagreement(int direction);
    void buildReviewQueue();
    void updateTracks();
    void startComparison();   // other segmenters' tracks for the document on screen, in the background
    void updateComparisons(); // metrics' second column: the segmenter and other annotators' versions

    FeatureHost& host_;
    Workbench& workbench_;
    SegmentationRunner runner_;
    SegmenterPanel* panel_;
    ScoreChart* chart_;
    MetricsPanel* metrics_;
    SegmentResult lastResult_;
    std::vector<std::size_t> lineStarts_;      // of the document on screen
    std::vector<std::size_t> suggestions_;     // segmenter cuts not in the current boundaries
    std::vector<std::size_t> rejected_;        // suggestions the annotator dismissed
    std::vector<Track> compareTracks_;         // other segmenters, when comparing
    std::shared_ptr<const Document> compareDoc_; // the document they were computed for
    std::vector<AnnotatorVersion> annotators_; // other versions of this document in the workspace
    std::shared_ptr<const Document> annotatorsDoc_; // the document they are being read for
    bool comparing_ = false;
    bool reviewQueue_ = false;
    bool pendingQueueJump_ = false; // jump to the first disagreement once the row is segmented
    QFutureWatcher<std::vector<double>> queueWatcher_;
    QFutureWatcher<std::vector<Track>> compareWatcher_;
    QFutureWatcher<std::vector<AnnotatorVersion>> annotatorsWatcher_;
};

} // namespace blocklens::ui
