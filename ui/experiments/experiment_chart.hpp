#pragma once
// Charts over recorded experiments (QtCharts, styled like the score chart):
//   TtftVsLength        time to first token against input tokens, one series per attention mode
//   FlopsVsLength       prefill FLOPs against input tokens, one series per mode
//   CacheHitRate        block-cached runs in the order they were recorded: hits / (hits + misses)
//                       of each run and the running rate over the session so far
//   SegmentationMetrics mean of a metric (F1, Pk, WindowDiff) per segmenter and document category
// Points are the stored values, unscaled, so what a chart shows can be checked against the store.
#include "experiments/experiments_snapshot.hpp"

#include <QChartView>

namespace blocklens::ui {

class ExperimentChart : public QChartView {
    Q_OBJECT
public:
    enum class Kind { TtftVsLength, FlopsVsLength, CacheHitRate, SegmentationMetrics };
    enum class Metric { F1, Pk, WindowDiff };

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

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyTheme();
    Kind kind_ = Kind::TtftVsLength;
    QString note_;
};

} // namespace blocklens::ui
