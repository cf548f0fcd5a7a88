#pragma once
// Charts over recorded experiments (QtCharts, styled like the score chart):
//   TtftVsLength        time to first token against input tokens, one series per attention mode
//   FlopsVsLength       prefill FLOPs against input tokens, one series per mode
//   CacheHitRate        block-cached runs in the order they were recorded: hits / (hits + misses)
//                       of each run and the running rate over the session so far
//   SegmentationMetrics mean of a metric (F1, Pk, WindowDiff) per segmenter and document category
//   RepairSettings      repairs of block attention (issue 18): a run metric (mean KL, top-1, TTFT)
//                       against the repair's setting, one line per repair family, each point the
//                       mean over the runs at that setting (across documents); sink N and
//                       recompute-first k on the token axis (bottom), recompute-frac r on the
//                       fraction axis (top); plain block-cached and full as dashed levels
// Points are the stored values, unscaled, so what a chart shows can be checked against the store.
#include "experiments/experiments_snapshot.hpp"

#include <QChartView>

namespace blocklens::ui {

class ExperimentChart : public QChartView {
    Q_OBJECT
public:
    enum class Kind { TtftVsLength, FlopsVsLength, CacheHitRate, SegmentationMetrics, RepairSettings };
    // F1, Pk, WindowDiff: of SegmentationMetrics; MeanKl, Top1, TtftMs: of RepairSettings.
    enum class Metric { F1, Pk, WindowDiff, MeanKl, Top1, TtftMs };

    explicit ExperimentChart(QWidget* parent = nullptr);

    // `runs` in recording order (the browser passes the runs its filters keep).
    void plot(Kind kind, const std::vector<store::RunRecord>& runs, const std::vector<store::MetricsGroup>& metrics,
              Metric metric = Metric::F1);
    Kind kind() const { return kind_; }
    // What the chart leaves out and why (e.g. a segmenter with no evaluation in a category);
    // empty when it shows everything.
    QString note() const { return note_; }
    static QString title(Kind kind);
    static QString metricName(Metric metric);
    static std::vector<Metric> metrics(Kind kind); // the metrics a kind offers (none: no choice)
    // Small, as the repair chart's: QGraphicsView's own hint is its scene, i.e. the chart's last
    // size, so the browser in the dock's scroll area kept whatever height the chart once had and
    // its x axis ended below the dock's fold (issue 15). The layout gives the chart what is left.
    QSize sizeHint() const override { return {480, 260}; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyTheme();
    Kind kind_ = Kind::TtftVsLength;
    QString note_;
};

} // namespace blocklens::ui
