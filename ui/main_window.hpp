#pragma once
// The main window: opens documents and datasets (menu, drag and drop, recent files, command
// line), shows the document with its blocks, and keeps its layout between runs.
#include "document_loader.hpp"

#include <QFutureWatcher>
#include <QMainWindow>

class QLabel;
class QListWidget;
class QMenu;
class QToolButton;

namespace blocklens::ui {

class DocumentView;
class StatsPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void openPath(const QString& path);
    DocumentView* documentView() const { return view_; }
    StatsPanel* statsPanel() const { return stats_; }
    QListWidget* datasetList() const { return datasetList_; }
    QString errorText() const; // the message in the error banner ("" when hidden)
    bool isLoading() const;

Q_SIGNALS:
    void inputShown(const QString& path); // a document or dataset is on screen
    void inputFailed(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildActions();
    void buildDocks();
    void showLoaded(const LoadedInput& input);
    void showDatasetDocument(int row);
    void showError(const QString& message);
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void restoreSettings();

    DocumentView* view_;
    StatsPanel* stats_;
    QListWidget* datasetList_;
    QWidget* banner_;
    QLabel* bannerText_;
    QMenu* recentMenu_ = nullptr;
    QMenu* viewMenu_ = nullptr;
    QFutureWatcher<LoadedInput> loadWatcher_;
    QString pendingPath_;
    std::shared_ptr<const Document> document_;
    std::shared_ptr<const Dataset> dataset_;
};

} // namespace blocklens::ui
