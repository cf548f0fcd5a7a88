#pragma once
// The boundary track: the scorer's score for every candidate along the document (by line), the
// cuts the decoder chose, the reference boundaries, and the decoder's threshold as a line the
// user drags to re-segment live. Clicking a point jumps to that candidate in the text.
#include "document/document.hpp"
#include "segment/candidates.hpp"
#include "theme.hpp"

#include <QChartView>

#include <optional>
#include <vector>

class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace blocklens::ui {

class ScoreChart : public QChartView {
    Q_OBJECT
public:
    explicit ScoreChart(QWidget* parent = nullptr);

    void setData(const std::vector<segment::Candidate>& candidates, const std::vector<double>& scores,
                 const std::vector<std::size_t>& lineStarts, const std::vector<Boundary>& chosen,
                 const std::vector<Boundary>& reference);
    void setThreshold(std::optional<double> threshold); // hidden when nullopt
    std::optional<double> threshold() const { return threshold_; }
    void clearData();
    int pointCount() const;

Q_SIGNALS:
    void thresholdDragged(double value);
    void jumpRequested(std::size_t offset);

protected:
    void changeEvent(QEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    void updateThresholdLine();
    void applyTheme();
    QLineSeries* scores_;
    QScatterSeries* points_;
    QScatterSeries* chosen_;
    QScatterSeries* reference_;
    QLineSeries* threshold_line_;
    QValueAxis* x_;
    QValueAxis* y_;
    std::optional<double> threshold_;
    std::vector<std::pair<double, std::size_t>> lineToOffset_; // x (line) -> candidate offset
    bool dragging_ = false;
};

} // namespace blocklens::ui
