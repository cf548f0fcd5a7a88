#include "main_window.hpp"

#include "annotation/annotation_session.hpp"
#include "annotation/store_writer.hpp"
#include "dataset_browser.hpp"
#include "dock_scroll.hpp"
#include "document_pane.hpp"
#include "shortcut_overlay.hpp"
#include "stats_panel.hpp"
#include "view_export.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <fstream>
#include <utility>

namespace blocklens::ui {
namespace {
constexpr int kMaxRecent = 10;
const QString kRecentKey = QStringLiteral("recentFiles");

QString userName()
{
    const QString user = qEnvironmentVariable("USER");
    return user.isEmpty() ? QStringLiteral("annotator") : user;
}
} // namespace

MainWindow::MainWindow(const QString& workspace, QWidget* parent)
    : QMainWindow(parent), workspace_(workspace), pane_(new DocumentPane), stats_(new StatsPanel),
      browser_(new DatasetBrowser), overlay_(nullptr)
{
    setWindowTitle(tr("BlockLens"));
    setAcceptDrops(true);
    setObjectName(QStringLiteral("MainWindow"));
    if (!workspace_.isEmpty())
        writer_ = new StoreWriter(workspace_, this);
    session_ = new AnnotationSession(writer_, userName(), this);

    // Central area: a banner for errors and notices (hidden until needed) above the document.
    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    banner_ = new QWidget;
    banner_->setObjectName(QStringLiteral("banner"));
    banner_->setAutoFillBackground(true);
    auto* bannerLayout = new QHBoxLayout(banner_);
    bannerLayout->setContentsMargins(12, 8, 8, 8);
    bannerText_ = new QLabel;
    bannerText_->setWordWrap(true);
    bannerText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* close = new QToolButton;
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    connect(close, &QToolButton::clicked, banner_, &QWidget::hide);
    // The remedy the message offers (e.g. open a file with invalid UTF-8 anyway), where there is one.
    bannerAction_ = new QPushButton;
    bannerAction_->setObjectName(QStringLiteral("bannerAction"));
    bannerAction_->hide();
    connect(bannerAction_, &QPushButton::clicked, this, [this] {
        banner_->hide();
        if (auto run = std::exchange(bannerCallback_, {}))
            run();
    });
    bannerLayout->addWidget(bannerText_, 1);
    bannerLayout->addWidget(bannerAction_, 0, Qt::AlignVCenter);
    bannerLayout->addWidget(close);
    banner_->hide();
    layout->addWidget(banner_);
    layout->addWidget(pane_, 1);
    setCentralWidget(central);
    overlay_ = new ShortcutOverlay(this);

    buildFileMenu();
    buildEditActions();
    buildDocks();
    buildSegmentDocks();
#if BLOCKLENS_WITH_TORCH
    buildInference();
    buildRetrain();
#endif
    buildAnalysis();
    arrangeDocks();
    statusBar()->showMessage(tr("Open a document or a dataset (Ctrl+O), or drop a file here. F1 lists the shortcuts."));

    connect(&loadWatcher_, &QFutureWatcher<LoadedInput>::finished, this, [this] {
        const LoadedInput input = loadWatcher_.result();
        // Latest request wins: a result for a path the user has since replaced is dropped.
        if (input.path != pendingPath_)
            return;
        pendingPath_.clear();
        QApplication::restoreOverrideCursor();
        showLoaded(input);
    });
    connect(session_, &AnnotationSession::boundariesChanged, this, &MainWindow::refreshAfterEdit);
    connect(session_, &AnnotationSession::editRejected, this, [this](const QString& why) {
        statusBar()->showMessage(why, 4000);
    });
    connect(session_, &AnnotationSession::saveFailed, this, [this](const QString& message) {
        showBanner(tr("Could not save the last edit to the workspace (it is still on screen): %1").arg(message), true);
    });
    connect(browser_, &DatasetBrowser::rowActivated, this, &MainWindow::showDatasetRow);
    restoreSettings();
}

MainWindow::~MainWindow()
{
    if (writer_)
        writer_->flush();
}

DocumentView* MainWindow::documentView() const
{
    return pane_->view();
}

QAction* MainWindow::action(const QString& objectName) const
{
    return findChild<QAction*>(objectName);
}

void MainWindow::buildFileMenu()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open document or dataset"), {},
            tr("Documents and datasets (*.txt *.md *.markdown *.jsonl *.ndjson *.py *.c *.h *.cpp *.hpp *.cc *.js *.ts *.rs *.go *.java);;All files (*)"));
        if (!path.isEmpty())
            openPath(path);
    });
    open->setObjectName(QStringLiteral("open"));
    open->setShortcut(QKeySequence::Open);
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    QAction* exportData = file->addAction(tr("Export Corrected &Dataset…"), this, &MainWindow::exportDataset);
    exportData->setObjectName(QStringLiteral("exportDataset"));
    exportData->setShortcut(QKeySequence(tr("Ctrl+Shift+E")));
    QAction* exportImage = file->addAction(tr("Export &View as PNG or SVG…"), this, &MainWindow::exportView);
    exportImage->setObjectName(QStringLiteral("exportView"));
    exportImage->setShortcut(QKeySequence(tr("Ctrl+E")));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
}

