#include "workbench.hpp"

#include "annotation/store_writer.hpp"
#include "dataset_browser.hpp"
#include "document_pane.hpp"
#include "feature_host.hpp"
#include "stats_panel.hpp"
#include "view_export.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMainWindow>
#include <QMenu>
#include <QSettings>

#include <algorithm>
#include <fstream>

namespace blocklens::ui {
namespace {

constexpr int kMaxRecent = 10;
const QString kRecentKey = QStringLiteral("recentFiles");

} // namespace

Workbench::Workbench(FeatureHost& host)
    : QObject(host.window()), host_(host),
      session_(new AnnotationSession(host.workspace()->writer(), settingsAnnotator(), host.window())), pane_(host.documentPane()),
      stats_(new StatsPanel), browser_(new DatasetBrowser)
{
    buildFileMenu();
    buildToolViews();
    connect(&loadWatcher_, &QFutureWatcher<LoadedInput>::finished, this, [this] {
        const LoadedInput input = loadWatcher_.result();
        // Latest request wins: a result for a path the user has since replaced is dropped.
        if (input.path != pendingPath_)
            return;
        pendingPath_.clear();
        QApplication::restoreOverrideCursor();
        showLoaded(input);
    });
    connect(session_, &AnnotationSession::boundariesChanged, this, &Workbench::refresh);
    connect(session_, &AnnotationSession::editRejected, this, [this](const QString& why) { host_.showStatus(why, 4000); });
    connect(session_, &AnnotationSession::saveFailed, this, [this](const QString& message) {
        host_.showBanner(tr("Could not save the last edit to the workspace (it is still on screen): %1").arg(message), true);
    });
    connect(browser_, &DatasetBrowser::rowActivated, this, &Workbench::showDatasetRow);
}

void Workbench::buildFileMenu()
{
    QMenu* file = host_.menu(FeatureHost::Menu::File);
    QAction* open = file->addAction(tr("&Open…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            host_.window(), tr("Open document or dataset"), {},
            tr("Documents and datasets (*.txt *.md *.markdown *.jsonl *.ndjson *.py *.c *.h *.cpp *.hpp *.cc *.js *.ts *.rs *.go *.java);;All files (*)"));
        if (!path.isEmpty())
            openPath(path);
    });
    open->setObjectName(QStringLiteral("open"));
    open->setShortcut(QKeySequence::Open);
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    rebuildRecentMenu();
    file->addSeparator();
    QAction* exportData = file->addAction(tr("Export Corrected &Dataset…"), this, &Workbench::exportDataset);
    exportData->setObjectName(QStringLiteral("exportDataset"));
    exportData->setShortcut(QKeySequence(tr("Ctrl+Shift+E")));
    QAction* exportImage = file->addAction(tr("Export &View as PNG or SVG…"), this, &Workbench::exportView);
    exportImage->setObjectName(QStringLiteral("exportView"));
    exportImage->setShortcut(QKeySequence(tr("Ctrl+E")));
}

void Workbench::buildToolViews()
{
    QDockWidget* statsDock = host_.addToolView(QStringLiteral("statsDock"), tr("Document"), stats_, Qt::RightDockWidgetArea);
    datasetDock_ = host_.addToolView(QStringLiteral("datasetDock"), tr("Dataset"), browser_, Qt::LeftDockWidgetArea,
                                     {.scrolled = false, .hidden = true});
    QMenu* view = host_.menu(FeatureHost::Menu::View);
    view->addSeparator();
    view->addAction(statsDock->toggleViewAction());
    view->addAction(datasetDock_->toggleViewAction());
}

std::size_t Workbench::caretCodePoint() const
{
    return pane_->view()->toCodePoint(pane_->view()->textCursor().position());
}

