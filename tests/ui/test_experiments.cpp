// The experiments browser over real stores: one recorded here on the CPU by `blocklens-cli
// compare --db` and `eval --db` (a random llama checkpoint with the llama2 tokenizer), and the
// one recorded by the CLI on the GPU machine when it is committed under tests/fixtures. Every
// number the browser shows (table cells, the run's details, chart points) must equal the store's.
#include "document/document.hpp"
#include "experiments/experiment_chart.hpp"
#include "experiments/experiments_browser.hpp"
#include "experiments/run_details.hpp"
#if BLOCKLENS_WITH_TORCH
#include "engine/repairs.hpp"
#endif
#include "models/runs_model.hpp"
#include "support/temp_files.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QChart>
#include <QDirIterator>
#include <QLabel>
#include <QLineSeries>
#include <QProcess>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QTableView>
#include <QTableWidget>
#include <QtTest>

#include <cmath>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

using namespace blocklens;
using namespace blocklens::ui;

namespace {

QString cli() { return QStringLiteral(BLOCKLENS_CLI_PATH); }

// Runs the CLI; returns stderr on failure for the message.
bool runCli(const QStringList& args, QString* error)
{
    QProcess p;
    p.start(cli(), args);
    if (!p.waitForFinished(300000) || p.exitCode() != 0) {
        *error = QStringLiteral("blocklens-cli %1: %2").arg(args.join(' '), QString::fromUtf8(p.readAllStandardError()));
        return false;
    }
    return true;
}

// The GPU machine's store, when the speed work has committed one.
QString gpuFixture()
{
    QDirIterator it(QString::fromStdString((test::sourceDir() / "tests" / "fixtures").string()), {QStringLiteral("gpu-runs*.sqlite"), QStringLiteral("gpu-runs*.db")},
                    QDir::Files, QDirIterator::Subdirectories);
    return it.hasNext() ? it.next() : QString();
}

QString shown(const std::optional<double>& v, QString (*format)(double)) { return v ? format(*v) : QString(); }
QString shownCount(const std::optional<std::int64_t>& v) { return v ? QString::number(*v) : QString(); }

} // namespace

