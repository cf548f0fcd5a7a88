#pragma once
// Presentation mode (F11): the window full screen without its menu bar, with larger type
// (including the views that set their own font: the document, the continuations) and a guided sequence for
// demos — the document, then its blocks, then the attention heatmap (the analysis dock named
// "heatmapDock", skipped when the app has none), then the TTFT race of full vs block attention,
// then the repair chart (the dock "repairDock" and its action "repairChart", which sweeps), then
// the recovery by block distillation (issue 19: the side by side with the block-distilled model's
// block attention beside, by the action "compareDistilled"; without such a model the step says so
// in its caption and runs nothing).
// Space or Right advances, Left goes back, Esc leaves and restores the window as it was.
#include <QByteArray>
#include <QFont>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <functional>

class QDockWidget;
class QLabel;
class QMainWindow;
class QWidget;

namespace blocklens::ui {

class AnnotationSession;
class DocumentView;

class PresentationMode : public QObject {
    Q_OBJECT
public:
    // Steps through `window`'s docks (by object name) and shows `session`'s blocks in `view`.
    PresentationMode(QMainWindow* window, AnnotationSession* session, DocumentView* view);

    bool isActive() const { return active_; }
    int step() const { return step_; }
    QStringList steps() const; // names of this run's steps ("document", "blocks", "heatmap", "race", "repairs", "distilled")
    QString caption() const;   // the text over the current step

    void enter();
    void exit();
    void toggle() { active_ ? exit() : enter(); }
    void next();
    void previous();

    static constexpr double kFontScale = 1.45;

    // The block-distilled model for the last step (issue 19): its directory, or empty and why not.
    // Without a finder there is no such step.
    using DistilledModelFinder = std::function<QString(QString* why)>;
    void setDistilledModelFinder(DistilledModelFinder finder) { distilledFinder_ = std::move(finder); }

Q_SIGNALS:
    void stepShown(int index, const QString& name);
    void exited();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    struct Step {
        QString name, title, hint;
    };
    void show(int index);
    QString showDistilled(); // the last step's side by side; returns its caption (why it is skipped)
    QDockWidget* dock(const char* objectName) const;

    QMainWindow* window_;
    AnnotationSession* session_;
    DocumentView* view_;
    QList<Step> steps_;
    bool active_ = false;
    int step_ = -1;
    QByteArray savedState_;
    Qt::WindowStates savedWindowState_;
    QFont savedFont_;
    // Widgets that set their own font (the document view, the continuations, big numbers) do not
    // follow the application font: each is scaled and restored apart.
    QList<QPair<QPointer<QWidget>, QFont>> savedWidgetFonts_;
    QLabel* captionLabel_ = nullptr;
    DistilledModelFinder distilledFinder_;
};

} // namespace blocklens::ui