void MainWindow::buildDocks()
{
    auto* statsDock = new QDockWidget(tr("Document"), this);
    statsDock->setObjectName(QStringLiteral("statsDock"));
    statsDock->setWidget(scrolledForDock(stats_));
    addDockWidget(Qt::RightDockWidgetArea, statsDock);

    auto* datasetDock = new QDockWidget(tr("Dataset"), this);
    datasetDock->setObjectName(QStringLiteral("datasetDock"));
    datasetDock->setWidget(browser_);
    addDockWidget(Qt::LeftDockWidgetArea, datasetDock);
    datasetDock->hide();

    viewMenu_->addSeparator();
    viewMenu_->addAction(statsDock->toggleViewAction());
    viewMenu_->addAction(datasetDock->toggleViewAction());

    helpMenu_ = menuBar()->addMenu(tr("&Help"));
    QAction* shortcuts = helpMenu_->addAction(tr("Keyboard &Shortcuts"), this, [this] {
        QList<QAction*> all;
        for (QMenu* m : {menuBar()->actions()[0]->menu(), editMenu_, viewMenu_})
            for (QAction* a : m->actions())
                all.append(a);
        overlay_->showOver(all);
    });
    shortcuts->setObjectName(QStringLiteral("shortcuts"));
    shortcuts->setShortcuts({QKeySequence(Qt::Key_F1), QKeySequence(Qt::Key_Question)});
    helpMenu_->addAction(tr("&About BlockLens"), this, [this] {
        QMessageBox::about(this, tr("About BlockLens"),
                           tr("<b>BlockLens</b> explores block attention: where to cut a long input into "
                              "independently encoded blocks, and what each cut costs."));
    });
}

void MainWindow::arrangeDocks()
{
    // Right column: the segmenter alone on top (it is used all the time), then the document's
    // facts, the metrics and the model as tabs, so that the column fits a 768-pixel screen with
    // room in each (issue 15). The bottom docks are tabs already (chart, side by side, ...).
    // The side columns run the full height; the bottom tabs (chart, side by side, heatmap,
    // experiments) sit under the document between them, so opening one never squeezes the
    // segmenter's column to nothing.
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    auto* stats = findChild<QDockWidget*>(QStringLiteral("statsDock"));
    if (auto* seg = findChild<QDockWidget*>(QStringLiteral("segmenterDock")); seg && stats)
        splitDockWidget(seg, stats, Qt::Vertical);
    setTabPosition(Qt::RightDockWidgetArea, QTabWidget::North);
    for (const char* name : {"metricsDock", "modelDock"})
        if (auto* d = findChild<QDockWidget*>(QLatin1String(name)); d && stats)
            tabifyDockWidget(stats, d);
    if (stats)
        stats->raise();
    // Shown from the View menu, a dock that shares tabs comes to the front, not behind a tab.
    // (Queued: the action's toggled comes before it shows the dock.)
    for (QDockWidget* dock : findChildren<QDockWidget*>())
        connect(dock->toggleViewAction(), &QAction::toggled, dock, [dock](bool on) {
            if (on)
                QTimer::singleShot(0, dock, [dock] { dock->raise(); });
        });
}

