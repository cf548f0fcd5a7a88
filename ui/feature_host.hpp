#pragma once
// What a feature of the main window may ask of the window, and nothing more (after KDE Kate's
// KTextEditor::MainWindow, which its plugin views get: the window delegates, features own their
// tool views). A feature (ui/workbench, ui/segmentation, ui/inference, ui/analysis,
// ui/experiments, ui/retrain) adds its docks, menu entries and actions here, speaks to the user
// through the status bar and the banner, and keeps its own state; the window keeps none.
//
// Rules: actions are created as children of the window (a menu's addAction does this), so that
// MainWindow::action(name) and scripts find them by object name; a tool view's object name is
// stable (tests, presentation mode and saved window states use it).
#include <QList>
#include <QKeySequence>
#include <QString>

#include <functional>

class QAction;
class QDockWidget;
class QMainWindow;
class QMenu;
class QObject;
class QWidget;

namespace blocklens::ui {

class DocumentPane;
class WorkspaceGateway;

// How a tool view (dock) is placed when added.
struct ToolViewOptions {
    bool scrolled = true;      // the content in a scroll area (dock_scroll.hpp), so no panel can grow the window
    bool hidden = false;       // shown later from the View menu or an action
    QString tabWith;           // object name of a dock already added: become a tab beside it
    bool roomWhenShown = false; // a bottom dock that takes about half the height when shown
};

class FeatureHost {
public:
    enum class Menu { File, Edit, View, Segment, Help };

    // For scripts (--action, --screenshot): calls `done` once, when the background work that the
    // action started has finished or failed. `context` ends the wait when it is destroyed.
    using Completion = std::function<void(QObject* context, std::function<void()> done)>;

    virtual ~FeatureHost() = default;

    // The window: the parent for dialogs, actions and objects that live as long as it.
    virtual QMainWindow* window() = 0;
    // A menu of the menu bar (Segment is created before Help on first use).
    virtual QMenu* menu(Menu which) = 0;
    // A dock named `objectName` around `content`, added to `area` of the window; its View-menu
    // toggle is the feature's to add.
    virtual QDockWidget* addToolView(const QString& objectName, const QString& title, QWidget* content,
                                     Qt::DockWidgetArea area, const ToolViewOptions& options = {}) = 0;
    // The document on screen (the window's central view, under the banner).
    virtual DocumentPane* documentPane() = 0;
    // The workspace: the only way a feature reads or writes it from the UI thread.
    virtual WorkspaceGateway* workspace() = 0;

    virtual void showStatus(const QString& message, int timeoutMs = 0) = 0;
    // The banner above the document; with actionText, a button in it that runs `action` once.
    virtual void showBanner(const QString& message, bool isError, const QString& actionText = {},
                            std::function<void()> action = {}) = 0;
    virtual void hideBanner() = 0;
    // Declares what finishing `actionName` means, for scripts (see Completion).
    virtual void setCompletion(const QString& actionName, Completion completion) = 0;
};

// A menu entry named `name` (its object name) with these shortcuts. With alsoOnWindow, the action
// is added to the window too, so that its shortcut works while the menu bar is hidden
// (presentation mode); without, it works only through the menu bar.
QAction* addMenuAction(FeatureHost& host, FeatureHost::Menu menu, const char* name, const QString& text,
                       const QList<QKeySequence>& keys = {}, bool alsoOnWindow = true);

} // namespace blocklens::ui
