#pragma once
// The repair chart's panel (issue 18): Sweep runs core's repair sweep (engine/repair_sweep.hpp)
// on the document on screen on the inference thread, with progress and Cancel; the chart
// (RepairChart) plots it, its x axis switchable between warm and cold extra FLOPs, and exports
// as PNG or SVG. A failed or cancelled sweep leaves the previous chart on screen. Clicking a point
// emits settingChosen (the inference feature shows that setting side by side).
#include "inference/inference_types.hpp"
#include "inference/repair_chart.hpp"

#include <QWidget>

#include <functional>
#include <optional>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;

namespace blocklens::ui {

class InferenceWorker;

class RepairPanel : public QWidget {
    Q_OBJECT
public:
    // What to sweep: the document on screen, its cuts and the side by side's query; nullopt and
    // why when there is nothing.
    using JobSource = std::function<std::optional<SweepJob>(QString* why)>;

    explicit RepairPanel(InferenceWorker* worker, QWidget* parent = nullptr);
    void setJobSource(JobSource source) { source_ = std::move(source); }

    void run();    // the Sweep button
    void cancel(); // the Cancel button
    bool isRunning() const { return runId_ != 0; }
    const std::optional<SweepReport>& lastReport() const { return report_; }
    RepairChart* chart() const { return chart_; }
    QString statusText() const;
    QString exportTo(const QString& path); // empty on success, else why (view_export.hpp)

Q_SIGNALS:
    void sweepShown();
    void sweepFailed(const QString& message); // also when cancelled
    void settingChosen(const QString& setting);

private:
    void setRunning(bool running);
    void setStatus(const QString& text, bool error = false);
    void show(const SweepReport& report);
    RepairChart::Cost cost() const;

    InferenceWorker* worker_;
    JobSource source_;
    QPushButton *run_, *cancel_, *export_;
    QComboBox* cost_;
    QProgressBar* progress_;
    QLabel* status_;
    RepairChart* chart_;
    quint64 runId_ = 0;
    std::optional<SweepReport> report_;
};

} // namespace blocklens::ui
