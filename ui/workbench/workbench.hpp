#pragma once
// The workbench feature: what is open and on screen. It opens documents and datasets (File menu,
// recent files, drops and the command line go through openPath), shows a dataset's rows, keeps
// the annotation session of the document on screen, and exports the corrected dataset or the
// view. Its tool views: the document's facts (statsDock) and the dataset table (datasetDock).
// The other features follow it: documentShown() starts their work on a new document, and
// viewsRefreshed() follows every change of the boundaries on screen.
#include "annotation/annotation_session.hpp"
#include "document_loader.hpp"

#include <QFutureWatcher>
#include <QObject>

#include <memory>
#include <vector>

class QDockWidget;
class QMenu;

namespace blocklens::ui {

class DatasetBrowser;
class DocumentPane;
class FeatureHost;
class StatsPanel;

class Workbench : public QObject {
    Q_OBJECT
public:
    explicit Workbench(FeatureHost& host);

    // Opens a document or dataset in the background (latest request wins); with
    // replaceInvalidUtf8, invalid UTF-8 is replaced with U+FFFD instead of refused.
    void openPath(const QString& path, bool replaceInvalidUtf8 = false);
    bool isLoading() const { return !pendingPath_.isEmpty(); }

    AnnotationSession* session() const { return session_; }
    std::shared_ptr<const Document> document() const { return session_->sharedDocument(); }
    DocumentPane* pane() const { return pane_; }
    StatsPanel* statsPanel() const { return stats_; }
    DatasetBrowser* datasetBrowser() const { return browser_; }
    std::size_t caretCodePoint() const; // in the document on screen

    // A dataset is open (its row `currentRow()` on screen), else a single document or nothing.
    bool hasDataset() const { return current_.dataset != nullptr; }
    const std::shared_ptr<const Dataset>& dataset() const { return current_.dataset; }
    const QString& inputPath() const { return current_.path; }
    int currentRow() const { return currentRow_; }
    // Every row's boundaries as corrected so far, the row on screen included.
    std::vector<std::vector<Boundary>> datasetBoundaries();
    // A single document nobody has edited yet: it takes a segmenter's output as its own
    // boundaries (a dataset row has its reference; an edited document keeps its edits).
    bool adoptsSegmenterOutput() const;
    void adopt(std::vector<Boundary> boundaries, const AnnotationSession::Origin& origin);
    // Marks the row on screen reviewed (saved in the workspace) and shows the next unreviewed one.
    void markReviewedAndNext();
    void showNextUnreviewed();

    // The boundaries on screen drawn again after an edit (and viewsRefreshed() emitted).
    void refresh();

    // The export actions without their file dialogs (tests, scripts). Empty string on success,
    // otherwise a message naming the file and the problem.
    QString exportViewTo(const QString& path);
    QString exportDatasetTo(const QString& path);

Q_SIGNALS:
    void inputShown(const QString& path); // a document or dataset is on screen
    void inputFailed(const QString& message);
    void documentShown();  // a new document (or dataset row) is on screen
    void viewsRefreshed(); // the boundaries on screen changed

private:
    void buildFileMenu();
    void buildToolViews();
    void showLoaded(const LoadedInput& input);
    void showDatasetRow(int row);
    void showNextAssignedRow(const QString& path, qint64 datasetId); // assignment's next for this annotator
    void keepCurrentRowEdits();
    void exportView();
    void exportDataset();
    void addRecent(const QString& path);
    void rebuildRecentMenu();

    FeatureHost& host_;
    AnnotationSession* session_;
    DocumentPane* pane_;
    StatsPanel* stats_;
    DatasetBrowser* browser_;
    QDockWidget* datasetDock_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QFutureWatcher<LoadedInput> loadWatcher_;
    QString pendingPath_;
    LoadedInput current_; // what is open
    int currentRow_ = -1;
};

} // namespace blocklens::ui
