// The annotation actions of the main window: keyboard-first boundary correction.
#include "main_window.hpp"

#include "annotation/annotation_session.hpp"
#include "annotation/store_writer.hpp"
#include "dataset_browser.hpp"
#include "document_pane.hpp"
#include "metrics_panel.hpp"
#include "stats_panel.hpp"

#include <QAction>
#include <QMenuBar>
#include <QStatusBar>
#include <QTextBlock>
#include <QUndoStack>

#include <algorithm>

namespace blocklens::ui {
namespace {

bool isWordChar(char32_t c)
{
    return !(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x3000);
}

// Cutting inside a word would cut a token: move the cut back to the word's start.
std::size_t snapToWordStart(const Document& doc, std::size_t cp)
{
    const std::size_t lo = cp > 64 ? cp - 64 : 0;
    const std::u32string around = utf8::toUtf32(doc.slice(lo, std::min(doc.length(), cp + 1)));
    std::size_t i = cp - lo;
    if (i >= around.size() || i == 0 || !isWordChar(around[i]))
        return cp;
    while (i > 0 && isWordChar(around[i - 1]))
        --i;
    return lo + i;
}

} // namespace

void MainWindow::buildEditActions()
{
    editMenu_ = menuBar()->addMenu(tr("&Edit"));
    auto add = [this](const char* name, const QString& text, QList<QKeySequence> keys, auto&& slot) {
        QAction* a = editMenu_->addAction(text);
        a->setObjectName(QLatin1String(name));
        a->setShortcuts(keys);
        a->setShortcutContext(Qt::WindowShortcut);
        connect(a, &QAction::triggered, this, slot);
        addAction(a);
        return a;
    };
    QAction* undo = session_->undoStack()->createUndoAction(this, tr("&Undo"));
    undo->setObjectName(QStringLiteral("undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = session_->undoStack()->createRedoAction(this, tr("&Redo"));
    redo->setObjectName(QStringLiteral("redo"));
    redo->setShortcuts({QKeySequence::Redo, QKeySequence(tr("Ctrl+Y"))});
    editMenu_->addAction(undo);
    editMenu_->addAction(redo);
    editMenu_->addSeparator();

    add("split", tr("&Split Block at Caret"), {QKeySequence(Qt::Key_S)}, [this] {
        const Document* doc = session_->document();
        if (!doc)
            return;
        const std::size_t at = snapToWordStart(*doc, caretCodePoint());
        if (session_->split(at, 1))
            statusBar()->showMessage(tr("Split at %1").arg(at), 2000);
    });
    add("mergeNext", tr("&Merge with Next Block"), {QKeySequence(Qt::Key_M)}, [this] {
        const auto& bs = session_->boundaries();
        const std::size_t caret = caretCodePoint();
        const auto it = std::upper_bound(bs.begin(), bs.end(), caret, [](std::size_t c, const Boundary& b) { return c < b.offset; });
        if (it == bs.end())
            statusBar()->showMessage(tr("This is the last block: nothing to merge with"), 3000);
        else
            session_->removeBoundary(it->offset);
    });
    add("mergePrevious", tr("Merge with &Previous Block"), {QKeySequence(Qt::Key_Backspace)}, [this] {
        const auto& bs = session_->boundaries();
        const std::size_t caret = caretCodePoint();
        const auto it = std::upper_bound(bs.begin(), bs.end(), caret, [](std::size_t c, const Boundary& b) { return c < b.offset; });
        if (it == bs.begin())
            statusBar()->showMessage(tr("This is the first block: nothing to merge with"), 3000);
        else
            session_->removeBoundary(std::prev(it)->offset);
    });
    add("deleteBoundary", tr("&Delete Nearest Boundary"), {QKeySequence(Qt::Key_Delete), QKeySequence(Qt::Key_X)}, [this] {
        const int i = boundaryNearCaret();
        if (i >= 0)
            session_->removeBoundary(session_->boundaries()[static_cast<std::size_t>(i)].offset);
    });
    add("moveBoundaryDown", tr("Move Boundary to Next Line"), {QKeySequence(tr("Alt+Down"))}, [this] { nudgeBoundary(+1); });
    add("moveBoundaryUp", tr("Move Boundary to Previous Line"), {QKeySequence(tr("Alt+Up"))}, [this] { nudgeBoundary(-1); });
    for (int level = 1; level <= 3; ++level) {
        const QByteArray name = "level" + QByteArray::number(level);
        add(name.constData(), tr("Set Boundary Level &%1").arg(level), {QKeySequence(Qt::Key_0 + level)}, [this, level] {
            const int i = boundaryNearCaret();
            if (i >= 0)
                session_->setLevel(session_->boundaries()[static_cast<std::size_t>(i)].offset, level);
        });
    }
    editMenu_->addSeparator();
    add("nextBoundary", tr("&Next Boundary"), {QKeySequence(Qt::Key_J), QKeySequence(tr("Ctrl+Down"))}, [this] { jumpToBoundary(+1); });
    add("previousBoundary", tr("P&revious Boundary"), {QKeySequence(Qt::Key_K), QKeySequence(tr("Ctrl+Up"))}, [this] { jumpToBoundary(-1); });
    add("markReviewed", tr("Mark Reviewed, Go to Next &Unreviewed"), {QKeySequence(tr("Ctrl+Return"))}, [this] { markReviewedAndNext(); });
    add("nextUnreviewed", tr("Next Unreviewed Document"), {QKeySequence(tr("Ctrl+Shift+Return"))}, [this] {
        const int next = browser_->nextUnreviewedRow();
        if (next >= 0)
            browser_->selectRow(next);
        else
            statusBar()->showMessage(tr("Every document is reviewed"), 4000);
    });

    viewMenu_ = menuBar()->addMenu(tr("&View"));

    connect(pane_->view(), &DocumentView::gutterClicked, this, [this](std::size_t lineStart) { session_->split(lineStart, 1); });
    connect(pane_->view(), &DocumentView::boundaryDragged, this,
            [this](std::size_t from, std::size_t to) { session_->moveBoundary(from, to); });
    connect(pane_->view(), &QPlainTextEdit::cursorPositionChanged, this,
            [this] { pane_->view()->setCurrentBoundary(boundaryNearCaret()); });
    pane_->view()->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
}

std::size_t MainWindow::caretCodePoint() const
{
    return pane_->view()->toCodePoint(pane_->view()->textCursor().position());
}

int MainWindow::boundaryNearCaret() const
{
    const auto& bs = session_->boundaries();
    if (bs.empty())
        return -1;
    const std::size_t caret = caretCodePoint();
    const auto it = std::lower_bound(bs.begin(), bs.end(), caret, [](const Boundary& b, std::size_t c) { return b.offset < c; });
    std::size_t best = it == bs.end() ? bs.size() - 1 : static_cast<std::size_t>(it - bs.begin());
    if (best > 0) {
        const auto distance = [&](std::size_t i) { return bs[i].offset > caret ? bs[i].offset - caret : caret - bs[i].offset; };
        if (distance(best - 1) <= distance(best))
            --best;
    }
    return static_cast<int>(best);
}

void MainWindow::jumpToBoundary(int direction)
{
    const auto& bs = session_->boundaries();
    const std::size_t caret = caretCodePoint();
    std::optional<std::size_t> target;
    if (direction > 0) {
        const auto it = std::upper_bound(bs.begin(), bs.end(), caret, [](std::size_t c, const Boundary& b) { return c < b.offset; });
        if (it != bs.end())
            target = it->offset;
    } else {
        const auto it = std::lower_bound(bs.begin(), bs.end(), caret, [](const Boundary& b, std::size_t c) { return b.offset < c; });
        if (it != bs.begin())
            target = std::prev(it)->offset;
    }
    if (!target) {
        statusBar()->showMessage(direction > 0 ? tr("No boundary after the caret") : tr("No boundary before the caret"), 2000);
        return;
    }
    pane_->scrollToCodePoint(*target);
}

void MainWindow::nudgeBoundary(int direction)
{
    const int i = boundaryNearCaret();
    if (i < 0)
        return;
    const std::size_t from = session_->boundaries()[static_cast<std::size_t>(i)].offset;
    DocumentView* view = pane_->view();
    QTextCursor c(view->document());
    c.setPosition(view->toUtf16(from));
    QTextBlock block = c.block();
    // The start of the neighbouring line: line starts are the candidates annotators use most.
    if (c.positionInBlock() != 0 && direction < 0) {
        // from is inside a line: "previous" is this line's own start
    } else {
        block = direction > 0 ? block.next() : block.previous();
    }
    if (!block.isValid())
        return;
    const std::size_t to = view->toCodePoint(block.position());
    if (to == 0 || !session_->moveBoundary(from, to))
        return;
    pane_->scrollToCodePoint(to);
}

void MainWindow::markReviewedAndNext()
{
    if (!current_.dataset || currentRow_ < 0) {
        statusBar()->showMessage(tr("Reviewing works on datasets: open a .jsonl file"), 4000);
        return;
    }
    browser_->model()->setReviewed(currentRow_, true);
    if (currentRow_ < static_cast<int>(current_.reviewed.size()))
        current_.reviewed[static_cast<std::size_t>(currentRow_)] = true;
    if (writer_)
        writer_->setReviewed(current_.datasetId, currentRow_, true, session_->author());
    const int next = browser_->nextUnreviewedRow();
    if (next >= 0)
        browser_->selectRow(next);
    else
        statusBar()->showMessage(tr("Every document is reviewed"), 4000);
}

void MainWindow::refreshAfterEdit()
{
    const Document* doc = session_->document();
    if (!doc)
        return;
    pane_->setBoundaries(session_->boundaries());
    pane_->view()->setCurrentBoundary(boundaryNearCaret());
    stats_->setBlockCount(session_->boundaries().size() + 1);
    metrics_->update(session_->boundaries());
    updateSuggestions();
    if (current_.dataset && currentRow_ >= 0)
        browser_->model()->setBlockCount(currentRow_, static_cast<int>(session_->boundaries().size() + 1));
}

} // namespace blocklens::ui
