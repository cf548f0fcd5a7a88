#include "workspace_gateway.hpp"

#include "annotation/store_writer.hpp"
#include "dataset_attach.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

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

std::vector<AnnotatorVersion> readOtherAnnotators(store::Store& db, const Document& doc, const QString& author)
{
    std::vector<AnnotatorVersion> out;
    const auto id = db.findDocument(doc.contentHash());
    if (!id)
        return out;
    for (const auto& v : db.segmentationHistory(*id)) {
        if (v.segmenter != "manual" || v.author.empty() || QString::fromStdString(v.author) == author)
            continue;
        out.emplace_back(QStringLiteral("%1 (%2)").arg(QString::fromStdString(v.author), QString::fromStdString(v.createdAt).left(10)),
                         db.boundaries(v.id));
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
    // Without the workspace, the comparison lists only the segmenter.
    return read<std::vector<AnnotatorVersion>>([document, author](store::Store& db) { return readOtherAnnotators(db, *document, author); },
                                               [](const QString&) { return std::vector<AnnotatorVersion>{}; });
}

QFuture<std::optional<std::size_t>> WorkspaceGateway::nextAssignedRow(qint64 datasetId, const QString& annotator) const
{
    if (path_.isEmpty() || datasetId <= 0 || annotator.isEmpty())
        return QtFuture::makeReadyFuture(std::optional<std::size_t>{});
    // A convenience: on a read error the dataset opens at its first row.
    return read<std::optional<std::size_t>>(
        [datasetId, annotator](store::Store& db) { return db.nextAssignedRow(datasetId, annotator.toStdString()); },
        [](const QString&) { return std::optional<std::size_t>{}; });
}

QFuture<QString> WorkspaceGateway::write(std::function<void(store::Store&)> write) const
{
    if (!writer_)
        return QtFuture::makeReadyFuture(noWorkspace());
    return writer_->run(std::move(write));
}

store::OpenOptions WorkspaceGateway::readOptions()
{
    store::OpenOptions o;
    o.mode = store::OpenMode::ReadOnly;
    o.quickCheck = false;
    return o;
}

QString WorkspaceGateway::noWorkspace()
{
    return tr("no workspace is open");
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
