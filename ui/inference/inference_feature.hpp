#pragma once
// The inference feature (issue 7): the Model dock (modelDock), the side-by-side comparison of full
// and block attention on the document on screen (compareDock, Run Side by Side, TTFT Race) and
// presentation mode, the repair chart (repairDock, Repair Chart; issue 18), the side by side with
// the block-distilled model beside (Compare with Block-Distilled Model; issue 19), all driven by one InferenceWorker, which the analysis feature shares. Block
// sizes follow a loaded model's tokenizer (the segmentation runner is told).
#include <QObject>
#include <QString>

#include <functional>
#include <optional>

class QDockWidget;

namespace blocklens::ui {

struct CompareJob;
class CompareView;
class FeatureHost;
class InferenceWorker;
class ModelPanel;
class PresentationMode;
class RepairPanel;
class SegmentationFeature;
class Workbench;

class InferenceFeature : public QObject {
    Q_OBJECT
public:
    InferenceFeature(FeatureHost& host, Workbench& workbench, SegmentationFeature& segmentation);

    InferenceWorker* worker() const { return worker_; }
    ModelPanel* modelPanel() const { return modelPanel_; }
    CompareView* compareView() const { return compareView_; }
    PresentationMode* presentationMode() const { return presentation_; }
    RepairPanel* repairPanel() const { return repairPanel_; }
    // Loads a model directory in the background, as the Model panel's Load does.
    void loadModel(const QString& directory, const QString& device);

private:
    void buildActions();
    void runWhenReady(); // the comparison on what is on screen; waits for a model still loading
    void whenModelReady(std::function<void()> run); // now, or once a model still loading is loaded (or failed)
    std::optional<CompareJob> currentCompareJob(QString* why) const;
    // The block-distilled counterpart of the loaded (or loading) model, or empty and why (issue 19).
    QString distilledModel(QString* why) const;

    FeatureHost& host_;
    Workbench& workbench_;
    SegmentationFeature& segmentation_;
    InferenceWorker* worker_;
    ModelPanel* modelPanel_;
    CompareView* compareView_;
    PresentationMode* presentation_ = nullptr;
    QDockWidget* compareDock_ = nullptr;
    RepairPanel* repairPanel_ = nullptr; // the repair chart (issue 18), a tab beside the side by side
    QDockWidget* repairDock_ = nullptr;
    // The side by side's second model before presentation mode set the distilled one (restored on leaving).
    std::optional<QString> otherModelBeforePresentation_;
};

} // namespace blocklens::ui
