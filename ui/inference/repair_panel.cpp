#include "inference/repair_panel.hpp"
#include "inference/status_text.hpp"

#include "inference/inference_worker.hpp"
#include "inference/request_follower.hpp"
#include "inference/run_format.hpp"
#include "view_export.hpp"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace blocklens::ui {

RepairPanel::RepairPanel(InferenceWorker* worker, QWidget* parent) : QWidget(parent), worker_(worker)
{
    setObjectName(QStringLiteral("repairPanel"));
    auto* layout = new QVBoxLayout(this);
    auto* controls = new QHBoxLayout;
    run_ = new QPushButton(tr("Sweep ▶"));
    run_->setObjectName(QStringLiteral("repairSweep"));
    run_->setToolTip(tr("Run the document on screen (and the side by side's query) under full attention and under each "
                        "repair setting of block-cached attention: sink N in 0,1,4,16; recompute-first k in 0,1,4,16,64; "
                        "recompute-frac r in 0,0.05,0.15,0.3,1. Empties the block cache."));
    cancel_ = new QPushButton(tr("Cancel"));
    cancel_->setObjectName(QStringLiteral("repairCancel"));
    cancel_->setEnabled(false);
    cost_ = new QComboBox;
    cost_->setObjectName(QStringLiteral("repairCost"));
    cost_->addItem(tr("Extra FLOPs with blocks cached"));
    cost_->addItem(tr("Extra FLOPs from an empty cache"));
    cost_->setToolTip(tr("Blocks cached: the work a repair adds at query time. Empty cache: sink encodings included."));
    export_ = new QPushButton(tr("Export PNG/SVG…"));
    export_->setObjectName(QStringLiteral("repairExport"));
    progress_ = new QProgressBar;
    progress_->setMaximumWidth(220);
    QSizePolicy keep = progress_->sizePolicy();
    keep.setRetainSizeWhenHidden(true);
    progress_->setSizePolicy(keep);
    progress_->hide();
    controls->addWidget(run_);
    controls->addWidget(cancel_);
    controls->addWidget(cost_);
    controls->addWidget(export_);
    controls->addWidget(progress_);
    controls->addStretch(1);
    layout->addLayout(controls);
    status_ = new QLabel(tr("Sweep to chart what each repair of block attention costs and how close it gets to full attention. "
                            "Click a point to see that setting side by side."));
    status_->setObjectName(QStringLiteral("repairStatus"));
    status_->setWordWrap(true);
    layout->addWidget(status_);
    chart_ = new RepairChart;
    layout->addWidget(chart_, 1);

    connect(run_, &QPushButton::clicked, this, &RepairPanel::run);
    connect(cancel_, &QPushButton::clicked, this, &RepairPanel::cancel);
    connect(cost_, &QComboBox::currentIndexChanged, this, [this] {
        if (report_)
            chart_->plot(*report_, cost());
    });
    connect(export_, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export chart"), QStringLiteral("blocklens-repairs.png"),
                                                          tr("PNG image (*.png);;SVG drawing (*.svg)"));
        if (path.isEmpty())
            return;
        const QString error = exportTo(path);
        setStatus(error.isEmpty() ? tr("Saved %1").arg(path) : error, !error.isEmpty());
    });
    connect(chart_, &RepairChart::pointChosen, this, &RepairPanel::settingChosen);
    followRequests<SweepReport>(this, worker_, runId_, progress_, &InferenceWorker::sweepReady,
                                [this](const SweepReport& report) { show(report); },
                                {.ended = [this] { setRunning(false); },
                                 .failed =
                                     [this](const QString& message) {
                                         setStatus(tr("The sweep failed: %1").arg(message), true);
                                         Q_EMIT sweepFailed(message);
                                     },
                                 .cancelled =
                                     [this] {
                                         setStatus(tr("Cancelled; the chart shows the last finished sweep, if any."));
                                         Q_EMIT sweepFailed(statusText());
                                     }});
}

void RepairPanel::run()
{
    if (!worker_->model()) {
        setStatus(tr("No model is loaded: choose one in the Model panel (View > Model)."), true);
        Q_EMIT sweepFailed(statusText());
        return;
    }
    QString why;
    const std::optional<SweepJob> job = source_ ? source_(&why) : std::nullopt;
    if (!job) {
        setStatus(why.isEmpty() ? tr("Open a document first.") : why, true);
        Q_EMIT sweepFailed(statusText());
        return;
    }
    runId_ = worker_->requestSweep(*job);
    setRunning(true);
    setStatus(tr("Sweeping the repair settings on the inference thread…"));
}

void RepairPanel::cancel()
{
    if (runId_)
        worker_->cancel(runId_);
}

QString RepairPanel::statusText() const
{
    return status_->text();
}

QString RepairPanel::exportTo(const QString& path)
{
    return exportWidget(chart_, path);
}

RepairChart::Cost RepairPanel::cost() const
{
    return cost_->currentIndex() == 1 ? RepairChart::Cost::Cold : RepairChart::Cost::Warm;
}

void RepairPanel::setRunning(bool running)
{
    cancel_->setEnabled(running);
    progress_->setVisible(running);
    if (running)
        progress_->setRange(0, 0);
    else
        runId_ = 0;
}

void RepairPanel::show(const SweepReport& report)
{
    report_ = report;
    chart_->plot(report, cost());
    QStringList skipped;
    for (const SweepPoint& p : report.points)
        if (!p.skipped.isEmpty())
            skipped << tr("%1 (%2)").arg(p.name, p.skipped);
    QString status = tr("%1 settings on %2 tokens in %3 blocks. Click a point to see it side by side.")
                         .arg(report.points.size() - static_cast<std::size_t>(skipped.size()))
                         .arg(report.tokens)
                         .arg(report.blocks);
    if (!skipped.isEmpty())
        status += tr(" Not plotted: %1.").arg(skipped.join(QStringLiteral("; ")));
    setStatus(status);
    Q_EMIT sweepShown();
}

void RepairPanel::setStatus(const QString& text, bool error)
{
    showStatusText(status_, text, error, palette());
}

} // namespace blocklens::ui