class TestExperiments : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString cpuStore_;

    // Opens `path` in a browser and checks every run's cells and details against the store.
    void checkStore(const QString& path, int minRuns)
    {
        ExperimentsBrowser browser;
        browser.resize(1200, 800);
        QSignalSpy loaded(&browser, &ExperimentsBrowser::loaded);
        browser.openStore(path);
        QVERIFY(loaded.wait(60000));
        QVERIFY(!QFileInfo(path + QStringLiteral("-wal")).exists() || true);

        store::OpenOptions ro;
        ro.mode = store::OpenMode::ReadOnly;
        ro.allowOlderSchema = true; // the GPU fixture was recorded at schema 2, shown as it is
        auto st = store::Store::open(path.toStdString(), ro);
        std::vector<store::RunRecord> runs = st.listRuns();
        QVERIFY2(static_cast<int>(runs.size()) >= minRuns, qPrintable(QString::number(runs.size())));
        std::map<store::Id, store::DocumentInfo> docs;
        for (auto& d : st.listDocuments())
            docs.emplace(d.id, d);

        RunsModel* model = browser.runsModel();
        QCOMPARE(model->rowCount(), static_cast<int>(runs.size()));
        for (const auto& r : runs) {
            const int row = model->rowOfRun(r.id);
            QVERIFY(row >= 0);
            auto cell = [&](int column) { return model->index(row, column).data().toString(); };
            auto raw = [&](int column) { return model->index(row, column).data(Qt::UserRole); };
            QCOMPARE(cell(RunsModel::Model), QString::fromStdString(r.modelName));
            QCOMPARE(cell(RunsModel::Mode), QString::fromStdString(r.attentionMode));
            QCOMPARE(cell(RunsModel::Device), QString::fromStdString(r.device));
            QCOMPARE(cell(RunsModel::DType), QString::fromStdString(r.dtype));
            QCOMPARE(cell(RunsModel::Created), QString::fromStdString(r.createdAt));
            QCOMPARE(cell(RunsModel::Tokens), shownCount(r.tokens));
            QCOMPARE(cell(RunsModel::Blocks), shownCount(r.blocks));
            QCOMPARE(cell(RunsModel::KvBytes), shownCount(r.kvBytes));
            QCOMPARE(cell(RunsModel::CacheHits), shownCount(r.cacheHits));
            QCOMPARE(cell(RunsModel::CacheMisses), shownCount(r.cacheMisses));
            QCOMPARE(cell(RunsModel::TtftMs), shown(r.ttftMs, formatMs));
            QCOMPARE(cell(RunsModel::PrefillMs), shown(r.prefillMs, formatMs));
            QCOMPARE(cell(RunsModel::Flops), shown(r.flops, formatScientific));
            QCOMPARE(cell(RunsModel::MeanKl), shown(r.logitKl, formatScientific));
            QCOMPARE(cell(RunsModel::Top1), shown(r.top1Agreement, formatRatio));
            // The raw values behind the cells are the stored ones, bit for bit.
            if (r.ttftMs)
                QCOMPARE(raw(RunsModel::TtftMs).toDouble(), *r.ttftMs);
            if (r.flops)
                QCOMPARE(raw(RunsModel::Flops).toDouble(), *r.flops);
            if (r.logitKl)
                QCOMPARE(raw(RunsModel::MeanKl).toDouble(), *r.logitKl);
            QCOMPARE(raw(RunsModel::Tokens).toLongLong(), r.tokens.value_or(0));

            // Details: every field, numbers exact (they read back as the same double).
            browser.selectRun(r.id);
            RunDetails* d = browser.details();
            auto exact = [&](const char* field, const std::optional<double>& v) {
                const QString text = d->value(QString::fromLatin1(field));
                if (!v)
                    return text == QStringLiteral("–");
                bool ok = false;
                return text.toDouble(&ok) == *v && ok;
            };
            QVERIFY(exact("TTFT (ms)", r.ttftMs));
            QVERIFY(exact("prefill (ms)", r.prefillMs));
            QVERIFY(exact("prefill FLOPs", r.flops));
            QVERIFY(exact("mean KL (nats)", r.logitKl));
            QVERIFY(exact("top-1 agreement", r.top1Agreement));
            QCOMPARE(d->value(QStringLiteral("KV bytes")), r.kvBytes ? QString::number(*r.kvBytes) : QStringLiteral("–"));
            QCOMPARE(d->value(QStringLiteral("cache hits")), r.cacheHits ? QString::number(*r.cacheHits) : QStringLiteral("–"));
            QCOMPARE(d->value(QStringLiteral("cache misses")), r.cacheMisses ? QString::number(*r.cacheMisses) : QStringLiteral("–"));
            QCOMPARE(d->value(QStringLiteral("tokens")), r.tokens ? QString::number(*r.tokens) : QStringLiteral("–"));
            QCOMPARE(d->value(QStringLiteral("blocks")), r.blocks ? QString::number(*r.blocks) : QStringLiteral("–"));
            QCOMPARE(d->value(QStringLiteral("model fingerprint")), QString::fromStdString(r.modelHash));
            QCOMPARE(d->value(QStringLiteral("device")), QString::fromStdString(r.device));
            const auto fields = runFields(r, docs);
            QCOMPARE(d->table()->rowCount(), static_cast<int>(fields.size()));
            const auto div = nlohmann::json::parse(r.divergence);
            for (const auto& [key, value] : div.items())
                if (value.is_number_float()) {
                    const QString text = d->value(QStringLiteral("divergence: %1").arg(QString::fromStdString(key)));
                    QCOMPARE(text.toDouble(), value.get<double>());
                }
        }
        // Charts: TTFT against tokens, one point per run with both, per mode.
        browser.showChart(ExperimentChart::Kind::TtftVsLength);
        std::multiset<std::tuple<std::string, double, double>> want, got;
        for (const auto& r : runs)
            if (r.tokens && r.ttftMs)
                want.emplace(r.attentionMode, static_cast<double>(*r.tokens), *r.ttftMs);
        for (QAbstractSeries* s : browser.chart()->chart()->series())
            for (const QPointF& p : static_cast<QScatterSeries*>(s)->points())
                got.emplace(s->name().toStdString(), p.x(), p.y());
        QVERIFY(want == got);
    }

