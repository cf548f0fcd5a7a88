#include "inference/presentation_mode.hpp"

#include "annotation/annotation_session.hpp"
#include "document_view.hpp"
#include "inference/compare_view.hpp"
#include "inference/ttft_race.hpp"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QKeyEvent>
#include <QLabel>
#include <QMainWindow>
#include <QMenuBar>
#include <QStatusBar>

namespace blocklens::ui {

PresentationMode::PresentationMode(QMainWindow* window, AnnotationSession* session, DocumentView* view)
    : QObject(window), window_(window), session_(session), view_(view)
{
}

QDockWidget* PresentationMode::dock(const char* objectName) const
{
    return window_->findChild<QDockWidget*>(QLatin1String(objectName));
}

QStringList PresentationMode::steps() const
{
    QStringList names;
    for (const Step& s : steps_)
        names << s.name;
    return names;
}

QString PresentationMode::caption() const
{
    return captionLabel_ ? captionLabel_->text() : QString();
}

void PresentationMode::enter()
{
    if (active_)
        return;
    active_ = true;
    steps_.clear();
    steps_.append({QStringLiteral("document"), tr("A long input"),
                   tr("Full attention reads it as one sequence: every token attends to every token before it.")});
    steps_.append({QStringLiteral("blocks"), tr("Cut into blocks"),
                   tr("Block attention encodes each block on its own, so its keys and values can be cached and reused.")});
    // The heatmap belongs to the analysis views; a build without them skips the step.
    if (dock("heatmapDock"))
        steps_.append({QStringLiteral("heatmap"), tr("Where attention goes"),
                       tr("Block × block attention mass under full attention: what each cut takes away.")});
    steps_.append({QStringLiteral("race"), tr("Time to first token"),
                   tr("Full attention against block attention with the blocks cached: same input, same model.")});
    // The repair chart (issue 18), where the app has one.
    if (dock("repairDock"))
        steps_.append({QStringLiteral("repairs"), tr("Repairing block attention"),
                       tr("How close each repair gets to full attention (mean KL) for the extra work it costs.")});
    // The cure (issue 19): the same comparison with the block-distilled model beside.
    if (distilledFinder_ && dock("compareDock"))
        steps_.append({QStringLiteral("distilled"), tr("Training for block attention"),
                       tr("Full attention | block attention | the block-distilled model's block attention: both block columns "
                          "measured against the same full attention.")});

    savedState_ = window_->saveState();
    savedWindowState_ = window_->windowState();
    savedFont_ = QApplication::font();
    QFont big = savedFont_;
    big.setPointSizeF(big.pointSizeF() * kFontScale);
    savedWidgetFonts_.clear();
    for (QWidget* w : window_->findChildren<QWidget*>())
        if (w->testAttribute(Qt::WA_SetFont))
            savedWidgetFonts_.append({w, w->font()});
    QApplication::setFont(big);
    for (const auto& [w, font] : savedWidgetFonts_) {
        QFont scaled = font;
        scaled.setPointSizeF(font.pointSizeF() * kFontScale);
        w->setFont(scaled);
    }
    window_->menuBar()->hide(); // the audience sees the content; F11 or Esc leaves
    window_->showFullScreen();

    captionLabel_ = new QLabel(window_);
    captionLabel_->setObjectName(QStringLiteral("presentationCaption"));
    captionLabel_->setAutoFillBackground(true);
    // One thin line: the steps' views need the height more (issue 15: a 140-pixel caption at
    // 1366x768; a word-wrapped label in the status bar asks for several lines' height). It fits
    // 1366 px at presentation size; a narrower window cuts its end, the keys (also the tooltip).
    captionLabel_->setWordWrap(false);
    captionLabel_->setContentsMargins(10, 2, 10, 2);
    captionLabel_->setMinimumWidth(1); // never widens the window
    captionLabel_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
    captionLabel_->setToolTip(tr("Space or Right: next step · Left: back · Esc or F11: leave presentation mode"));
    QPalette p = captionLabel_->palette();
    p.setColor(QPalette::Window, window_->palette().color(QPalette::Highlight));
    p.setColor(QPalette::WindowText, window_->palette().color(QPalette::HighlightedText));
    captionLabel_->setPalette(p);
    window_->statusBar()->addPermanentWidget(captionLabel_, 1);
    window_->statusBar()->show();
    qApp->installEventFilter(this);
    show(0);
}

void PresentationMode::exit()
{
    if (!active_)
        return;
    active_ = false;
    qApp->removeEventFilter(this);
    if (captionLabel_) {
        window_->statusBar()->removeWidget(captionLabel_);
        captionLabel_->deleteLater();
        captionLabel_ = nullptr;
    }
    // The document view shows the real boundaries again.
    if (session_->document())
        view_->setBoundaries(session_->boundaries());
    QApplication::setFont(savedFont_);
    for (const auto& [w, font] : savedWidgetFonts_)
        if (w)
            w->setFont(font);
    savedWidgetFonts_.clear();
    window_->menuBar()->show();
    window_->setWindowState(savedWindowState_);
    window_->restoreState(savedState_);
    step_ = -1;
    Q_EMIT exited();
}

void PresentationMode::next()
{
    if (active_ && step_ + 1 < steps_.size())
        show(step_ + 1);
}

void PresentationMode::previous()
{
    if (active_ && step_ > 0)
        show(step_ - 1);
}

void PresentationMode::show(int index)
{
    step_ = index;
    const Step& s = steps_[index];
    for (QDockWidget* d : window_->findChildren<QDockWidget*>())
        d->hide();
    const bool hasDocument = session_->document() != nullptr;
    if (s.name == QLatin1String("document")) {
        if (hasDocument)
            view_->setBoundaries({}); // one sequence: no bands yet
    } else if (hasDocument) {
        view_->setBoundaries(session_->boundaries());
    }
    if (s.name == QLatin1String("heatmap")) {
        if (QDockWidget* d = dock("heatmapDock")) {
            d->show();
            d->raise();
        }
    } else if (s.name == QLatin1String("race")) {
        if (QDockWidget* d = dock("compareDock")) {
            d->show();
            d->raise();
            window_->resizeDocks({d}, {window_->height() * 2 / 3}, Qt::Vertical);
        }
        if (QAction* race = window_->findChild<QAction*>(QStringLiteral("raceTtft")))
            race->trigger();
    } else if (s.name == QLatin1String("repairs")) {
        if (QDockWidget* d = dock("repairDock"))
            window_->resizeDocks({d}, {window_->height() * 2 / 3}, Qt::Vertical);
        // Shows the chart's tab and sweeps the document on screen.
        if (QAction* repairs = window_->findChild<QAction*>(QStringLiteral("repairChart")))
            repairs->trigger();
    }
    QString hint = s.hint;
    if (s.name == QLatin1String("distilled"))
        hint = showDistilled();
    captionLabel_->setText(tr("<b>%1/%2 · %3</b> — %4 <small>(Space ▸ · Left ◂ · Esc)</small>")
                               .arg(index + 1)
                               .arg(steps_.size())
                               .arg(s.title, hint));
    Q_EMIT stepShown(index, s.name);
}

QString PresentationMode::showDistilled()
{
    QString why;
    if (distilledFinder_(&why).isEmpty())
        return tr("Skipped: %1").arg(why.toHtmlEscaped()); // nothing to show: the document stays on screen
    if (QDockWidget* d = dock("compareDock")) {
        d->show();
        d->raise();
        window_->resizeDocks({d}, {window_->height() * 2 / 3}, Qt::Vertical);
    }
    if (QAction* distilled = window_->findChild<QAction*>(QStringLiteral("compareDistilled")))
        distilled->trigger();
    return steps_[step_].hint;
}

bool PresentationMode::eventFilter(QObject* watched, QEvent* event)
{
    if (active_ && event->type() == QEvent::KeyPress) {
        // Typing in a text field (the query) keeps its keys.
        const bool editing = qobject_cast<QWidget*>(watched) && watched->inherits("QLineEdit");
        switch (static_cast<QKeyEvent*>(event)->key()) {
        case Qt::Key_Space:
        case Qt::Key_Right:
        case Qt::Key_PageDown:
            if (editing)
                return false;
            next();
            return true;
        case Qt::Key_Left:
        case Qt::Key_PageUp:
            if (editing)
                return false;
            previous();
            return true;
        case Qt::Key_Escape:
        case Qt::Key_F11: // the menu bar (and its F11 action) is hidden while presenting
            exit();
            return true;
        default:
            break;
        }
    }
    return QObject::eventFilter(watched, event);
}

} // namespace blocklens::ui
