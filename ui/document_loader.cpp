#include "document_loader.hpp"

#include "store/store.hpp"
#include "util/error.hpp"

#include <QFileInfo>

#include <QtConcurrent>

namespace blocklens::ui {

bool isDatasetFile(const QString& path)
{
    return path.endsWith(QStringLiteral(".jsonl"), Qt::CaseInsensitive) ||
           path.endsWith(QStringLiteral(".ndjson"), Qt::CaseInsensitive);
}

namespace {

// Finds an earlier import of the same file (same path, rows and texts) or imports it now, and
// reads back each row's current boundaries and review status.
void attachToWorkspace(LoadedInput& result, const QString& workspace)
{
    store::Store db = store::Store::open(workspace.toStdString(), {.createDirectories = true});
    const std::string absolute = QFileInfo(result.path).absoluteFilePath().toStdString();
    const Dataset& ds = *result.dataset;
    std::optional<store::Id> found;
    for (const auto& info : db.listDatasets()) {
        if (info.sourcePath != absolute || info.rows != ds.documents.size())
            continue;
        const auto rows = db.datasetRows(info.id);
        bool same = true;
        for (std::size_t i = 0; same && i < rows.size(); ++i)
            same = db.documentInfo(rows[i].documentId).contentHash == ds.documents[i].contentHash();
        if (same)
            found = info.id;
    }
    if (!found) {
        store::ImportOptions options;
        options.name = QFileInfo(result.path).completeBaseName().toStdString();
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