void MainWindow::makeRoomWhenShown(QDockWidget* dock)
{
    // After the layout has placed the dock (resizing in the same event does not stick). The
    // docks' contents scroll, so this only moves the split between the document and the dock:
    // the window keeps its size.
    // Shown from the View menu, a dock that shares tabs comes to the front (not behind a tab).
    connect(dock, &QDockWidget::visibilityChanged, this, [this, dock](bool visible) {
        if (!visible)
            return;
        QTimer::singleShot(0, this, [this, dock] {
            if (dock->isVisible() && dock->height() < height() / 2)
                resizeDocks({dock}, {height() * 11 / 20}, Qt::Vertical);
        });
    });
}

void MainWindow::openPath(const QString& path, bool replaceInvalidUtf8)
{
    pendingPath_ = path;
    statusBar()->showMessage(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    if (!QApplication::overrideCursor())
        QApplication::setOverrideCursor(Qt::BusyCursor);
    loadWatcher_.setFuture(loadInputAsync(path, workspace_, replaceInvalidUtf8));
}

bool MainWindow::isLoading() const
{
    return !pendingPath_.isEmpty();
}

QString MainWindow::errorText() const
{
    return banner_->isVisible() ? bannerText_->text() : QString();
}

void MainWindow::showBanner(const QString& message, bool isError, const QString& actionText, std::function<void()> action)
{
    bannerCallback_ = std::move(action);
    bannerAction_->setText(actionText);
    bannerAction_->setVisible(!actionText.isEmpty() && bannerCallback_);
    QPalette bp = banner_->palette();
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    if (isError) {
        bp.setColor(QPalette::Window, dark ? QColor(0x5c, 0x1f, 0x1a) : QColor(0xfd, 0xec, 0xea));
        bp.setColor(QPalette::WindowText, dark ? QColor(0xff, 0xd7, 0xd2) : QColor(0x8a, 0x1c, 0x12));
    } else {
        bp.setColor(QPalette::Window, dark ? QColor(0x1f, 0x3b, 0x5c) : QColor(0xe8, 0xf1, 0xfb));
        bp.setColor(QPalette::WindowText, dark ? QColor(0xd6, 0xe8, 0xff) : QColor(0x12, 0x3a, 0x6b));
    }
    banner_->setPalette(bp);
    bannerText_->setText(message);
    banner_->show();
}

void MainWindow::showLoaded(const LoadedInput& input)
{
    if (!input.error.isEmpty()) {
        if (input.invalidUtf8)
            showBanner(input.error, true, tr("Open Anyway (replace with U+FFFD)"), [this, path = input.path] { openPath(path, true); });
        else
            showBanner(input.error, true);
        statusBar()->showMessage(tr("Could not open the file; what was open stays open."), 8000);
        Q_EMIT inputFailed(input.error);
        return;
    }
    banner_->hide();
    if (!input.warning.isEmpty())
        showBanner(input.warning, false);
    addRecent(input.path);
    setWindowTitle(tr("%1 — BlockLens").arg(QFileInfo(input.path).fileName()));
    current_ = input;
    currentRow_ = -1;
    auto* datasetDock = findChild<QDockWidget*>(QStringLiteral("datasetDock"));
    if (input.dataset) {
        browser_->model()->setDataset(input.dataset);
        for (std::size_t i = 0; i < input.reviewed.size(); ++i)
            browser_->model()->setReviewed(static_cast<int>(i), input.reviewed[i]);
        for (std::size_t i = 0; i < input.currentBoundaries.size(); ++i)
            browser_->model()->setBlockCount(static_cast<int>(i), static_cast<int>(input.currentBoundaries[i].size() + 1));
        if (!datasetDock->isVisible()) {
            datasetDock->show();
            resizeDocks({datasetDock}, {qMax(380, width() / 4)}, Qt::Horizontal);
        }
        browser_->selectRow(0);
        if (browser_->currentRow() < 0)
            showDatasetRow(0);
        statusBar()->showMessage(tr("%1 documents").arg(input.dataset->documents.size()));
    } else {
        browser_->model()->setDataset(nullptr);
        datasetDock->hide();
        session_->start(input.document, input.document->reference(), {});
        pane_->showDocument(*input.document, session_->boundaries());
        stats_->showDocument(*input.document, session_->boundaries().size() + 1);
        statusBar()->showMessage(tr("%1 characters").arg(input.document->length()));
        documentChanged();
        refreshAfterEdit();
    }
    Q_EMIT inputShown(input.path);
}

void MainWindow::showDatasetRow(int row)
{
    if (!current_.dataset || row < 0 || row >= static_cast<int>(current_.dataset->documents.size()) || row == currentRow_)
        return;
    // Keep the corrections of the row we leave (they are saved already) for when we come back.
    if (currentRow_ >= 0 && static_cast<std::size_t>(currentRow_) < current_.currentBoundaries.size())
        current_.currentBoundaries[static_cast<std::size_t>(currentRow_)] = session_->boundaries();
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
    documentChanged();
    refreshAfterEdit();
    // In the review queue, start at the first place where the segmenter and the boundaries
    // disagree, as soon as the segmenter's result for this row is in.
    pendingQueueJump_ = reviewQueue_;
}

void MainWindow::exportView()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export view"), QStringLiteral("blocklens-view.png"),
                                                      tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (path.isEmpty())
        return;
    const QString error = exportViewTo(path);
    if (!error.isEmpty())
        showBanner(error, true);
    else
        statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
}

