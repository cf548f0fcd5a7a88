#include "workspace_gateway.hpp"

#include "annotation/store_writer.hpp"
#include "dataset_attach.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <QFileInfo>
#include <QSettings>
#include <QtConcurrent>

namespace blocklens::ui {
namespace {

LoadedInput loadAndAttach(const QString& file, const QString& workspace, bool replaceInvalidUtf8)
{
    if (workspace.isEmpty())
        return loadInput(file, replaceInvalidUtf8);
    return loadInput(file, replaceInvalidUtf8, [&](LoadedInput& result) {
        store::Store db = store::Store::open(workspace.toStdString(), {.createDirectories = true});
        AttachedDataset attached = attachDataset(db, *result.dataset, file.toStdString());
        result.datasetId = attached.datasetId;
        result.currentBoundaries = std::move(attached.currentBoundaries);
        result.reviewed = std::move(attached.reviewed);
    });
}

std::vector<AnnotatorVersion> readOtherAnnotators(const QString& workspace, const Document& doc, const QString& author)
{
    std::vector<AnnotatorVersion> out;
    if (!QFileInfo::exists(workspace))
        return out;
    try {
        // A short-lived read-only connection: a few small queries, no writes.
        auto db = store::Store::open(workspace.toStdString(), {.mode = store::OpenMode::ReadOnly, .quickCheck = false});
        const auto id = db.findDocument(doc.contentHash());
        if (!id)
            return out;
        for (const auto& v : db.segmentationHistory(*id)) {
            if (v.segmenter != "manual" || v.author.empty() || QString::fromStdString(v.author) == author)
                continue;
            out.emplace_back(QStringLiteral("%1 (%2)").arg(QString::fromStdString(v.author), QString::fromStdString(v.createdAt).left(10)),
                             db.boundaries(v.id));
        }
    } catch (const Error&) {
        // Without the workspace, the comparison lists only the segmenter.
    }
    return out;
}

} // namespace

WorkspaceGateway::WorkspaceGateway(const QString& path, QObject* parent) : QObject(parent), path_(path)
{
    if (!path_.isEmpty())
        writer_ = new StoreWriter(path_, this);
}

WorkspaceGateway::~WorkspaceGateway()
{
    flush();
}

void WorkspaceGateway::flush()
{
    if (writer_)
        writer_->flush();
}

QFuture<LoadedInput> WorkspaceGateway::openInput(const QString& file, bool replaceInvalidUtf8) const
{
    return QtConcurrent::run([file, workspace = path_, replaceInvalidUtf8] { return loadAndAttach(file, workspace, replaceInvalidUtf8); });
}

QFuture<std::vector<AnnotatorVersion>> WorkspaceGateway::otherAnnotators(std::shared_ptr<const Document> document,
                                                                         const QString& author) const
{
    if (path_.isEmpty() || !document)
        return QtFuture::makeReadyFuture(std::vector<AnnotatorVersion>{});
    return QtConcurrent::run([workspace = path_, document, author] { return readOtherAnnotators(workspace, *document, author); });
}

QFuture<std::optional<std::size_t>> WorkspaceGateway::nextAssignedRow(qint64 datasetId, const QString& annotator) const
{
    if (path_.isEmpty() || datasetId <= 0 || annotator.isEmpty())
        return QtFuture::makeReadyFuture(std::optional<std::size_t>{});
    return QtConcurrent::run([workspace = path_, datasetId, annotator]() -> std::optional<std::size_t> {
        try {
            auto db = store::Store::open(workspace.toStdString(), {.mode = store::OpenMode::ReadOnly, .quickCheck = false});
            return db.nextAssignedRow(datasetId, annotator.toStdString());
        } catch (const Error&) {
            return std::nullopt; // a convenience: the dataset opens at its first row
        }
    });
}

QString settingsAnnotator()
{
    const QString named = QSettings().value(QStringLiteral("annotator")).toString().trimmed();
    if (!named.isEmpty())
        return named;
    const QString user = qEnvironmentVariable("USER");
    return user.isEmpty() ? QStringLiteral("annotator") : user;
}

} // namespace blocklens::ui