private Q_SLOTS:
    void initTestCase()
    {
#if !BLOCKLENS_WITH_TORCH
        QSKIP("blocklens-cli compare needs the libtorch engine");
#endif
        QVERIFY(dir_.isValid());
        const QString d = dir_.path();
        const QString tok = QString::fromStdString((test::fixturesDir() / "tokenizers" / "llama2" / "tokenizer.json").string());
        QString error;
        QVERIFY2(runCli({"make-model", "--arch", "llama", "--layers", "2", "--hidden", "64", "--heads", "4", "--tie", "--tokenizer", tok,
                         "--out", d + "/tiny-llama"},
                        &error),
                 qPrintable(error));
        std::string text;
        for (int i = 0; i < 12; ++i)
            text += "Paragraph " + std::to_string(i) + " talks about block attention and caching. "
                    "Each block is encoded alone and reused when the same text comes again.\n\n";
        test::writeFile(dir_, "notes.md", text);
        test::writeFile(dir_, "short.txt", text.substr(0, text.size() / 3));
        cpuStore_ = d + "/runs.db";
        for (const auto& [input, segmenter] : std::vector<std::pair<QString, QString>>{
                 {"notes.md", "hybrid"}, {"notes.md", "fixed"}, {"short.txt", "hybrid"}})
            QVERIFY2(runCli({"compare", "--model", d + "/tiny-llama", "--input", d + "/" + input, "--segmenter", segmenter,
                             "--target-tokens", "60", "--query", "What is cached?", "--max-new-tokens", "2", "--db", cpuStore_},
                            &error),
                     qPrintable(error));
        // Evaluations of two segmenters on a two-document dataset.
        std::string jsonl;
        for (const char* cat : {"notes", "prose"})
            jsonl += nlohmann::json{{"id", std::string(cat) + "-1"}, {"category", cat}, {"text", text + cat + "\n"},
                                    {"boundaries", {text.find("Paragraph 4"), text.find("Paragraph 8")}}}
                         .dump() +
                     "\n";
        test::writeFile(dir_, "set.jsonl", jsonl);
        for (const char* seg : {"hybrid", "fixed"})
            QVERIFY2(runCli({"eval", d + "/set.jsonl", "--segmenter", seg, "--db", cpuStore_}, &error), qPrintable(error));
    }

    void cpuStoreOpensWithAllItsNumbers()
    {
        checkStore(cpuStore_, 6);
    }

    void gpuStoreOpensWithAllItsNumbers()
    {
        const QString path = gpuFixture();
        if (path.isEmpty())
            QSKIP("no GPU-recorded store under tests/fixtures (gpu-runs*.sqlite) yet");
        // Copied: the browser opens read-only, but WAL files must not appear in the source tree.
        const QString copy = dir_.path() + "/gpu-copy.sqlite";
        QFile::remove(copy);
        QVERIFY(QFile::copy(path, copy));
        QFile::setPermissions(copy, QFile::ReadOwner | QFile::WriteOwner);
        checkStore(copy, 1);
    }

    void filterSortAndModels()
    {
        ExperimentsBrowser browser;
        QSignalSpy loaded(&browser, &ExperimentsBrowser::loaded);
        browser.openStore(cpuStore_);
        QVERIFY(loaded.wait(60000));
        QAbstractItemModelTester t1(browser.runsModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester t2(browser.runsProxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester t3(browser.evaluationsModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester t4(browser.evaluationsProxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto* proxy = browser.runsProxy();
        QCOMPARE(proxy->rowCount(), 6);
        // Mode: each compare recorded a full and a block-cached run.
        browser.setRunFilter(RunsModel::Mode, QStringLiteral("full"));
        QCOMPARE(proxy->rowCount(), 3);
        for (int r = 0; r < proxy->rowCount(); ++r)
            QCOMPARE(proxy->index(r, RunsModel::Mode).data().toString(), QStringLiteral("full"));
        browser.setRunFilter(RunsModel::Mode, {});
        // Segmenter (recorded with both runs of a compare: the pair stays together), document, model.
        browser.setRunFilter(RunsModel::Segmenter, QStringLiteral("fixed"));
        QCOMPARE(proxy->rowCount(), 2);
        QStringList modes;
        for (int r = 0; r < proxy->rowCount(); ++r)
            modes << proxy->index(r, RunsModel::Mode).data().toString();
        modes.sort();
        QCOMPARE(modes, (QStringList{QStringLiteral("block-cached"), QStringLiteral("full")}));
        browser.setRunFilter(RunsModel::Segmenter, {});
        const QStringList documents = browser.runsModel()->distinctValues(RunsModel::Document);
        QCOMPARE(documents.size(), 2);
        browser.setRunFilter(RunsModel::Document, documents.first());
        QVERIFY(proxy->rowCount() == 2 || proxy->rowCount() == 4);
        browser.setRunFilter(RunsModel::Model, QStringLiteral("no-such-model")); // not offered: ignored
        QVERIFY(proxy->rowCount() > 0);
        browser.setRunFilter(RunsModel::Document, {});
        // Sorting by TTFT goes by the stored value, not the text.
        proxy->sort(RunsModel::TtftMs, Qt::DescendingOrder);
        for (int r = 1; r < proxy->rowCount(); ++r)
            QVERIFY(proxy->index(r - 1, RunsModel::TtftMs).data(Qt::UserRole).toDouble() >=
                    proxy->index(r, RunsModel::TtftMs).data(Qt::UserRole).toDouble());
        // Evaluations: 2 segmenters x 2 documents, filtered by segmenter.
        QCOMPARE(browser.evaluationsModel()->rowCount(), 4);
        auto* segBox = browser.findChild<QComboBox*>(QStringLiteral("evalFilter_segmenter"));
        QVERIFY(segBox);
        segBox->setCurrentIndex(segBox->findText(QStringLiteral("fixed")));
        QCOMPARE(browser.evaluationsProxy()->rowCount(), 2);
        // Metrics chart: one bar set per segmenter, one value per category, as aggregated by the store.
        browser.showChart(ExperimentChart::Kind::SegmentationMetrics, ExperimentChart::Metric::F1);
        QCOMPARE(browser.chart()->chart()->series().size(), 1);
        // Cache hit rate: one point per block-cached run.
        browser.showChart(ExperimentChart::Kind::CacheHitRate);
        int points = 0;
        for (QAbstractSeries* s : browser.chart()->chart()->series())
            if (auto* sc = qobject_cast<QScatterSeries*>(s))
                points += static_cast<int>(sc->count());
        QCOMPARE(points, 3);
        // Export as PNG and SVG.
        QCOMPARE(browser.exportChartTo(dir_.path() + "/chart.png"), QString());
        QCOMPARE(browser.exportChartTo(dir_.path() + "/chart.svg"), QString());
        QVERIFY(QFileInfo(dir_.path() + "/chart.svg").size() > 1000);
        QVERIFY(!browser.exportChartTo(dir_.path() + "/chart.gif").isEmpty());
    }

    // Repairs (issue 18): `compare --sweep` on two documents, then the browser filters the runs by
    // repair family and charts mean KL / top-1 / TTFT against the setting, each point the mean of
    // the store's runs at that setting (worked out here with the engine's own parser).
    void repairFamiliesAcrossDocuments()
    {
#if !BLOCKLENS_WITH_TORCH
        QSKIP("blocklens-cli compare needs the libtorch engine");
#else
        const QString d = dir_.path();
        const QString sweeps = d + "/sweeps.db";
        QString error;
        for (const QString input : {QStringLiteral("notes.md"), QStringLiteral("short.txt")})
            QVERIFY2(runCli({"compare", "--model", d + "/tiny-llama", "--input", d + "/" + input, "--target-tokens", "40", "--query",
                             "What is cached?", "--max-new-tokens", "1", "--sweep", "--db", sweeps},
                            &error),
                     qPrintable(error));
        // A plain comparison: the block-cached level.
        QVERIFY2(runCli({"compare", "--model", d + "/tiny-llama", "--input", d + "/notes.md", "--target-tokens", "40", "--query",
                         "What is cached?", "--max-new-tokens", "1", "--db", sweeps},
                        &error),
                 qPrintable(error));

        // Read as the app reads its workspace: through the workspace gateway.
        WorkspaceGateway gateway(sweeps);
        ExperimentsBrowser browser;
        browser.resize(1000, 700);
        QSignalSpy loaded(&browser, &ExperimentsBrowser::loaded);
        browser.openWorkspace(&gateway);
        QVERIFY(loaded.wait(60000));
        QCOMPARE(browser.snapshot().path, sweeps);
        QCOMPARE(browser.runsModel()->distinctValues(RunsModel::Repair),
                 (QStringList{"block-cached", "full", "recompute-first", "recompute-frac", "sink"}));

        // The expected points: family -> setting -> values, per document and over all.
        store::OpenOptions ro;
        ro.mode = store::OpenMode::ReadOnly;
        auto st = store::Store::open(sweeps.toStdString(), ro);
        const auto runs = st.listRuns();
        using Points = std::map<std::string, std::map<double, std::vector<double>>>;
        auto expected = [&](auto value, std::optional<store::Id> document) {
            Points out;
            for (const auto& r : runs) {
                if ((document && r.documentId != document) || !value(r))
                    continue;
                const engine::AttentionVariant v = engine::parseAttentionVariant(r.attentionMode);
                const engine::Repair& rep = v.repair;
                switch (rep.kind) {
                case engine::RepairKind::None: out[std::string(engine::toString(v.mode))][0].push_back(*value(r)); break;
                case engine::RepairKind::Sink: out["sink"][double(rep.sinkBos ? 1 : rep.sinkTokens)].push_back(*value(r)); break;
                case engine::RepairKind::RecomputeFirst: out["recompute-first"][double(rep.firstTokens)].push_back(*value(r)); break;
                case engine::RepairKind::RecomputeFrac: out["recompute-frac"][rep.fraction].push_back(*value(r)); break;
                }
            }
            return out;
        };
        auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); };
        // The chart's lines against the expected points; levels are flat at the mean of the plain runs.
        auto checkChart = [&](const Points& want) {
            std::set<std::string> seen;
            for (QAbstractSeries* s : browser.chart()->chart()->series()) {
                auto* line = qobject_cast<QLineSeries*>(s);
                QVERIFY(line);
                const std::string family = line->name().toStdString();
                QVERIFY2(want.count(family), family.c_str());
                seen.insert(family);
                const auto& settings = want.at(family);
                const QList<QPointF> points = line->points();
                if (family == "full" || family == "block-cached" || family == "block") {
                    QCOMPARE(points.size(), 2);
                    for (const QPointF& p : points)
                        QVERIFY(std::abs(p.y() - mean(settings.at(0))) <= 1e-12 * std::abs(p.y()));
                    continue;
                }
                QCOMPARE(points.size(), static_cast<qsizetype>(settings.size()));
                auto it = settings.begin();
                for (const QPointF& p : points) {
                    QCOMPARE(p.x(), it->first);
                    QVERIFY2(std::abs(p.y() - mean(it->second)) <= 1e-12 * std::abs(p.y()),
                             qPrintable(QStringLiteral("%1 at %2: %3").arg(line->name()).arg(p.x()).arg(p.y())));
                    ++it;
                }
                // recompute-frac on the fraction axis (above), the others on the token axis.
                const auto axes = line->attachedAxes();
                const bool onTop = std::any_of(axes.begin(), axes.end(), [](QAbstractAxis* a) { return a->alignment() == Qt::AlignTop; });
                QCOMPARE(onTop, family == "recompute-frac");
            }
            QCOMPARE(seen.size(), want.size());
        };
        auto kl = [](const store::RunRecord& r) { return r.logitKl; };
        const Points allKl = expected(kl, std::nullopt);
        QVERIFY(allKl.count("recompute-first") && allKl.at("recompute-first").size() == 5);
        QCOMPARE(allKl.at("recompute-first").at(4).size(), std::size_t(2)); // both documents
        browser.showChart(ExperimentChart::Kind::RepairSettings, ExperimentChart::Metric::MeanKl);
        checkChart(allKl);
        QVERIFY2(browser.findChild<QLabel*>(QStringLiteral("chartNote"))->text().contains(QStringLiteral("2 documents")),
                 qPrintable(browser.findChild<QLabel*>(QStringLiteral("chartNote"))->text()));
        // TTFT: the full runs are a level too.
        browser.showChart(ExperimentChart::Kind::RepairSettings, ExperimentChart::Metric::TtftMs);
        const Points allTtft = expected([](const store::RunRecord& r) { return r.ttftMs; }, std::nullopt);
        QVERIFY(allTtft.count("full"));
        checkChart(allTtft);
        // The metric box offers the runs' metrics, and the choice follows it.
        auto* metricBox = browser.findChild<QComboBox*>(QStringLiteral("chartMetric"));
        QCOMPARE(metricBox->count(), 3);
        metricBox->setCurrentIndex(metricBox->findData(static_cast<int>(ExperimentChart::Metric::Top1)));
        checkChart(expected([](const store::RunRecord& r) { return r.top1Agreement; }, std::nullopt));

        // Filtered by family: that family's runs of both documents; the chart follows.
        browser.setRunFilter(RunsModel::Repair, QStringLiteral("recompute-first"));
        QCOMPARE(browser.runsProxy()->rowCount(), 10);
        for (int r = 0; r < browser.runsProxy()->rowCount(); ++r)
            QVERIFY(browser.runsProxy()->index(r, RunsModel::Mode).data().toString().startsWith("block-cached+recompute-first:"));
        browser.showChart(ExperimentChart::Kind::RepairSettings, ExperimentChart::Metric::MeanKl);
        checkChart({{"recompute-first", allKl.at("recompute-first")}});
        // ... and by document: one document's own points.
        const store::Id shortDoc = *st.findDocument(
            loadDocument(std::filesystem::path(d.toStdString()) / "short.txt").contentHash());
        browser.setRunFilter(RunsModel::Document, QStringLiteral("short.txt"));
        QCOMPARE(browser.runsProxy()->rowCount(), 5);
        checkChart({{"recompute-first", expected(kl, shortDoc).at("recompute-first")}});
        QVERIFY(browser.findChild<QLabel*>(QStringLiteral("chartNote"))->text().contains(QStringLiteral("1 document")));
        QCOMPARE(browser.exportChartTo(d + "/repairs.png"), QString());

        // Evaluated documents are named, not shown as hashes: a dataset row without an id.
        test::writeFile(dir_, "noid.jsonl", nlohmann::json{{"text", "One line.\nTwo lines.\n"}, {"boundaries", {10}}}.dump() + "\n");
        QVERIFY2(runCli({"import", d + "/noid.jsonl", "--db", sweeps}, &error), qPrintable(error));
        QVERIFY2(runCli({"eval", d + "/noid.jsonl", "--segmenter", "fixed", "--db", sweeps}, &error), qPrintable(error));
        browser.reload();
        QVERIFY(loaded.wait(60000));
        const int documentColumn = browser.evaluationsModel()->column("document");
        QVERIFY(documentColumn >= 0);
        QCOMPARE(browser.evaluationsModel()->rowCount(), 1);
        QCOMPARE(browser.evaluationsModel()->index(0, documentColumn).data().toString(), QStringLiteral("noid row 1"));
#endif
    }

    void badStoreShowsAnError()
    {
        const auto bad = test::writeFile(dir_, "not-a-store.db", "this is not SQLite at all, just text");
        ExperimentsBrowser browser;
        QSignalSpy failed(&browser, &ExperimentsBrowser::loadFailed);
        browser.openStore(QString::fromStdString(bad.string()));
        QVERIFY(failed.wait(20000));
        QVERIFY2(failed.first().first().toString().contains(QStringLiteral("not-a-store.db")), qPrintable(failed.first().first().toString()));
    }
};

QTEST_MAIN(TestExperiments)
#include "test_experiments.moc"
