#include "inference/repair_chart.hpp"

#include "theme.hpp"

#include <QChart>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace blocklens::ui {
namespace {

// One colour per family, in the order engine::repairSweepFamily() lists them.
const QColor kFamilyColours[] = {QColor(0xd6, 0x5f, 0x2c), QColor(0x2a, 0x7f, 0xc9), QColor(0x2a, 0x9d, 0x8f), QColor(0x8e, 0x5c, 0xc2)};

double costOf(const SweepPoint& p, RepairChart::Cost cost) { return cost == RepairChart::Cost::Warm ? p.extraWarm : p.extraCold; }

} // namespace

RepairChart::RepairChart(QWidget* parent) : QChartView(parent)
{
    setObjectName(QStringLiteral("repairChart"));
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(220);
    plot({}, Cost::Warm);
}

void RepairChart::plot(const SweepReport& report, Cost cost)
{
    report_ = report;
    cost_ = cost;
    auto* chart = new QChart;
    chart->setTitle(tr("Repairs of block attention: divergence against cost"));
    chart->legend()->setAlignment(Qt::AlignRight); // beside the plot: a short dock keeps it in view
    auto* x = new QValueAxis;
    x->setTitleText(cost == Cost::Warm ? tr("Extra prefill FLOPs, share of full (blocks cached)")
                                       : tr("Extra prefill FLOPs, share of full (empty cache)"));
    x->setLabelFormat(QStringLiteral("%.2f"));
    auto* y = new QValueAxis;
    y->setTitleText(tr("Mean KL on the query block (nats)"));
    y->setLabelFormat(QStringLiteral("%.3g"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    double maxX = 0, maxY = 0;
    std::vector<QString> families;
    for (const SweepPoint& p : report.points)
        if (std::find(families.begin(), families.end(), p.family) == families.end())
            families.push_back(p.family);
    for (std::size_t f = 0; f < families.size(); ++f) {
        auto* line = new QLineSeries;
        line->setName(families[f]);
        line->setPointsVisible(true);
        line->setColor(kFamilyColours[f % 4]);
        // Ordered by cost, so the line reads left to right.
        std::vector<const SweepPoint*> pts;
        for (const SweepPoint& p : report.points)
            if (p.family == families[f] && p.skipped.isEmpty())
                pts.push_back(&p);
        std::stable_sort(pts.begin(), pts.end(), [cost](const SweepPoint* a, const SweepPoint* b) { return costOf(*a, cost) < costOf(*b, cost); });
        for (const SweepPoint* p : pts) {
            line->append(costOf(*p, cost), p->meanKl);
            maxX = std::max(maxX, costOf(*p, cost));
            maxY = std::max(maxY, p->meanKl);
        }
        chart->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
        connect(line, &QLineSeries::clicked, this, [this, family = families[f]](const QPointF& value) {
            const QString setting = nearestSetting(family, value);
            if (!setting.isEmpty())
                Q_EMIT pointChosen(setting);
        });
    }
    x->setRange(0, maxX > 0 ? maxX * 1.05 : 1);
    y->setRange(0, maxY > 0 ? maxY * 1.1 : 1);
    QChart* old = this->chart();
    setChart(chart);
    delete old;
    applyTheme();
}

QString RepairChart::nearestSetting(const QString& family, const QPointF& value) const
{
    // Nearest on screen, not in value units: the axes' scales differ by orders of magnitude.
    const QPointF at = chart()->mapToPosition(value);
    QString best;
    double bestDistance = std::numeric_limits<double>::infinity();
    for (const SweepPoint& p : report_.points) {
        if (p.family != family || !p.skipped.isEmpty())
            continue;
        const QPointF q = chart()->mapToPosition(QPointF(costOf(p, cost_), p.meanKl));
        const double d = std::hypot(q.x() - at.x(), q.y() - at.y());
        if (d < bestDistance) {
            bestDistance = d;
            best = p.name;
        }
    }
    return best;
}

std::optional<QPoint> RepairChart::pointPosition(const QString& setting) const
{
    for (const SweepPoint& p : report_.points)
        if (p.name == setting && p.skipped.isEmpty())
            return mapFromScene(chart()->mapToScene(chart()->mapToPosition(QPointF(costOf(p, cost_), p.meanKl))));
    return std::nullopt;
}

void RepairChart::applyTheme()
{
    // QChart themes reset series colours: keep ours.
    const Theme theme = Theme::fromPalette(palette());
    std::vector<QColor> colours;
    for (QAbstractSeries* s : chart()->series())
        if (auto* line = qobject_cast<QLineSeries*>(s))
            colours.push_back(line->color());
    chart()->setTheme(theme.dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart()->setBackgroundBrush(palette().color(QPalette::Base));
    chart()->setBackgroundRoundness(0);
    std::size_t i = 0;
    for (QAbstractSeries* s : chart()->series())
        if (auto* line = qobject_cast<QLineSeries*>(s)) {
            line->setPen(QPen(colours[i++], 2));
            line->setPointsVisible(true);
        }
}

void RepairChart::changeEvent(QEvent* event)
{
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyTheme();
}

} // namespace blocklens::ui
