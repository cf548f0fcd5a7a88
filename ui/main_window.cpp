#include "main_window.hpp"

#include "document_view.hpp"
#include "stats_panel.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace blocklens::ui {
namespace {
constexpr int kMaxRecent = 10;
const QString kRecentKey = QStringLiteral("recentFiles");
} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), view_(new DocumentView), stats_(new StatsPanel), datasetList_(new QListWidget)
{
    setWindowTitle(tr("BlockLens"));
    setAcceptDrops(true);
    setObjectName(QStringLiteral("MainWindow"));

    // Central area: an error banner (hidden until needed) above the document view.
    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    banner_ = new QWidget;
    banner_->setObjectName(QStringLiteral("errorBanner"));
    banner_->setAutoFillBackground(true);
    QPalette bp = banner_->palette();
    bp.setColor(QPalette::Window, QColor(0xfd, 0xec, 0xea));
    bp.setColor(QPalette::WindowText, QColor(0x8a, 0x1c, 0x12));
    banner_->setPalette(bp);
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
    bannerLayout->addWidget(bannerText_, 1);
    bannerLayout->addWidget(close);
    banner_->hide();
    layout->addWidget(banner_);
    layout->addWidget(view_, 1);
    setCentralWidget(central);

    buildActions();
    buildDocks();
    statusBar()->showMessage(tr("Open a document or a dataset (Ctrl+O), or drop a file here."));

    connect(&loadWatcher_, &QFutureWatcher<LoadedInput>::finished, this, [this] {
        const LoadedInput input = loadWatcher_.result();
        // Latest request wins: a result for a path the user has since replaced is dropped.
        if (input.path != pendingPath_)
            return;
        pendingPath_.clear();
        QApplication::restoreOverrideCursor();
        showLoaded(input);
    });
    restoreSettings();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open document or dataset"), {},
            tr("Documents and datasets (*.txt *.md *.markdown *.jsonl *.ndjson *.py *.c *.h *.cpp *.hpp *.cc *.js *.ts *.rs *.go *.java);;All files (*)"));
        if (!path.isEmpty())
            openPath(path);
    });
    open->setShortcut(QKeySequence::Open);
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    viewMenu_ = menuBar()->addMenu(tr("&View"));
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About BlockLens"), this, [this] {
        QMessageBox::about(this, tr("About BlockLens"),
                           tr("<b>BlockLens</b> explores block attention: where to cut a long input into "
                              "independently encoded blocks, and what each cut costs."));
    });
}

void MainWindow::buildDocks()
{
    auto* statsDock = new QDockWidget(tr("Document"), this);
    statsDock->setObjectName(QStringLiteral("statsDock"));
    statsDock->setWidget(stats_);
    addDockWidget(Qt::RightDockWidgetArea, statsDock);

    auto* datasetDock = new QDockWidget(tr("Dataset"), this);
    datasetDock->setObjectName(QStringLiteral("datasetDock"));
    datasetDock->setWidget(datasetList_);
    addDockWidget(Qt::LeftDockWidgetArea, datasetDock);
    datasetDock->hide();
    connect(datasetList_, &QListWidget::currentRowChanged, this, &MainWindow::showDatasetDocument);

    viewMenu_->addAction(statsDock->toggleViewAction());
    viewMenu_->addAction(datasetDock->toggleViewAction());
}

void MainWindow::openPath(const QString& path)
{
    pendingPath_ = path;
    statusBar()->showMessage(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    if (!QApplication::overrideCursor())
        QApplication::setOverrideCursor(Qt::BusyCursor);
    loadWatcher_.setFuture(loadInputAsync(path));
}

bool MainWindow::isLoading() const
{
    return !pendingPath_.isEmpty();
}

QString MainWindow::errorText() const
{
    return banner_->isVisible() ? bannerText_->text() : QString();
}

void MainWindow::showError(const QString& message)
{
    bannerText_->setText(message);
    banner_->show();
    statusBar()->showMessage(tr("Could not open the file; what was open stays open."), 8000);
    Q_EMIT inputFailed(message);
}

void MainWindow::showLoaded(const LoadedInput& input)
{
    if (!input.error.isEmpty()) {
        showError(input.error);
        return;
    }
    banner_->hide();
    if (!input.warning.isEmpty()) {
        bannerText_->setText(input.warning);
        banner_->show();
    }
    addRecent(input.path);
    setWindowTitle(tr("%1 — BlockLens").arg(QFileInfo(input.path).fileName()));
    auto* datasetDock = findChild<QDockWidget*>(QStringLiteral("datasetDock"));
    if (input.dataset) {
        dataset_ = input.dataset;
        datasetList_->clear();
        for (const auto& d : dataset_->documents) {
            const auto& m = d.meta();
            QString label = QString::fromStdString(m.id);
            if (!m.category.empty())
                label += QStringLiteral("  ·  %1/%2").arg(QString::fromStdString(m.category), QString::fromStdString(m.variant));
            datasetList_->addItem(label);
        }
        datasetDock->show();
        datasetList_->setCurrentRow(0);
        statusBar()->showMessage(tr("%1 documents").arg(dataset_->documents.size()));
    } else {
        dataset_.reset();
        datasetList_->clear();
        datasetDock->hide();
        document_ = input.document;
        view_->showDocument(*document_, document_->reference());
        stats_->showDocument(*document_, document_->reference().size() + 1);
        statusBar()->showMessage(tr("%1 characters").arg(document_->length()));
    }
    Q_EMIT inputShown(input.path);
}

void MainWindow::showDatasetDocument(int row)
{
    if (!dataset_ || row < 0 || row >= static_cast<int>(dataset_->documents.size()))
        return;
    const Document& doc = dataset_->documents[static_cast<std::size_t>(row)];
    view_->showDocument(doc, doc.reference());
    stats_->showDocument(doc, doc.reference().size() + 1);
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
    event->accept();
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
