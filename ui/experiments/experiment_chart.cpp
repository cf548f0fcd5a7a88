#include "experiments/experiment_chart.hpp"

#include "theme.hpp"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>
#include <map>
#include <set>

namespace blocklens::ui {
namespace {

const QColor kModeColours[] = {QColor(0xd6, 0x5f, 0x2c), QColor(0x2a, 0x7f, 0xc9), QColor(0x2a, 0x9d, 0x8f), QColor(0x8e, 0x5c, 0xc2)};

QValueAxis* valueAxis(const QString& title, const QString& format = QStringLiteral("%g"))
{
    auto* a = new QValueAxis;
    a->setTitleText(title);
    a->setLabelFormat(format);
    return a;
}

void attach(QChart* chart, QAbstractSeries* s, QAbstractAxis* x, QAbstractAxis* y)
{
    chart->addSeries(s);
    s->attachAxis(x);
    s->attachAxis(y);
}

// Each mode its own marker shape as well as colour: points of two modes at the same input
// length stay distinguishable where they overlap.
const QScatterSeries::MarkerShape kModeShapes[] = {QScatterSeries::MarkerShapeCircle, QScatterSeries::MarkerShapeRectangle,
                                                   QScatterSeries::MarkerShapeTriangle, QScatterSeries::MarkerShapeStar};

// Axis text a little smaller than the window's, so titles and category names fit a dock.
void smallAxisText(QAbstractAxis* axis, const QFont& base)
{
    QFont small = base;
    small.setPointSizeF(base.pointSizeF() * 0.85);
    axis->setLabelsFont(small);
    axis->setTitleFont(small);
}

// One scatter series per attention mode of (tokens, value(run)). Returns how many runs had no
// value to plot.
template <class Value>
int perMode(QChart* chart, const std::vector<store::RunRecord>& runs, Value value, const QString& yTitle)
{
    int missing = 0;
    std::map<std::string, std::vector<QPointF>> byMode;
    double maxX = 0, maxY = 0;
    for (const auto& r : runs) {
        const auto v = value(r);
        if (!r.tokens || !v) {
            ++missing;
            continue;
        }
        byMode[r.attentionMode].emplace_back(static_cast<double>(*r.tokens), *v);
        maxX = std::max(maxX, static_cast<double>(*r.tokens));
        maxY = std::max(maxY, *v);
    }
    auto* x = valueAxis(QObject::tr("input tokens"), QStringLiteral("%d"));
    auto* y = valueAxis(yTitle);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    int i = 0;
    for (const auto& [mode, points] : byMode) {
        auto* s = new QScatterSeries;
        s->setName(QString::fromStdString(mode));
        s->setMarkerSize(i % 4 == 0 ? 12 : 9); // the first mode's circles larger, behind the others
        s->setMarkerShape(kModeShapes[i % 4]);
        s->setColor(kModeColours[i++ % 4]);
        s->setBorderColor(Qt::transparent);
        s->replace(QList<QPointF>(points.begin(), points.end()));
        attach(chart, s, x, y);
    }
    x->setRange(0, maxX > 0 ? maxX * 1.05 : 1);
    y->setRange(0, maxY > 0 ? maxY * 1.1 : 1);
    x->applyNiceNumbers();
    y->applyNiceNumbers();
    return missing;
}

std::optional<double> runMetric(const store::RunRecord& r, ExperimentChart::Metric metric)
{
    switch (metric) {
    case ExperimentChart::Metric::MeanKl: return r.logitKl;
    case ExperimentChart::Metric::Top1: return r.top1Agreement;
    case ExperimentChart::Metric::TtftMs: return r.ttftMs;
    default: return std::nullopt;
    }
}

// Colours of the repair families as the side by side's repair chart draws them (its order is
// engine::repairSweepFamily()'s: sink, recompute-first, recompute-frac).
QColor familyColour(const QString& family)
{
    const QString order[] = {QStringLiteral("sink"), QStringLiteral("recompute-first"), QStringLiteral("recompute-frac")};
    for (int i = 0; i < 3; ++i)
        if (family == order[i])
            return kModeColours[i];
    return kModeColours[3];
}

struct Mean {
    double sum = 0;
    int runs = 0;
    std::set<std::optional<store::Id>> documents;
    void add(double v, const std::optional<store::Id>& document)
    {
        sum += v;
        ++runs;
        documents.insert(document);
    }
    double value() const { return sum / runs; }
};

// The RepairSettings chart (see the header); returns its note.
QString repairLines(QChart* chart, const std::vector<store::RunRecord>& runs, ExperimentChart::Metric metric)
{
    std::map<QString, std::map<double, Mean>> byFamily; // repair family -> setting -> mean
    std::map<QString, Mean> levels;                      // plain modes: one level each
    std::set<std::string> models;
    std::set<std::optional<store::Id>> documents;
    int missing = 0;
    double maxY = 0;
    for (const auto& r : runs) {
        const RunRepair repair = runRepair(r);
        const auto v = runMetric(r, metric);
        const bool plain = repair.family == QLatin1String("full") || repair.family == QLatin1String("block") ||
                           repair.family == QLatin1String("block-cached");
        if (!v || (!plain && !repair.setting)) {
            ++missing;
            continue;
        }
        models.insert(r.modelName);
        documents.insert(r.documentId);
        maxY = std::max(maxY, *v);
        if (plain)
            levels[repair.family].add(*v, r.documentId);
        else
            byFamily[repair.family][*repair.setting].add(*v, r.documentId);
    }
    const bool fraction = byFamily.count(QStringLiteral("recompute-frac")) > 0;
    const bool tokens = byFamily.size() > (fraction ? 1u : 0u);
    double maxTokens = 1;
    for (const auto& [family, settings] : byFamily)
        if (family != QLatin1String("recompute-frac"))
            maxTokens = std::max(maxTokens, settings.rbegin()->first);
    // The token axis below unless there are only fractions; the fraction axis above (or below).
    QValueAxis* tokenAxis = nullptr;
    QValueAxis* fractionAxis = nullptr;
    if (tokens || !fraction) {
        tokenAxis = valueAxis(QObject::tr("setting: tokens (sink N, recompute-first k)"), QStringLiteral("%d"));
        tokenAxis->setRange(0, maxTokens);
        chart->addAxis(tokenAxis, Qt::AlignBottom);
    }
    if (fraction) {
        fractionAxis = valueAxis(QObject::tr("setting: fraction recomputed (recompute-frac r)"), QStringLiteral("%.2f"));
        fractionAxis->setRange(0, 1);
        chart->addAxis(fractionAxis, tokenAxis ? Qt::AlignTop : Qt::AlignBottom);
    }
    QValueAxis* levelAxis = tokenAxis ? tokenAxis : fractionAxis;
    auto* y = valueAxis(ExperimentChart::metricName(metric), metric == ExperimentChart::Metric::TtftMs ? QStringLiteral("%.0f")
                                                                                                         : QStringLiteral("%.3g"));
    chart->addAxis(y, Qt::AlignLeft);
    for (const auto& [family, settings] : byFamily) {
        auto* line = new QLineSeries;
        line->setName(family);
        line->setPointsVisible(true);
        line->setPen(QPen(familyColour(family), 2));
        for (const auto& [setting, mean] : settings)
            line->append(setting, mean.value());
        attach(chart, line, family == QLatin1String("recompute-frac") ? fractionAxis : tokenAxis, y);
    }
    for (const auto& [family, mean] : levels) {
        auto* level = new QLineSeries;
        level->setName(family);
        level->setPen(QPen(family == QLatin1String("full") ? QColor(0x55, 0x55, 0x55) : QColor(0x99, 0x99, 0x99), 1.5, Qt::DashLine));
        level->append(levelAxis->min(), mean.value());
        level->append(levelAxis->max(), mean.value());
        attach(chart, level, levelAxis, y);
    }
    y->setRange(0, maxY > 0 ? maxY * 1.1 : 1);
    y->applyNiceNumbers();

    QStringList note;
    if (byFamily.empty())
        note << QObject::tr("No repair runs to chart: record a sweep with `blocklens-cli compare --sweep --db` (or a repair in the "
                            "side by side).");
    else
        note << QObject::tr("Each point: the mean over the runs at that setting (%1); dashed: plain modes, the mean of their runs.")
                    .arg(documents.size() == 1 ? QObject::tr("1 document") : QObject::tr("%1 documents").arg(documents.size()));
    if (models.size() > 1)
        note << QObject::tr("Runs of %1 models are averaged together: filter by Model.").arg(models.size());
    if (missing > 0)
        note << QObject::tr("%n run(s) without a %1 or a setting are not shown.", nullptr, missing).arg(ExperimentChart::metricName(metric));
    return note.join(QLatin1Char(' '));
}

} // namespace

ExperimentChart::ExperimentChart(QWidget* parent) : QChartView(parent)
{
    setObjectName(QStringLiteral("experimentChart"));
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(220);
    plot(Kind::TtftVsLength, {}, {});
}

QString ExperimentChart::title(Kind kind)
{
    switch (kind) {
    case Kind::TtftVsLength: return tr("Time to first token vs input length");
    case Kind::FlopsVsLength: return tr("Prefill FLOPs vs input length");
    case Kind::CacheHitRate: return tr("Block cache hit rate over the session");
    case Kind::SegmentationMetrics: return tr("Segmentation quality by segmenter and category");
    case Kind::RepairSettings: return tr("Repairs of block attention by setting");
    }
    return {};
}

QString ExperimentChart::metricName(Metric metric)
{
    switch (metric) {
    case Metric::F1: return QStringLiteral("F1");
    case Metric::Pk: return QStringLiteral("Pk");
    case Metric::WindowDiff: return QStringLiteral("WindowDiff");
    case Metric::MeanKl: return tr("mean KL (nats)");
    case Metric::Top1: return tr("top-1 agreement");
    case Metric::TtftMs: return tr("TTFT (ms)");
    }
    return {};
}

std::vector<ExperimentChart::Metric> ExperimentChart::metrics(Kind kind)
{
    if (kind == Kind::SegmentationMetrics)
        return {Metric::F1, Metric::Pk, Metric::WindowDiff};
    if (kind == Kind::RepairSettings)
        return {Metric::MeanKl, Metric::Top1, Metric::TtftMs};
    return {};
}

void ExperimentChart::plot(Kind kind, const std::vector<store::RunRecord>& runs, const std::vector<store::MetricsGroup>& metrics,
                           Metric metric)
{
    kind_ = kind;
    note_.clear();
    auto* chart = new QChart;
    chart->setTitle(title(kind));
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->setMargins(QMargins(4, 4, 4, 4));
    switch (kind) {
    case Kind::TtftVsLength:
    case Kind::FlopsVsLength: {
        const int missing = kind == Kind::TtftVsLength
                                ? perMode(chart, runs, [](const store::RunRecord& r) { return r.ttftMs; }, tr("TTFT (ms)"))
                                : perMode(chart, runs, [](const store::RunRecord& r) { return r.flops; }, tr("prefill FLOPs"));
        if (runs.empty())
            note_ = tr("No runs to chart: record some with the side by side or `blocklens-cli compare --db`.");
        else if (missing > 0)
            note_ = tr("%n run(s) without a token count or a value are not shown.", nullptr, missing);
        break;
    }
    case Kind::CacheHitRate: {
        auto* each = new QScatterSeries;
        each->setName(tr("run"));
        each->setMarkerSize(8);
        auto* running = new QLineSeries;
        running->setName(tr("session so far"));
        double hits = 0, total = 0;
        int n = 0;
        for (const auto& r : runs) {
            if (r.attentionMode != "block-cached" || !r.cacheHits || !r.cacheMisses || *r.cacheHits + *r.cacheMisses == 0)
                continue;
            const double h = static_cast<double>(*r.cacheHits), t = h + static_cast<double>(*r.cacheMisses);
            ++n;
            each->append(n, h / t);
            hits += h;
            total += t;
            running->append(n, hits / total);
        }
        auto* x = valueAxis(tr("block-cached run, in recording order"), QStringLiteral("%d"));
        auto* y = valueAxis(tr("cache hit rate"), QStringLiteral("%.1f"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        attach(chart, running, x, y);
        attach(chart, each, x, y);
        x->setRange(0, std::max(1, n) + 1);
        y->setRange(0, 1.05);
        break;
    }
    case Kind::SegmentationMetrics: {
        // Means from different protocols or reference levels do not compare: chart the protocol
        // and level with the most evaluations (named on the axis).
        std::map<std::pair<std::string, int>, std::size_t> counts;
        for (const auto& g : metrics)
            counts[{g.protocol, g.granularity}] += g.evaluations;
        std::pair<std::string, int> chosen;
        std::size_t most = 0;
        for (const auto& [key, n] : counts)
            if (n > most) {
                most = n;
                chosen = key;
            }
        std::set<QString> categories;
        std::map<QString, std::map<QString, double>> bySegmenter; // segmenter -> category -> value
        for (const auto& g : metrics) {
            if (std::pair{g.protocol, g.granularity} != chosen)
                continue;
            const auto& v = metric == Metric::Pk ? g.pk : metric == Metric::WindowDiff ? g.windowDiff : g.f1;
            if (!v)
                continue;
            const QString cat = QString::fromStdString(g.category);
            categories.insert(cat);
            bySegmenter[QString::fromStdString(g.segmenter)][cat] = *v;
        }
        const QStringList cats(categories.begin(), categories.end());
        auto* series = new QBarSeries;
        int i = 0;
        QStringList empty; // segmenter / category pairs without an evaluation: no bar, said in the note
        for (const auto& [segmenter, values] : bySegmenter) {
            auto* set = new QBarSet(segmenter);
            set->setColor(kModeColours[i++ % 4]);
            for (const QString& c : cats) {
                const auto it = values.find(c);
                *set << (it == values.end() ? 0.0 : it->second);
                if (it == values.end())
                    empty << tr("%1 on %2").arg(segmenter, c);
            }
            series->append(set);
        }
        if (bySegmenter.empty())
            note_ = tr("No evaluations to chart: record some with `blocklens-cli eval DATASET --db`.");
        else if (!empty.isEmpty())
            note_ = tr("No evaluation (no bar): %1.").arg(empty.join(QStringLiteral(", ")));
        auto* x = new QBarCategoryAxis;
        x->append(cats);
        x->setTitleText(tr("category / variant"));
        if (cats.size() > 3)
            x->setLabelsAngle(-30); // long names ("techdoc/structured") side by side would be elided
        // The metric on the axis; the protocol and level (long) in the chart's title.
        auto* y = valueAxis(tr("mean %1").arg(metricName(metric)), QStringLiteral("%.2f"));
        chart->setTitle(tr("%1 (%2 is better) · %3%4")
                            .arg(title(kind), metric == Metric::F1 ? tr("higher") : tr("lower"),
                                 QString::fromStdString(chosen.first.empty() ? "all" : chosen.first),
                                 chosen.second > 0 ? tr(", level ≤ %1").arg(chosen.second) : QString()));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        attach(chart, series, x, y);
        y->setRange(0, 1);
        break;
    }
    case Kind::RepairSettings:
        note_ = repairLines(chart, runs, metric);
        chart->setTitle(tr("%1: %2").arg(title(kind), metricName(metric)));
        break;
    }
    for (QAbstractAxis* axis : chart->axes())
        smallAxisText(axis, font());
    QChart* old = this->chart();
    setChart(chart);
    delete old;
    applyTheme();
}

void ExperimentChart::applyTheme()
{
    // QChart themes reset series colours: keep ours.
    const Theme theme = Theme::fromPalette(palette());
    std::vector<QColor> colours;
    std::vector<QPen> pens;
    for (QAbstractSeries* s : chart()->series())
        if (auto* sc = qobject_cast<QScatterSeries*>(s))
            colours.push_back(sc->color());
        else if (auto* line = qobject_cast<QLineSeries*>(s))
            pens.push_back(line->pen());
    chart()->setTheme(theme.dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart()->setBackgroundBrush(palette().color(QPalette::Base));
    chart()->setBackgroundRoundness(0);
    std::size_t i = 0, l = 0;
    for (QAbstractSeries* s : chart()->series()) {
        if (auto* sc = qobject_cast<QScatterSeries*>(s)) {
            sc->setColor(kind_ == Kind::CacheHitRate ? theme.accent : colours[i]);
            sc->setBorderColor(Qt::transparent);
            ++i;
        } else if (auto* line = qobject_cast<QLineSeries*>(s)) {
            // The running hit rate in the theme's colour; the repair lines keep their family's.
            line->setPen(kind_ == Kind::CacheHitRate ? QPen(theme.boundary, 2) : pens[l]);
            ++l;
        } else if (auto* bars = qobject_cast<QBarSeries*>(s)) {
            int k = 0;
            for (QBarSet* set : bars->barSets())
                set->setColor(kModeColours[k++ % 4]);
        }
    }
}

void ExperimentChart::changeEvent(QEvent* event)
{
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyTheme();
}

} // namespace blocklens::ui
