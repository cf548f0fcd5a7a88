#include "document_loader.hpp"

#include "util/error.hpp"

#include <QtConcurrent>

namespace blocklens::ui {

bool isDatasetFile(const QString& path)
{
    return path.endsWith(QStringLiteral(".jsonl"), Qt::CaseInsensitive) ||
           path.endsWith(QStringLiteral(".ndjson"), Qt::CaseInsensitive);
}

LoadedInput loadInput(const QString& path, bool replaceInvalidUtf8)
{
    LoadedInput result;
    result.path = path;
    const std::filesystem::path p = path.toStdString();
    try {
        if (isDatasetFile(path)) {
            DatasetLoadOptions options;
            options.replaceInvalidUtf8 = replaceInvalidUtf8;
            result.dataset = std::make_shared<const Dataset>(loadDataset(p, options));
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

QFuture<LoadedInput> loadInputAsync(const QString& path, bool replaceInvalidUtf8)
{
    return QtConcurrent::run([path, replaceInvalidUtf8] { return loadInput(path, replaceInvalidUtf8); });
}

} // namespace blocklens::ui
