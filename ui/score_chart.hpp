#pragma once
// The boundary track: the scorer's score for every candidate along the document (by line), the
// cuts the decoder chose, the reference boundaries, and the decoder's threshold as a line the
// user drags to re-segment live. Clicking a point jumps to that candidate in the text. Cuts below
// the threshold are drawn as their own series ("refined"): the threshold decoder's depth
// refinement split a block that was still too long there, whatever the score.
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
    QSize sizeHint() const override { return {640, 190}; } // a strip under the document, not half the window
    int cutCount() const;        // cuts at or above the threshold (all cuts without one)
    int refinedCutCount() const; // cuts below the threshold: from depth refinement
    static QString refinedCutExplanation();

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
    void updateCutSeries(); // splits the chosen cuts at the threshold
    void applyTheme();
    QLineSeries* scores_;
    QScatterSeries* points_;
    QScatterSeries* chosen_;
    QScatterSeries* refined_;
    QList<QPointF> cuts_; // every chosen cut (line, score)
    QScatterSeries* reference_;
    QLineSeries* threshold_line_;
    QValueAxis* x_;
    QValueAxis* y_;
    std::optional<double> threshold_;
    std::vector<std::pair<double, std::size_t>> lineToOffset_; // x (line) -> candidate offset
    bool dragging_ = false;
};

} // namespace blocklens::ui