void Workbench::openPath(const QString& path, bool replaceInvalidUtf8)
{
    pendingPath_ = path;
    host_.showStatus(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    if (!QApplication::overrideCursor())
        QApplication::setOverrideCursor(Qt::BusyCursor);
    loadWatcher_.setFuture(host_.workspace()->openInput(path, replaceInvalidUtf8));
}

void Workbench::showLoaded(const LoadedInput& input)
{
    if (!input.error.isEmpty()) {
        if (input.invalidUtf8)
            host_.showBanner(input.error, true, tr("Open Anyway (replace with U+FFFD)"), [this, path = input.path] { openPath(path, true); });
        else
            host_.showBanner(input.error, true);
        host_.showStatus(tr("Could not open the file; what was open stays open."), 8000);
        Q_EMIT inputFailed(input.error);
        return;
    }
    host_.hideBanner();
    if (!input.warning.isEmpty())
        host_.showBanner(input.warning, false);
    addRecent(input.path);
    host_.window()->setWindowTitle(tr("%1 — BlockLens").arg(QFileInfo(input.path).fileName()));
    current_ = input;
    currentRow_ = -1;
    if (input.dataset) {
        browser_->model()->setDataset(input.dataset);
        for (std::size_t i = 0; i < input.reviewed.size(); ++i)
            browser_->model()->setReviewed(static_cast<int>(i), input.reviewed[i]);
        for (std::size_t i = 0; i < input.currentBoundaries.size(); ++i)
            browser_->model()->setBlockCount(static_cast<int>(i), static_cast<int>(input.currentBoundaries[i].size() + 1));
        if (!datasetDock_->isVisible()) {
            datasetDock_->show();
            host_.window()->resizeDocks({datasetDock_}, {qMax(380, host_.window()->width() / 4)}, Qt::Horizontal);
        }
        browser_->selectRow(0);
        if (browser_->currentRow() < 0)
            showDatasetRow(0);
        host_.showStatus(tr("%1 documents").arg(input.dataset->documents.size()));
        showNextAssignedRow(input.path, input.datasetId);
    } else {
        browser_->model()->setDataset(nullptr);
        datasetDock_->hide();
        session_->start(input.document, input.document->reference(), {});
        pane_->showDocument(*input.document, session_->boundaries());
        stats_->showDocument(*input.document, session_->boundaries().size() + 1);
        host_.showStatus(tr("%1 characters").arg(input.document->length()));
        Q_EMIT documentShown();
        refresh();
    }
    Q_EMIT inputShown(input.path);
}

void Workbench::showNextAssignedRow(const QString& path, qint64 datasetId)
{
    // "My next document": the first row assigned to this annotator that they have not done. It
    // is read in the background; the dataset shows its first row meanwhile, and the jump is made
    // only if that dataset is still open at its first row (the user has not moved on).
    const QString annotator = session_->author();
    auto* watcher = new QFutureWatcher<std::optional<std::size_t>>(this);
    connect(watcher, &QFutureWatcher<std::optional<std::size_t>>::finished, this, [this, watcher, path, annotator] {
        const auto row = watcher->result();
        watcher->deleteLater();
        if (!row || current_.path != path || !current_.dataset || currentRow_ != 0)
            return;
        browser_->selectRow(static_cast<int>(*row));
        showDatasetRow(static_cast<int>(*row));
        host_.showStatus(tr("Your next document (assigned to %1): row %2").arg(annotator).arg(*row + 1), 8000);
    });
    watcher->setFuture(host_.workspace()->nextAssignedRow(datasetId, annotator));
}

void Workbench::showDatasetRow(int row)
{
    if (!current_.dataset || row < 0 || row >= static_cast<int>(current_.dataset->documents.size()) || row == currentRow_)
        return;
    // Keep the corrections of the row we leave (they are saved already) for when we come back.
    keepCurrentRowEdits();
    currentRow_ = row;
    const auto r = static_cast<std::size_t>(row);
    // Share the dataset's document without copying its text.
    std::shared_ptr<const Document> doc(current_.dataset, &current_.dataset->documents[r]);
    std::vector<Boundary> boundaries = r < current_.currentBoundaries.size() ? current_.currentBoundaries[r] : doc->reference();
    AnnotationSession::Origin origin;
    origin.datasetId = current_.datasetId;
    origin.row = row;
    session_->start(doc, boundaries, origin);
    pane_->showDocument(*doc, session_->boundaries());
    stats_->showDocument(*doc, session_->boundaries().size() + 1);
    Q_EMIT documentShown();
    refresh();
}

void Workbench::keepCurrentRowEdits()
{
    if (currentRow_ >= 0 && static_cast<std::size_t>(currentRow_) < current_.currentBoundaries.size())
        current_.currentBoundaries[static_cast<std::size_t>(currentRow_)] = session_->boundaries();
}

std::vector<std::vector<Boundary>> Workbench::datasetBoundaries()
{
    keepCurrentRowEdits();
    return current_.currentBoundaries;
}

bool Workbench::adoptsSegmenterOutput() const
{
    return !current_.dataset && session_->undoStack()->count() == 0;
}

void Workbench::adopt(std::vector<Boundary> boundaries, const AnnotationSession::Origin& origin)
{
    session_->start(session_->sharedDocument(), std::move(boundaries), origin);
    pane_->setBoundaries(session_->boundaries());
    stats_->setBlockCount(session_->boundaries().size() + 1);
}

void Workbench::markReviewedAndNext()
{
    if (!current_.dataset || currentRow_ < 0) {
        host_.showStatus(tr("Reviewing works on datasets: open a .jsonl file"), 4000);
        return;
    }
    browser_->model()->setReviewed(currentRow_, true);
    if (currentRow_ < static_cast<int>(current_.reviewed.size()))
        current_.reviewed[static_cast<std::size_t>(currentRow_)] = true;
    if (StoreWriter* writer = host_.workspace()->writer())
        writer->setReviewed(current_.datasetId, currentRow_, true, session_->author());
    showNextUnreviewed();
}

void Workbench::showNextUnreviewed()
{
    const int next = browser_->nextUnreviewedRow();
    if (next >= 0)
        browser_->selectRow(next);
    else
        host_.showStatus(tr("Every document is reviewed"), 4000);
}

void Workbench::refresh()
{
    if (!session_->document())
        return;
    pane_->setBoundaries(session_->boundaries());
    stats_->setBlockCount(session_->boundaries().size() + 1);
    if (current_.dataset && currentRow_ >= 0)
        browser_->model()->setBlockCount(currentRow_, static_cast<int>(session_->boundaries().size() + 1));
    Q_EMIT viewsRefreshed();
}

void Workbench::exportView()
{
    const QString path = QFileDialog::getSaveFileName(host_.window(), tr("Export view"), QStringLiteral("blocklens-view.png"),
                                                      tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (path.isEmpty())
        return;
    const QString error = exportViewTo(path);
    if (!error.isEmpty())
        host_.showBanner(error, true);
    else
        host_.showStatus(tr("Saved %1").arg(path), 5000);
}

QString Workbench::exportViewTo(const QString& path)
{
    return exportWidget(pane_, path);
}

void Workbench::exportDataset()
{
    if (!current_.dataset) {
        host_.showStatus(tr("Open a dataset first: this exports its corrected boundaries."), 5000);
        return;
    }
    const QString path = QFileDialog::getSaveFileName(host_.window(), tr("Export corrected dataset"),
                                                      QFileInfo(current_.path).completeBaseName() + QStringLiteral("-corrected.jsonl"),
                                                      tr("JSON Lines (*.jsonl)"));
    if (path.isEmpty())
        return;
    const QString error = exportDatasetTo(path);
    if (!error.isEmpty())
        host_.showBanner(error, true);
    else
        host_.showStatus(tr("Exported %1 documents to %2").arg(current_.dataset->documents.size()).arg(path), 5000);
}

QString Workbench::exportDatasetTo(const QString& path)
{
    if (!current_.dataset)
        return tr("no dataset is open");
    keepCurrentRowEdits();
    // Written next to the target and renamed over it at the end: a failed export never leaves
    // half a file where a good one was.
    const QString temporary = path + QStringLiteral(".part");
    {
        std::ofstream out(temporary.toStdString(), std::ios::binary);
        for (std::size_t i = 0; out && i < current_.dataset->documents.size(); ++i) {
            const auto& doc = current_.dataset->documents[i];
            out << formatDatasetRecord(doc, i < current_.currentBoundaries.size() ? current_.currentBoundaries[i] : doc.reference()) << '\n';
        }
        out.close();
        if (!out) {
            QFile::remove(temporary);
            return tr("%1: could not write the file (disk full or no permission?)").arg(path);
        }
    }
    QFile::remove(path);
    if (!QFile::rename(temporary, path))
        return tr("%1: could not replace the file").arg(path);
    return {};
}

void Workbench::addRecent(const QString& path)
{
    QSettings settings;
    QStringList recent = settings.value(kRecentKey).toStringList();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    recent.removeAll(absolute);
    recent.prepend(absolute);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    settings.setValue(kRecentKey, recent);
    rebuildRecentMenu();
}

void Workbench::rebuildRecentMenu()
{
    recentMenu_->clear();
    const QStringList recent = QSettings().value(kRecentKey).toStringList();
    for (const QString& path : recent)
        recentMenu_->addAction(QFileInfo(path).fileName(), this, [this, path] { openPath(path); })->setToolTip(path);
    recentMenu_->setEnabled(!recent.isEmpty());
}

} // namespace blocklens::ui
