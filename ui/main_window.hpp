#pragma once
// The BlockLens window: a host of features (feature_host.hpp). It owns the menu bar, the banner
// above the document, the document pane, the status bar and where tool views go; each feature
// (ui/workbench, ui/segmentation, ui/inference, ui/analysis, ui/experiments, ui/retrain) adds its
// docks, menu entries and actions through the host and keeps its own state. The accessors below
// delegate to the features, for tests and for scripts (launch_script.hpp).
#include "document_loader.hpp"
#include "document_pane.hpp"
#include "feature_host.hpp"
#include "segmentation_runner.hpp"

#include <QMainWindow>

#include <map>
#include <vector>

class QPushButton;

namespace blocklens::ui {

class AnalysisFeature;
class AnnotationSession;
class AttentionPanel;
class Banner;
class CompareView;
class DatasetBrowser;
class EditingActions;
class ExperimentsBrowser;
class ExperimentsFeature;
class InferenceFeature;
class InferenceWorker;
class MetricsPanel;
class ModelPanel;
class PresentationMode;
class RetrainController;
class RetrainFeature;
class ScoreChart;
class SegmentationFeature;
class SegmenterPanel;
class ShortcutOverlay;
class StatsPanel;
class StoreWriter;
class Workbench;

class MainWindow : public QMainWindow, public FeatureHost {
    Q_OBJECT
public:
    // `workspace`: the SQLite workspace file where edits are saved (empty: none).
    explicit MainWindow(const QString& workspace = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens a document or dataset in the background; with replaceInvalidUtf8, invalid UTF-8 is
    // replaced with U+FFFD instead of refused (the banner's "Open Anyway" does this).
    void openPath(const QString& path, bool replaceInvalidUtf8 = false);
    bool isLoading() const;
    // Loads a model in the background (no-op when built without libtorch).
    void loadModel(const QString& directory, const QString& device = QStringLiteral("cpu"));
    QAction* action(const QString& objectName) const;
    // What scripts wait for after triggering `actionName` (empty when it finishes at once).
    Completion completion(const QString& actionName) const;
    QString errorText() const;         // the message in the banner ("" when hidden)
    QPushButton* bannerAction() const; // the banner's button (hidden when it offers none)
    // The export actions without their file dialogs (tests, scripts): "" or what went wrong.
    QString exportViewTo(const QString& path);
    QString exportDatasetTo(const QString& path);

    // Parts, for tests and for scripts. The inference ones are null when built without libtorch.
    DocumentPane* documentPane() override { return pane_; }
    DocumentPane* documentPane() const { return pane_; }
    DocumentView* documentView() const;
    ShortcutOverlay* shortcutOverlay() const { return overlay_; }
    AnnotationSession* annotation() const;
    StoreWriter* storeWriter() const;
    StatsPanel* statsPanel() const;
    DatasetBrowser* datasetBrowser() const;
    SegmenterPanel* segmenterPanel() const;
    ScoreChart* scoreChart() const;
    MetricsPanel* metricsPanel() const;
    SegmentationRunner* segmentationRunner();
    const SegmentResult& lastSegmentation() const;
    const std::vector<std::size_t>& suggestions() const;
    InferenceWorker* inferenceWorker() const;
    ModelPanel* modelPanel() const;
    CompareView* compareView() const;
    PresentationMode* presentationMode() const;
    RetrainController* retrainController() const;
    AttentionPanel* attentionPanel() const;
    ExperimentsBrowser* experimentsBrowser() const;

    // FeatureHost
    QMainWindow* window() override { return this; }
    QMenu* menu(Menu which) override;
    QDockWidget* addToolView(const QString& objectName, const QString& title, QWidget* content, Qt::DockWidgetArea area,
                             const ToolViewOptions& options = {}) override;
    WorkspaceGateway* workspace() override { return workspace_; }
    void showStatus(const QString& message, int timeoutMs = 0) override;
    void showBanner(const QString& message, bool isError, const QString& actionText = {}, std::function<void()> action = {}) override;
    void hideBanner() override;
    void setCompletion(const QString& actionName, Completion completion) override;

Q_SIGNALS:
    void inputShown(const QString& path); // a document or dataset is on screen
    void inputFailed(const QString& message);
    void segmentationShown(); // a segmenter's result is on screen (tracks, chart, metrics)
    void reviewQueueReady();
    void attentionShown(); // a heatmap of the document on screen is ready
    void attentionFailed(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void addFeatures();
    void addWindowActions();
    void arrangeDocks(); // tabs that fit small screens; View menu raises
    void makeRoomWhenShown(QDockWidget* dock);

    WorkspaceGateway* workspace_;
    Banner* banner_;
    DocumentPane* pane_;
    ShortcutOverlay* overlay_;
    std::map<Menu, QMenu*> menus_;
    std::map<QString, Completion> completions_;
    // The features, in the order they were added (they are removed in reverse).
    std::vector<QObject*> features_;
    Workbench* workbench_ = nullptr;
    SegmentationFeature* segmentation_ = nullptr;
    InferenceFeature* inference_ = nullptr;
    RetrainFeature* retrain_ = nullptr;
    AnalysisFeature* analysis_ = nullptr;
    ExperimentsFeature* experiments_ = nullptr;
};

} // namespace blocklens::ui
