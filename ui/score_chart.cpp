#include "score_chart.hpp"

#include <QChart>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QScatterSeries>
#include <QCursor>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>

namespace blocklens::ui {
namespace {

double lineOf(const std::vector<std::size_t>& lineStarts, std::size_t offset)
{
    return static_cast<double>(std::upper_bound(lineStarts.begin(), lineStarts.end(), offset) - lineStarts.begin() - 1);
}

} // namespace

ScoreChart::ScoreChart(QWidget* parent)
    : QChartView(parent), scores_(new QLineSeries), points_(new QScatterSeries), chosen_(new QScatterSeries),
      refined_(new QScatterSeries), reference_(new QScatterSeries), threshold_line_(new QLineSeries), x_(new QValueAxis), y_(new QValueAxis)
{
    auto* chart = new QChart;
    chart->setBackgroundRoundness(0);
    chart->setMargins(QMargins(4, 4, 4, 4));
    // The legend on the right: a bottom dock is wide and low, and every pixel of height goes to
    // the plot and its axis labels.
    chart->legend()->setAlignment(Qt::AlignRight);
    scores_->setName(tr("score"));
    chosen_->setName(tr("cut"));
    refined_->setName(tr("cut by refinement"));
    refined_->setMarkerShape(QScatterSeries::MarkerShapeTriangle);
    reference_->setName(tr("reference"));
    reference_->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    threshold_line_->setName(tr("threshold (drag)"));
    for (QAbstractSeries* s : std::initializer_list<QAbstractSeries*>{scores_, points_, chosen_, refined_, reference_, threshold_line_})
        chart->addSeries(s);
    chart->legend()->markers(points_).first()->setVisible(false);
    x_->setTitleText(tr("line"));
    x_->setLabelFormat(QStringLiteral("%d"));
    y_->setTitleText(tr("score"));
    y_->setLabelFormat(QStringLiteral("%.1f"));
    y_->setTickCount(3);
    // Hovering a refined cut says why it is below the threshold.
    connect(refined_, &QScatterSeries::hovered, this, [this](const QPointF&, bool state) {
        if (state)
            QToolTip::showText(QCursor::pos(), refinedCutExplanation(), this);
        else
            QToolTip::hideText();
    });
    chart->addAxis(x_, Qt::AlignBottom);
    chart->addAxis(y_, Qt::AlignLeft);
    for (QAbstractSeries* s : chart->series()) {
        s->attachAxis(x_);
        s->attachAxis(y_);
    }
    // QChartView made a default chart of its own; setChart() releases it without deleting it.
    QChart* placeholder = this->chart();
    setChart(chart);
    delete placeholder;
    applyTheme();
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(150);
    setToolTip(tr("Drag the dashed threshold to re-segment; click a point to jump to it. %1").arg(refinedCutExplanation()));
}

QString ScoreChart::refinedCutExplanation()
{
    return tr("Cuts below the threshold (triangles) come from depth refinement: a block still longer than the "
              "maximum is split again at its best-scoring candidate, whatever the score.");
}

int ScoreChart::cutCount() const
{
    return static_cast<int>(chosen_->count());
}

int ScoreChart::refinedCutCount() const
{
    return static_cast<int>(refined_->count());
}

void ScoreChart::updateCutSeries()
{
    QList<QPointF> above, below;
    for (const QPointF& c : cuts_)
        (threshold_ && c.y() < *threshold_ - 1e-9 ? below : above).append(c);
    chosen_->replace(above);
    refined_->replace(below);
}

void ScoreChart::applyTheme()
{
    // QChart themes reset series colours, so the series are styled after the theme.
    const Theme theme = Theme::fromPalette(palette());
    chart()->setTheme(theme.dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart()->setBackgroundBrush(palette().color(QPalette::Base));
    chart()->setBackgroundRoundness(0);
    scores_->setPen(QPen(theme.accent, 1.2));
    points_->setMarkerSize(4);
    points_->setColor(theme.accent);
    points_->setBorderColor(Qt::transparent);
    chosen_->setMarkerSize(9);
    chosen_->setColor(theme.boundary);
    chosen_->setBorderColor(Qt::transparent);
    reference_->setMarkerSize(7);
    reference_->setColor(QColor(0x2a, 0x9d, 0x8f));
    reference_->setBorderColor(Qt::transparent);
    refined_->setMarkerSize(10);
    refined_->setColor(theme.dark ? QColor(0xff, 0x6b, 0x9a) : QColor(0xc2, 0x18, 0x5b));
    refined_->setBorderColor(Qt::transparent);
    // Not the cuts' orange: the line the user drags is a different thing from what it produces.
    threshold_line_->setPen(QPen(theme.dark ? QColor(0xb3, 0x9d, 0xff) : QColor(0x6a, 0x4c, 0xd6), 2, Qt::DashLine));
    // Axis text a little smaller than the window's: at a dock's height the default size elides.
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    for (QValueAxis* axis : {x_, y_}) {
        axis->setLabelsFont(small);
        axis->setTitleFont(small);
    }
    chart()->legend()->setFont(small);
}

void ScoreChart::changeEvent(QEvent* event)
{
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyTheme();
}

void ScoreChart::clearData()
{
    for (QXYSeries* s : std::initializer_list<QXYSeries*>{scores_, points_, chosen_, refined_, reference_, threshold_line_})
        s->clear();
    cuts_.clear();
    lineToOffset_.clear();
}

int ScoreChart::pointCount() const
{
    return static_cast<int>(points_->count());
}

void ScoreChart::setData(const std::vector<segment::Candidate>& candidates, const std::vector<double>& scores,
                         const std::vector<std::size_t>& lineStarts, const std::vector<Boundary>& chosen,
                         const std::vector<Boundary>& reference)
{
    QList<QPointF> pts;
    pts.reserve(static_cast<qsizetype>(candidates.size()));
    lineToOffset_.clear();
    double lo = 0, hi = 1;
    for (std::size_t i = 0; i < candidates.size() && i < scores.size(); ++i) {
        const double x = lineOf(lineStarts, candidates[i].offset);
        pts.append(QPointF(x, scores[i]));
        lineToOffset_.emplace_back(x, candidates[i].offset);
        lo = std::min(lo, scores[i]);
        hi = std::max(hi, scores[i]);
    }
    scores_->replace(pts);
    points_->replace(pts);
    QList<QPointF> cuts, refs;
    for (const auto& b : chosen) {
        const auto it = std::lower_bound(lineToOffset_.begin(), lineToOffset_.end(), b.offset,
                                         [](const auto& p, std::size_t o) { return p.second < o; });
        const double y = it != lineToOffset_.end() && it->second == b.offset ? scores[static_cast<std::size_t>(it - lineToOffset_.begin())] : hi;
        cuts.append(QPointF(lineOf(lineStarts, b.offset), y));
    }
    for (const auto& b : reference)
        refs.append(QPointF(lineOf(lineStarts, b.offset), hi * 1.05));
    cuts_ = cuts;
    updateCutSeries();
    reference_->replace(refs);
    x_->setRange(0, std::max<double>(1, static_cast<double>(lineStarts.size())));
    y_->setRange(lo - 0.05 * (hi - lo), hi * 1.1);
    updateThresholdLine();
}

void ScoreChart::setThreshold(std::optional<double> threshold)
{
    threshold_ = threshold;
    updateThresholdLine();
    updateCutSeries();
}

void ScoreChart::updateThresholdLine()
{
    threshold_line_->clear();
    if (threshold_)
        threshold_line_->replace({QPointF(x_->min(), *threshold_), QPointF(x_->max(), *threshold_)});
}

void ScoreChart::mousePressEvent(QMouseEvent* event)
{
    const QPointF value = chart()->mapToValue(event->position());
    const QPointF lineAt = chart()->mapToPosition(QPointF(value.x(), threshold_.value_or(1e9)));
    if (threshold_ && std::abs(lineAt.y() - event->position().y()) < 8) {
        dragging_ = true;
        return;
    }
    if (!lineToOffset_.empty()) {
        const auto it = std::min_element(lineToOffset_.begin(), lineToOffset_.end(), [&](const auto& a, const auto& b) {
            return std::abs(a.first - value.x()) < std::abs(b.first - value.x());
        });
        Q_EMIT jumpRequested(it->second);
    }
    QChartView::mousePressEvent(event);
}

void ScoreChart::mouseMoveEvent(QMouseEvent* event)
{
    if (!dragging_) {
        QChartView::mouseMoveEvent(event);
        return;
    }
    const double v = chart()->mapToValue(event->position()).y();
    threshold_ = v;
    updateThresholdLine();
    Q_EMIT thresholdDragged(v);
}

void ScoreChart::mouseReleaseEvent(QMouseEvent* event)
{
    dragging_ = false;
    QChartView::mouseReleaseEvent(event);
}

} // namespace blocklens::ui
