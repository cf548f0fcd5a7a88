#pragma once
// The workbench window: opens documents and datasets (menu, drag and drop, recent files,
// command line), shows the document with its blocks, and lets an annotator correct the
// boundaries with the keyboard; every edit is saved to the workspace as it happens.
#include "document_loader.hpp"
#include "document_pane.hpp"
#include "segmentation_runner.hpp"

#include <QFutureWatcher>
#include <QMainWindow>

#include <functional>
#include <optional>

class QDockWidget;
class QLabel;
class QMenu;
class QProgressDialog;
class QPushButton;
class QToolButton;

namespace blocklens::ui {

class AnnotationSession;
class AttentionPanel;
struct AttentionReport;
class ExperimentsBrowser;
class CompareView;
struct CompareJob;
class DatasetBrowser;
class InferenceWorker;
class ModelPanel;
class PresentationMode;
class RetrainController;
struct RetrainResult;
class DocumentPane;
class DocumentView;
class MetricsPanel;
class ScoreChart;
class SegmenterPanel;
class ShortcutOverlay;
class StatsPanel;
class StoreWriter;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    // `workspace`: the SQLite workspace file where edits are saved (empty: none).
    explicit MainWindow(const QString& workspace = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens a document or dataset in the background; with replaceInvalidUtf8, invalid UTF-8 is
    // replaced with U+FFFD instead of refused (the banner's "Open Anyway" does this).
    void openPath(const QString& path, bool replaceInvalidUtf8 = false);

    // Parts, for tests and for the screenshot tool.
    DocumentPane* documentPane() const { return pane_; }
    DocumentView* documentView() const;
    StatsPanel* statsPanel() const { return stats_; }
    DatasetBrowser* datasetBrowser() const { return browser_; }
    AnnotationSession* annotation() const { return session_; }
    StoreWriter* storeWriter() const { return writer_; }
    ShortcutOverlay* shortcutOverlay() const { return overlay_; }
    SegmenterPanel* segmenterPanel() const { return segPanel_; }
    ScoreChart* scoreChart() const { return chart_; }
    MetricsPanel* metricsPanel() const { return metrics_; }
    SegmentationRunner* segmentationRunner() { return &runner_; }
    const SegmentResult& lastSegmentation() const { return lastResult_; }
    const std::vector<std::size_t>& suggestions() const { return suggestions_; }
    QAction* action(const QString& objectName) const;
    QString errorText() const; // the message in the banner ("" when hidden)
    QPushButton* bannerAction() const { return bannerAction_; } // the banner's button (hidden when it offers none)
    bool isLoading() const;
    // Inference (main_window_inference.cpp; null when built without libtorch): the model panel,
    // the side-by-side comparison and presentation mode, all on one InferenceWorker.
    InferenceWorker* inferenceWorker() const { return inference_; }
    ModelPanel* modelPanel() const { return modelPanel_; }
    CompareView* compareView() const { return compareView_; }
    PresentationMode* presentationMode() const { return presentation_; }
    void loadModel(const QString& directory, const QString& device = QStringLiteral("cpu"));
    // Segment > Retrain (main_window_retrain.cpp; null when built without libtorch).
    RetrainController* retrainController() const { return retrain_; }
    // Heatmap with leakage, and the experiments browser (main_window_analysis.cpp).
    AttentionPanel* attentionPanel() const { return attention_; }
    ExperimentsBrowser* experimentsBrowser() const { return experiments_; }

Q_SIGNALS:
    void inputShown(const QString& path); // a document or dataset is on screen
    void inputFailed(const QString& message);
    void segmentationShown(); // a segmenter's result is on screen (tracks, chart, metrics)
    void reviewQueueReady();
    void attentionShown();                         // a heatmap of the document on screen is ready
    void attentionFailed(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    // main_window.cpp: layout, loading, files
    void buildFileMenu();
    void buildDocks();
    void makeRoomWhenShown(QDockWidget* dock); // a bottom dock takes about half the height when shown
    void arrangeDocks();                       // tabs that fit small screens; View menu raises
    void showLoaded(const LoadedInput& input);
    void showDatasetRow(int row);
    // The banner above the document; with actionText, a button in it that runs `action`.
    void showBanner(const QString& message, bool isError, const QString& actionText = {}, std::function<void()> action = {});
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void restoreSettings();
    void exportView();
    void exportDataset();
public:
    // The export actions without their file dialogs (tests, scripts). Empty string on success,
    // otherwise a message naming the file and the problem.
    QString exportViewTo(const QString& path);
    QString exportDatasetTo(const QString& path);
private:
    // main_window_edit.cpp: the annotation actions (keyboard-first)
    void buildEditActions();
    void refreshAfterEdit();
    std::size_t caretCodePoint() const;
    int boundaryNearCaret() const; // index into the session's boundaries, -1 if none
    void jumpToBoundary(int direction);
    void markReviewedAndNext();
    void nudgeBoundary(int direction);
    // main_window_segment.cpp: segmenters, score chart, metrics, suggestions, review queue
    void buildSegmentDocks();
    void documentChanged(); // a new document is on screen: reset panels, re-segment
    void requestSegmentation();
    void showSegmentation(const SegmentResult& result);
    void updateSuggestions();
    void acceptSuggestion();
    void rejectSuggestion();
    void jumpToDisagreement(int direction);
    void buildReviewQueue();
    void updateTracks();
    void startComparison(); // other segmenters' tracks for the document on screen, in the background
    void updateComparisons(); // metrics' second column: the segmenter and other annotators' versions
    std::vector<std::pair<QString, std::vector<Boundary>>> otherAnnotators(); // from the workspace

    // main_window_inference.cpp: model panel, side by side, presentation mode
    void buildInference();
    std::optional<CompareJob> currentCompareJob(QString* why) const;
    // main_window_retrain.cpp: retrain the learned segmenter on the dataset + corrections
    void buildRetrain();
    void startRetrain();
    void showRetrainResult(const RetrainResult& result);
    // main_window_analysis.cpp: heatmap dock, leakage marks, experiments dock
    void buildAnalysis();
    void requestAttention();
    void showAttention(const AttentionReport& report);
    void boundariesChangedForAnalysis();
    void updateLeakageMarks();
    QString proposalName() const;

    QString workspace_;
    StoreWriter* writer_ = nullptr;
    AnnotationSession* session_ = nullptr;
    DocumentPane* pane_;
    StatsPanel* stats_;
    DatasetBrowser* browser_;
    ShortcutOverlay* overlay_;
    QWidget* banner_;
    QLabel* bannerText_;
    QPushButton* bannerAction_;
    std::function<void()> bannerCallback_;
    QMenu* recentMenu_ = nullptr;
    QMenu* editMenu_ = nullptr;
    QMenu* viewMenu_ = nullptr;
    QMenu* helpMenu_ = nullptr;
    QFutureWatcher<LoadedInput> loadWatcher_;
    QString pendingPath_;
    LoadedInput current_; // what is open
    int currentRow_ = -1;
    SegmentationRunner runner_;
    SegmenterPanel* segPanel_ = nullptr;
    ScoreChart* chart_ = nullptr;
    MetricsPanel* metrics_ = nullptr;
    SegmentResult lastResult_;
    std::vector<std::size_t> lineStarts_;      // of the document on screen
    std::vector<std::size_t> suggestions_;     // segmenter cuts not in the current boundaries
    std::vector<std::size_t> rejected_;        // suggestions the annotator dismissed
    std::vector<Track> compareTracks_;         // other segmenters, when comparing
    std::shared_ptr<const Document> compareDoc_; // the document they were computed for
    std::vector<std::pair<QString, std::vector<Boundary>>> annotators_; // other versions of this document
    bool comparing_ = false;
    bool reviewQueue_ = false;
    bool pendingQueueJump_ = false; // jump to the first disagreement once the row is segmented
    QFutureWatcher<std::vector<double>> queueWatcher_;
    QFutureWatcher<std::vector<Track>> compareWatcher_;
    InferenceWorker* inference_ = nullptr;
    ModelPanel* modelPanel_ = nullptr;
    CompareView* compareView_ = nullptr;
    PresentationMode* presentation_ = nullptr;
    RetrainController* retrain_ = nullptr;
    QProgressDialog* retrainProgress_ = nullptr;
    AttentionPanel* attention_ = nullptr;
    ExperimentsBrowser* experiments_ = nullptr;
    quint64 attentionRequest_ = 0;
    std::shared_ptr<const Document> attentionDocument_; // what the pending capture is for
};

} // namespace blocklens::ui
