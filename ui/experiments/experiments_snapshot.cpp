#include "experiments/experiments_snapshot.hpp"

#include "util/error.hpp"

#include <QFileInfo>
#include <QtConcurrent>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace blocklens::ui {

ExperimentsSnapshot readExperiments(const QString& path)
{
    ExperimentsSnapshot s;
    s.path = path;
    try {
        store::OpenOptions options;
        options.mode = store::OpenMode::ReadOnly;
        options.quickCheck = false; // reading only; `db check` is the place for integrity checks
        // A store of an older schema is shown as it is (viewing must not require an upgrade): the
        // tables read here are those of schema 2, which the later versions only added tables to.
        options.allowOlderSchema = true;
        auto st = store::Store::open(path.toStdString(), options);
        s.runs = st.listRuns();
        std::reverse(s.runs.begin(), s.runs.end()); // listRuns is newest first
        for (auto& d : st.listDocuments())
            s.documents.emplace(d.id, std::move(d));
        s.evaluations = st.queryTable("evaluations");
        s.metrics = st.aggregateMetrics(store::GroupBy::SegmenterAndCategory);
    } catch (const Error& e) {
        s.error = QString::fromStdString(e.what());
    } catch (const std::exception& e) {
        s.error = QStringLiteral("%1: %2").arg(path, QString::fromUtf8(e.what()));
    }
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

QString runDocument(const store::RunRecord& run, const std::map<store::Id, store::DocumentInfo>& documents)
{
    if (!run.documentId)
        return {};
    const auto it = documents.find(*run.documentId);
    if (it == documents.end())
        return QStringLiteral("#%1").arg(*run.documentId);
    // By name, not by hash: a file's name, or a dataset row's source ("mixed/d/26") in full;
    // the external id (a dataset's id or the first digits of the hash) only when there is neither.
    const QString source = QString::fromStdString(it->second.source);
    if (!source.isEmpty())
        return QFileInfo(source).isAbsolute() ? QFileInfo(source).fileName() : source;
    if (!it->second.externalId.empty())
        return QString::fromStdString(it->second.externalId);
    return QStringLiteral("#%1").arg(*run.documentId);
}

} // namespace blocklens::ui
