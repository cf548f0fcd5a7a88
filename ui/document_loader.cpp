#include "document_loader.hpp"

#include "util/error.hpp"

#include <QRegularExpression>

namespace blocklens::ui {

bool isDatasetFile(const QString& path)
{
    return path.endsWith(QStringLiteral(".jsonl"), Qt::CaseInsensitive) ||
           path.endsWith(QStringLiteral(".ndjson"), Qt::CaseInsensitive);
}

LoadedInput loadInput(const QString& path, bool replaceInvalidUtf8, const std::function<void(LoadedInput&)>& attach)
{
    LoadedInput result;
    result.path = path;
    const std::filesystem::path p = path.toStdString();
    try {
        if (isDatasetFile(path)) {
            DatasetLoadOptions options;
            options.replaceInvalidUtf8 = replaceInvalidUtf8;
            result.dataset = std::make_shared<const Dataset>(loadDataset(p, options));
            if (attach)
                attach(result);
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

} // namespace blocklens::ui
