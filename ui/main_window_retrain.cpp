// MainWindow's "Retrain Learned Segmenter" action (Segment menu): retrains on the open dataset and
// the workspace's corrections in the background (RetrainController), shows progress with a
// cancel button, then re-segments with the new model and shows the quality before and after.
// A model retrained earlier for this workspace is used from the start.
#include "main_window.hpp"

#include "annotation/store_writer.hpp"
#include "learn/learned_scorer.hpp"
#include "retrain_controller.hpp"

#include <QAction>
#include <QFileInfo>
#include <QMenu>
#include <QMenuBar>
#include <QProgressDialog>
#include <QStatusBar>

#include <cmath>

namespace blocklens::ui {

namespace {

const QString kLearned = QString::fromLatin1(learn::kLearnedSegmenter.data(), learn::kLearnedSegmenter.size());

QMenu* segmentMenu(QMenuBar* bar, QMenu* before)
{
    for (QAction* a : bar->actions())
        if (a->menu() && a->menu()->objectName() == QLatin1String("segmentMenu"))
            return a->menu();
    auto* menu = new QMenu(QObject::tr("&Segment"), bar);
    menu->setObjectName(QStringLiteral("segmentMenu"));
    if (before)
        bar->insertMenu(before->menuAction(), menu);
    else
        bar->addMenu(menu);
    return menu;
}

QString pk(double v) { return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'f', 3); }

} // namespace

void MainWindow::buildRetrain()
{
    retrain_ = new RetrainController(this);
    QAction* a = segmentMenu(menuBar(), helpMenu_)->addAction(tr("&Retrain Learned Segmenter on Dataset + Corrections"));
    a->setObjectName(QStringLiteral("retrainSegmenter"));
    a->setStatusTip(tr("Train the learned segmenter again on the open dataset and the corrections saved in this "
                       "workspace, in the background; the model is saved beside the workspace."));
    connect(a, &QAction::triggered, this, [this] { startRetrain(); });

    retrainProgress_ = new QProgressDialog(this);
    retrainProgress_->setWindowTitle(tr("Retraining the learned segmenter"));
    retrainProgress_->setWindowModality(Qt::NonModal); // the annotator keeps working meanwhile
    retrainProgress_->setAutoClose(false);
    retrainProgress_->setAutoReset(false);
    retrainProgress_->setMinimumDuration(0);
    retrainProgress_->reset();
    retrainProgress_->hide();
    connect(retrainProgress_, &QProgressDialog::canceled, retrain_, &RetrainController::cancel);
    connect(retrain_, &RetrainController::progress, this, [this](const QString& stage, qint64 done, qint64 total) {
        if (!retrain_->isRunning())
            return;
        retrainProgress_->setLabelText(stage);
        retrainProgress_->setMaximum(total > 0 ? static_cast<int>(std::min<qint64>(total, 1 << 30)) : 0);
        retrainProgress_->setValue(static_cast<int>(std::min<qint64>(done, 1 << 30)));
    });
    connect(retrain_, &RetrainController::finished, this, [this](const RetrainResult& r) { showRetrainResult(r); });

    // A model retrained earlier for this workspace: used from the start (loaded on first use, off
    // the UI thread, by the segmentation worker).
    if (!workspace_.isEmpty()) {
        const QString path = retrainedModelPath(workspace_);
        if (QFileInfo::exists(path))
            runner_.setScorerOverride(kLearned, learn::LearnedScorer::lazy(path.toStdString()));
    }
}

void MainWindow::startRetrain()
{
    if (retrain_->isRunning())
        return;
    if (workspace_.isEmpty()) {
        showBanner(tr("Retraining needs a workspace (the corrections and the new model live there)."), true);
        return;
    }
    RetrainRequest req;
    req.workspace = workspace_;
    if (current_.dataset)
        req.dataset = current_.path;
    if (const auto s = std::dynamic_pointer_cast<const learn::LearnedScorer>(runner_.scorerOverride(kLearned)))
        try {
            req.before = s->model(); // a small JSON file; unreadable: the shipped model is "before"
        } catch (const std::exception&) {
        }
    if (writer_)
        req.flushWrites = [w = writer_] { w->flush(); };
    if (!retrain_->start(req))
        return;
    retrainProgress_->setLabelText(tr("Starting…"));
    retrainProgress_->setRange(0, 0);
    retrainProgress_->show();
    statusBar()->showMessage(tr("Retraining the learned segmenter in the background…"));
}

void MainWindow::showRetrainResult(const RetrainResult& r)
{
    retrainProgress_->hide();
    retrainProgress_->reset();
    if (!r.ok) {
        if (r.cancelled)
            statusBar()->showMessage(r.error, 5000);
        else
            showBanner(tr("Retraining failed: %1").arg(r.error), true);
        return;
    }
    runner_.setScorerOverride(kLearned, std::make_shared<learn::LearnedScorer>(r.model, r.modelPath.toStdString()));
    requestSegmentation(); // the learned segmenter now uses the new model
    showBanner(tr("Retrained the learned segmenter on %1 documents (%2 corrected in this workspace) in %3 s. "
                  "Pk on those documents: before %4, after %5 (hybrid %6). Saved to %7.")
                   .arg(r.documents)
                   .arg(r.corrected)
                   .arg(r.seconds, 0, 'f', 1)
                   .arg(pk(r.pkBefore), pk(r.pkAfter), pk(r.pkBaseline), r.modelPath),
               false);
}

} // namespace blocklens::ui
