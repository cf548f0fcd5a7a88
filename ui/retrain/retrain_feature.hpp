#pragma once
// The retraining feature (issue 8): Segment > Retrain Learned Segmenter retrains on the open
// dataset and the workspace's corrections in the background (RetrainController), shows progress
// with a cancel button, then re-segments with the new model and shows the quality before and
// after. A model retrained earlier for this workspace is used from the start.
#include <QObject>

class QProgressDialog;

namespace blocklens::ui {

class FeatureHost;
class RetrainController;
struct RetrainResult;
class SegmentationFeature;
class Workbench;

class RetrainFeature : public QObject {
    Q_OBJECT
public:
    RetrainFeature(FeatureHost& host, Workbench& workbench, SegmentationFeature& segmentation);

    RetrainController* controller() const { return controller_; }

private:
    void start();
    void showResult(const RetrainResult& result);

    FeatureHost& host_;
    Workbench& workbench_;
    SegmentationFeature& segmentation_;
    RetrainController* controller_;
    QProgressDialog* progress_;
};

} // namespace blocklens::ui
