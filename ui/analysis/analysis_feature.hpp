#pragma once
// The analysis feature (issue 7): the Heatmap dock (heatmapDock: where full attention goes between
// the blocks on screen, and what each cut drops, drawn on the document as leakage marks). The
// capture runs on the inference feature's worker; everything after it is cheap sums done here.
#include <QObject>
#include <QString>

#include <cstdint>
#include <memory>

namespace blocklens {
class Document;
}

namespace blocklens::ui {

class AttentionPanel;
struct AttentionReport;
class FeatureHost;
class InferenceWorker;
class SegmentationFeature;
class Workbench;

class AnalysisFeature : public QObject {
    Q_OBJECT
public:
    // `worker`: the inference feature's (null when built without libtorch: the panel says so).
    AnalysisFeature(FeatureHost& host, Workbench& workbench, SegmentationFeature& segmentation, InferenceWorker* worker);

    AttentionPanel* panel() const { return panel_; }

    // The most a capture's layers x heads x bins^2 floats may take when line starts are added as
    // spare bins. The panel recomputes over the whole capture on the UI thread at every edit and
    // every layer or head chosen (three passes), so this bounds that work, not only the memory:
    // at 256 MiB a 108k-character document (demo model: 6 layers x 8 heads, 1,155 bins) froze the
    // window for seconds after the capture and again at every edit (issue 15).
    static constexpr std::uint64_t kSpareBinsBudget = 16ull << 20;

Q_SIGNALS:
    void attentionShown(); // a heatmap of the document on screen is ready
    void attentionFailed(const QString& message);

private:
    void connectWorker();
    void requestAttention();
    // While a capture runs: the banner for a document past the model's trained context, from the
    // segmentation's token count in the model's tokens (once that segmentation is done).
    void warnIfPastContext();
    void showAttention(const AttentionReport& report);
    void boundariesChanged();
    // A new capture because cuts left the captured bins; `why` goes in the panel's status.
    void measureAgain(const QString& why);
    void updateLeakageMarks();
    QString proposalName() const;

    FeatureHost& host_;
    Workbench& workbench_;
    SegmentationFeature& segmentation_;
    InferenceWorker* worker_;
    AttentionPanel* panel_;
    quint64 request_ = 0;
    std::shared_ptr<const Document> requestDocument_; // what the pending capture is for
    bool measuredAgain_ = false; // the pending capture was asked for because cuts had moved
    QMetaObject::Connection waitForSegmentation_; // a capture asked for while a segmentation ran
};

} // namespace blocklens::ui