QString MainWindow::exportViewTo(const QString& path)
{
    return exportWidget(pane_, path);
}

void MainWindow::exportDataset()
{
    if (!current_.dataset) {
        statusBar()->showMessage(tr("Open a dataset first: this exports its corrected boundaries."), 5000);
        return;
    }
    const QString path = QFileDialog::getSaveFileName(this, tr("Export corrected dataset"),
                                                      QFileInfo(current_.path).completeBaseName() + QStringLiteral("-corrected.jsonl"),
                                                      tr("JSON Lines (*.jsonl)"));
    if (path.isEmpty())
        return;
    const QString error = exportDatasetTo(path);
    if (!error.isEmpty())
        showBanner(error, true);
    else
        statusBar()->showMessage(tr("Exported %1 documents to %2").arg(current_.dataset->documents.size()).arg(path), 5000);
}

QString MainWindow::exportDatasetTo(const QString& path)
{
    if (!current_.dataset)
        return tr("no dataset is open");
    if (currentRow_ >= 0)
        current_.currentBoundaries[static_cast<std::size_t>(currentRow_)] = session_->boundaries();
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

void MainWindow::addRecent(const QString& path)
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

void MainWindow::rebuildRecentMenu()
{
    recentMenu_->clear();
    const QStringList recent = QSettings().value(kRecentKey).toStringList();
    for (const QString& path : recent)
        recentMenu_->addAction(QFileInfo(path).fileName(), this, [this, path] { openPath(path); })->setToolTip(path);
    recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray()))
        resize(1280, 820);
    restoreState(settings.value(QStringLiteral("windowState")).toByteArray());
    rebuildRecentMenu();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("geometry"), saveGeometry());
    settings.setValue(QStringLiteral("windowState"), saveState());
    if (writer_)
        writer_->flush();
    event->accept();
}

void MainWindow::resizeEvent(QResizeEvent* event)
{
    QMainWindow::resizeEvent(event);
    if (overlay_ && overlay_->isVisible())
        overlay_->setGeometry(rect());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const auto urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile())
        openPath(urls.first().toLocalFile());
}

} // namespace blocklens::ui
