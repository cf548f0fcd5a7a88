#include "document_loader.hpp"

#include "store/store.hpp"
#include "util/error.hpp"

#include <QFileInfo>
#include <QRegularExpression>

#include <QtConcurrent>

namespace blocklens::ui {

bool isDatasetFile(const QString& path)
{
    return path.endsWith(QStringLiteral(".jsonl"), Qt::CaseInsensitive) ||
           path.endsWith(QStringLiteral(".ndjson"), Qt::CaseInsensitive);
}

namespace {

// Finds an earlier import of the same rows (same texts in the same order; the same file path is
// preferred when several match) or imports the dataset now under a name not yet taken, and reads
// back each row's current boundaries and review status.
void attachToWorkspace(LoadedInput& result, const QString& workspace)
{
    store::Store db = store::Store::open(workspace.toStdString(), {.createDirectories = true});
    const Dataset& ds = *result.dataset;
    std::error_code ec;
    const auto canonical = [&ec](const std::string& p) { return std::filesystem::weakly_canonical(p, ec).string(); };
    const std::string path = canonical(result.path.toStdString());
    std::optional<store::Id> found;
    for (const auto& info : db.listDatasets()) {
        if (info.rows != ds.documents.size() || (found && canonical(info.sourcePath) != path))
            continue;
        const auto rows = db.datasetRows(info.id);
        bool same = rows.size() == ds.documents.size();
        for (std::size_t i = 0; same && i < rows.size(); ++i)
            same = db.documentInfo(rows[i].documentId).contentHash == ds.documents[i].contentHash();
        if (same)
            found = info.id;
    }
    if (!found) {
        const std::string base = QFileInfo(result.path).completeBaseName().toStdString();
        store::ImportOptions options;
        options.name = base;
        for (int n = 2; db.findDataset(options.name); ++n)
            options.name = base + "-" + std::to_string(n);
        found = db.importDataset(ds, options).datasetId;
    }
    result.datasetId = *found;
    for (const auto& row : db.datasetRows(*found)) {
        result.currentBoundaries.push_back(db.boundaries(row.currentSegmentationId));
        result.reviewed.push_back(row.reviewed);
    }
}

} // namespace

LoadedInput loadInput(const QString& path, const QString& workspace, bool replaceInvalidUtf8)
{
    LoadedInput result;
    result.path = path;
    const std::filesystem::path p = path.toStdString();
    try {
        if (isDatasetFile(path)) {
            DatasetLoadOptions options;
            options.replaceInvalidUtf8 = replaceInvalidUtf8;
            result.dataset = std::make_shared<const Dataset>(loadDataset(p, options));
            if (!workspace.isEmpty())
                attachToWorkspace(result, workspace);
        } else {
            LoadOptions options;
            options.replaceInvalidUtf8 = replaceInvalidUtf8;
            LoadReport report;
            result.document = std::make_shared<const Document>(loadDocument(p, options, &report));
            if (!report.replacedByteOffsets.empty())
                result.warning = QObject::tr("Replaced %1 invalid UTF-8 sequence(s) with U+FFFD (first at byte %2).")
                                     .arg(report.replacedByteOffsets.size())
                                     .arg(report.replacedByteOffsets.front());
        }
    } catch (const Error& e) {
        result.error = QString::fromStdString(e.what());
        // Core's loaders say "invalid UTF-8" only for bytes that replacement with U+FFFD repairs.
        result.invalidUtf8 = !replaceInvalidUtf8 && e.message().starts_with("invalid UTF-8");
        if (result.invalidUtf8)
            result.error = QObject::tr("%1: invalid UTF-8. Open anyway to replace each invalid byte sequence with U+FFFD (�); "
                                       "the file itself is not changed.")
                               .arg(QString::fromStdString(formatError("", e.context())).remove(QRegularExpression(QStringLiteral(":\\s*$"))));
    } catch (const std::bad_alloc&) {
        result.error = QObject::tr("%1: not enough memory to load this file").arg(path);
    } catch (const std::exception& e) {
        result.error = QStringLiteral("%1: %2").arg(path, QString::fromStdString(e.what()));
    }
    return result;
}

QFuture<LoadedInput> loadInputAsync(const QString& path, const QString& workspace, bool replaceInvalidUtf8)
{
    return QtConcurrent::run([path, workspace, replaceInvalidUtf8] { return loadInput(path, workspace, replaceInvalidUtf8); });
}

} // namespace blocklens::ui
