#include "retrain/retrain_feature.hpp"

#include "feature_host.hpp"
#include "learn/learned_scorer.hpp"
#include "retrain_controller.hpp"
#include "segmentation/segmentation_feature.hpp"
#include "workbench/workbench.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QAction>
#include <QFileInfo>
#include <QMainWindow>
#include <QMenu>
#include <QProgressDialog>

#include <cmath>

namespace blocklens::ui {
namespace {

const QString kLearned = QString::fromLatin1(learn::kLearnedSegmenter.data(), learn::kLearnedSegmenter.size());

QString pk(double v) { return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'f', 3); }

} // namespace

RetrainFeature::RetrainFeature(FeatureHost& host, Workbench& workbench, SegmentationFeature& segmentation)
    : QObject(host.window()), host_(host), workbench_(workbench), segmentation_(segmentation),
      controller_(new RetrainController(host.window()))
{
    QAction* a = host_.menu(FeatureHost::Menu::Segment)->addAction(tr("&Retrain Learned Segmenter on Dataset + Corrections"));
    a->setObjectName(QStringLiteral("retrainSegmenter"));
    a->setStatusTip(tr("Train the learned segmenter again on the open dataset and the corrections saved in this "
                       "workspace, in the background; the model is saved beside the workspace."));
    connect(a, &QAction::triggered, this, [this] { start(); });

    progress_ = new QProgressDialog(host_.window());
    progress_->setWindowTitle(tr("Retraining the learned segmenter"));
    progress_->setWindowModality(Qt::NonModal); // the annotator keeps working meanwhile
    progress_->setAutoClose(false);
    progress_->setAutoReset(false);
    progress_->setMinimumDuration(0);
    progress_->reset();
    progress_->hide();
    connect(progress_, &QProgressDialog::canceled, controller_, &RetrainController::cancel);
    connect(controller_, &RetrainController::progress, this, [this](const QString& stage, qint64 done, qint64 total) {
        if (!controller_->isRunning())
            return;
        progress_->setLabelText(stage);
        progress_->setMaximum(total > 0 ? static_cast<int>(std::min<qint64>(total, 1 << 30)) : 0);
        progress_->setValue(static_cast<int>(std::min<qint64>(done, 1 << 30)));
    });
    connect(controller_, &RetrainController::finished, this, [this](const RetrainResult& r) { showResult(r); });

    // A model retrained earlier for this workspace: used from the start (loaded on first use, off
    // the UI thread, by the segmentation worker).
    if (const QString& workspace = host_.workspace()->path(); !workspace.isEmpty()) {
        const QString path = retrainedModelPath(workspace);
        if (QFileInfo::exists(path))
            segmentation_.runner()->setScorerOverride(kLearned, learn::LearnedScorer::lazy(path.toStdString()));
    }
}

void RetrainFeature::start()
{
    if (controller_->isRunning())
        return;
    WorkspaceGateway* workspace = host_.workspace();
    if (!workspace->isOpen()) {
        host_.showBanner(tr("Retraining needs a workspace (the corrections and the new model live there)."), true);
        return;
    }
    RetrainRequest req;
    req.workspace = workspace;
    if (workbench_.hasDataset())
        req.dataset = workbench_.inputPath();
    if (const auto s = std::dynamic_pointer_cast<const learn::LearnedScorer>(segmentation_.runner()->scorerOverride(kLearned)))
        try {
            req.before = s->model(); // a small JSON file; unreadable: the shipped model is "before"
        } catch (const std::exception&) {
        }
    if (!controller_->start(req))
        return;
    progress_->setLabelText(tr("Starting…"));
    progress_->setRange(0, 0);
    progress_->show();
    host_.showStatus(tr("Retraining the learned segmenter in the background…"));
}

void RetrainFeature::showResult(const RetrainResult& r)
{
    progress_->hide();
    progress_->reset();
    if (!r.ok) {
        if (r.cancelled)
            host_.showStatus(r.error, 5000);
        else
            host_.showBanner(tr("Retraining failed: %1").arg(r.error), true);
        return;
    }
    segmentation_.runner()->setScorerOverride(kLearned, std::make_shared<learn::LearnedScorer>(r.model, r.modelPath.toStdString()));
    segmentation_.requestSegmentation(); // the learned segmenter now uses the new model
    host_.showBanner(tr("Retrained the learned segmenter on %1 documents (%2 corrected in this workspace) in %3 s. "
                        "Pk on those documents: before %4, after %5 (hybrid %6). Saved to %7.")
                         .arg(r.documents)
                         .arg(r.corrected)
                         .arg(r.seconds, 0, 'f', 1)
                         .arg(pk(r.pkBefore), pk(r.pkAfter), pk(r.pkBaseline), r.modelPath),
                     false);
}

} // namespace blocklens::ui
