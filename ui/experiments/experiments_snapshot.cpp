#include "experiments/experiments_snapshot.hpp"

#include "util/error.hpp"

#include <QFileInfo>
#include <QtConcurrent>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace blocklens::ui {
namespace {

constexpr std::size_t kNoColumn = std::size_t(-1);

std::size_t tableColumn(const store::Table& table, const char* name)
{
    const auto it = std::find(table.columns.begin(), table.columns.end(), name);
    return it == table.columns.end() ? kNoColumn : static_cast<std::size_t>(it - table.columns.begin());
}

// Each document's first dataset row by name, for documents known by nothing but their hash.
std::map<store::Id, QString> datasetRowNames(const store::Table& rows)
{
    std::map<store::Id, QString> out;
    const std::size_t dataset = tableColumn(rows, "dataset"), index = tableColumn(rows, "row_index"),
                      document = tableColumn(rows, "document_id");
    if (dataset == kNoColumn || index == kNoColumn || document == kNoColumn)
        return out;
    for (const auto& row : rows.rows) {
        const auto* id = std::get_if<std::int64_t>(&row[document]);
        const auto* name = std::get_if<std::string>(&row[dataset]);
        const auto* i = std::get_if<std::int64_t>(&row[index]);
        if (id && name && i)
            out.emplace(*id, QObject::tr("%1 row %2").arg(QFileInfo(QString::fromStdString(*name)).fileName()).arg(*i + 1));
    }
    return out;
}

// The evaluations view names a document by its external id, which for a file opened in the app
// is the first digits of its content hash: show the name the runs table shows (issue 15, item 8).
void nameEvaluatedDocuments(store::Table& evaluations, const std::map<store::Id, store::DocumentInfo>& documents,
                            const std::map<store::Id, QString>& datasetRows)
{
    const std::size_t id = tableColumn(evaluations, "document_id"), name = tableColumn(evaluations, "document");
    if (id == kNoColumn || name == kNoColumn)
        return;
    for (auto& row : evaluations.rows)
        if (const auto* documentId = std::get_if<std::int64_t>(&row[id]))
            row[name] = documentName(*documentId, documents, datasetRows).toStdString();
}

} // namespace

store::OpenOptions browseOptions()
{
    store::OpenOptions options;
    options.mode = store::OpenMode::ReadOnly;
    options.quickCheck = false; // reading only; `db check` is the place for integrity checks
    // A store of an older schema is shown as it is (viewing must not require an upgrade): the
    // tables read here are those of schema 2, which the later versions only added tables to.
    options.allowOlderSchema = true;
    return options;
}

ExperimentsSnapshot readExperiments(store::Store& st, const QString& path)
{
    ExperimentsSnapshot s;
    s.path = path;
    s.runs = st.listRuns();
    std::reverse(s.runs.begin(), s.runs.end()); // listRuns is newest first
    for (auto& d : st.listDocuments())
        s.documents.emplace(d.id, std::move(d));
    try {
        s.datasetRows = datasetRowNames(st.queryTable("rows"));
    } catch (const Error&) {
        // An older schema's rows lack some columns of the view: names fall back to the ids.
    }
    s.evaluations = st.queryTable("evaluations");
    nameEvaluatedDocuments(s.evaluations, s.documents, s.datasetRows);
    s.metrics = st.aggregateMetrics(store::GroupBy::SegmenterAndCategory);
    return s;
}

ExperimentsSnapshot readExperiments(const QString& path)
{
    try {
        auto st = store::Store::open(path.toStdString(), browseOptions());
        return readExperiments(st, path);
    } catch (const Error& e) {
        return failedSnapshot(path, QString::fromStdString(e.what()));
    } catch (const std::exception& e) {
        return failedSnapshot(path, QStringLiteral("%1: %2").arg(path, QString::fromUtf8(e.what())));
    }
}

ExperimentsSnapshot failedSnapshot(const QString& path, const QString& error)
{
    ExperimentsSnapshot s;
    s.path = path;
    s.error = error;
    return s;
}

QFuture<ExperimentsSnapshot> readExperimentsAsync(const QString& path)
{
    return QtConcurrent::run([path] { return readExperiments(path); });
}

QString runSegmenter(const store::RunRecord& run)
{
    const auto j = nlohmann::json::parse(run.divergence, nullptr, false);
    if (j.is_object() && j.contains("segmenter") && j["segmenter"].is_string())
        return QString::fromStdString(j["segmenter"].get<std::string>());
    return {};
}

QString runDocument(const store::RunRecord& run, const std::map<store::Id, store::DocumentInfo>& documents,
                    const std::map<store::Id, QString>& datasetRows)
{
    return run.documentId ? documentName(*run.documentId, documents, datasetRows) : QString();
}

QString documentName(store::Id id, const std::map<store::Id, store::DocumentInfo>& documents, const std::map<store::Id, QString>& datasetRows)
{
    const auto it = documents.find(id);
    if (it == documents.end())
        return QStringLiteral("#%1").arg(id);
    // By name, not by hash: a file's name, or a dataset row's source ("mixed/d/26") in full.
    const store::DocumentInfo& d = it->second;
    const QString source = QString::fromStdString(d.source);
    if (!source.isEmpty())
        return QFileInfo(source).isAbsolute() ? QFileInfo(source).fileName() : source;
    // A document without an id of its own gets the first digits of its hash as external id.
    const bool hashId = !d.externalId.empty() && d.contentHash.rfind(d.externalId, 0) == 0;
    if (!d.externalId.empty() && !hashId)
        return QString::fromStdString(d.externalId);
    if (const auto row = datasetRows.find(id); row != datasetRows.end())
        return row->second;
    if (!d.externalId.empty())
        return QString::fromStdString(d.externalId);
    return QStringLiteral("#%1").arg(id);
}

RunRepair runRepair(const store::RunRecord& run)
{
    const QString mode = QString::fromStdString(run.attentionMode);
    const qsizetype plus = mode.indexOf(QLatin1Char('+'));
    if (plus < 0)
        return {mode, {}, {}};
    const QString repair = mode.mid(plus + 1);
    const qsizetype colon = repair.indexOf(QLatin1Char(':'));
    RunRepair r{repair.left(colon), colon < 0 ? QString() : repair.mid(colon + 1), {}};
    bool ok = false;
    const double v = r.settingText.toDouble(&ok);
    if (ok)
        r.setting = v;
    else if (r.family == QLatin1String("sink") && r.settingText == QLatin1String("bos"))
        r.setting = 1; // the BOS token alone
    return r;
}

} // namespace blocklens::ui
