#pragma once
// The repair chart (issue 18): mean KL of the query block (against full attention) over the extra
// prefill FLOPs a repair of block-cached attention costs (a share of a full prefill), one line per
// repair family (sink, recompute-first, recompute-frac), from a SweepReport of the document on
// screen. A click on or near a point chooses that setting (pointChosen), which the side by side
// then shows. Points are the engine's values, unscaled.
#include "inference/inference_types.hpp"

#include <QChartView>

#include <optional>

namespace blocklens::ui {

class RepairChart : public QChartView {
    Q_OBJECT
public:
    // Which extra FLOPs the x axis shows: with every block cached (the query-time work) or from
    // an empty cache (sink encodings included).
    enum class Cost { Warm, Cold };

    explicit RepairChart(QWidget* parent = nullptr);
    void plot(const SweepReport& report, Cost cost);
    // The setting nearest to `value` (chart coordinates) on the line of `family`; empty if none.
    QString nearestSetting(const QString& family, const QPointF& value) const;
    // Where a setting's point is drawn, in viewport coordinates (tests click there).
    std::optional<QPoint> pointPosition(const QString& setting) const;
    // Small: the dock's scroll area gives the panel its hint, and the chart fills what is left.
    QSize sizeHint() const override { return {480, 260}; }

Q_SIGNALS:
    void pointChosen(const QString& setting); // engine::variantName of the point clicked

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyTheme();
    SweepReport report_;
    Cost cost_ = Cost::Warm;
};

} // namespace blocklens::ui
