#include "editing_actions.hpp"

#include "document_pane.hpp"
#include "feature_host.hpp"
#include "workbench.hpp"

#include <QAction>
#include <QMainWindow>
#include <QMenu>
#include <QTextBlock>
#include <QUndoStack>

#include <algorithm>
#include <optional>

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

EditingActions::EditingActions(FeatureHost& host, Workbench& workbench) : QObject(host.window()), host_(host), workbench_(workbench)
{
    AnnotationSession* session = workbench_.session();
    QMenu* edit = host_.menu(FeatureHost::Menu::Edit);
    auto add = [this](const char* name, const QString& text, QList<QKeySequence> keys, auto&& slot) {
        QAction* a = addMenuAction(host_, FeatureHost::Menu::Edit, name, text, keys);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    QAction* undo = session->undoStack()->createUndoAction(host_.window(), tr("&Undo"));
    undo->setObjectName(QStringLiteral("undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = session->undoStack()->createRedoAction(host_.window(), tr("&Redo"));
    redo->setObjectName(QStringLiteral("redo"));
    redo->setShortcuts({QKeySequence::Redo, QKeySequence(tr("Ctrl+Y"))});
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();

    add("split", tr("&Split Block at Caret"), {QKeySequence(Qt::Key_S)}, [this, session] {
        const Document* doc = session->document();
        if (!doc)
            return;
        const std::size_t at = snapToWordStart(*doc, workbench_.caretCodePoint());
        if (session->split(at, 1))
            host_.showStatus(tr("Split at %1").arg(at), 2000);
    });
    add("mergeNext", tr("&Merge with Next Block"), {QKeySequence(Qt::Key_M)}, [this, session] {
        const auto& bs = session->boundaries();
        const std::size_t caret = workbench_.caretCodePoint();
        const auto it = std::upper_bound(bs.begin(), bs.end(), caret, [](std::size_t c, const Boundary& b) { return c < b.offset; });
        if (it == bs.end())
            host_.showStatus(tr("This is the last block: nothing to merge with"), 3000);
        else
            session->removeBoundary(it->offset);
    });
    add("mergePrevious", tr("Merge with &Previous Block"), {QKeySequence(Qt::Key_Backspace)}, [this, session] {
        const auto& bs = session->boundaries();
        const std::size_t caret = workbench_.caretCodePoint();
        const auto it = std::upper_bound(bs.begin(), bs.end(), caret, [](std::size_t c, const Boundary& b) { return c < b.offset; });
        if (it == bs.begin())
            host_.showStatus(tr("This is the first block: nothing to merge with"), 3000);
        else
            session->removeBoundary(std::prev(it)->offset);
    });
    add("deleteBoundary", tr("&Delete Nearest Boundary"), {QKeySequence(Qt::Key_Delete), QKeySequence(Qt::Key_X)}, [this, session] {
        const int i = boundaryNearCaret();
        if (i >= 0)
            session->removeBoundary(session->boundaries()[static_cast<std::size_t>(i)].offset);
    });
    add("moveBoundaryDown", tr("Move Boundary to Next Line"), {QKeySequence(tr("Alt+Down"))}, [this] { nudgeBoundary(+1); });
    add("moveBoundaryUp", tr("Move Boundary to Previous Line"), {QKeySequence(tr("Alt+Up"))}, [this] { nudgeBoundary(-1); });
    for (int level = 1; level <= 3; ++level) {
        const QByteArray name = "level" + QByteArray::number(level);
        add(name.constData(), tr("Set Boundary Level &%1").arg(level), {QKeySequence(Qt::Key_0 + level)}, [this, session, level] {
            const int i = boundaryNearCaret();
            if (i >= 0)
                session->setLevel(session->boundaries()[static_cast<std::size_t>(i)].offset, level);
        });
    }
    edit->addSeparator();
    add("nextBoundary", tr("&Next Boundary"), {QKeySequence(Qt::Key_J), QKeySequence(tr("Ctrl+Down"))}, [this] { jumpToBoundary(+1); });
    add("previousBoundary", tr("P&revious Boundary"), {QKeySequence(Qt::Key_K), QKeySequence(tr("Ctrl+Up"))}, [this] { jumpToBoundary(-1); });
    add("markReviewed", tr("Mark Reviewed, Go to Next &Unreviewed"), {QKeySequence(tr("Ctrl+Return"))},
        [this] { workbench_.markReviewedAndNext(); });
    add("nextUnreviewed", tr("Next Unreviewed Document"), {QKeySequence(tr("Ctrl+Shift+Return"))}, [this] { workbench_.showNextUnreviewed(); });

    DocumentView* view = workbench_.pane()->view();
    connect(view, &DocumentView::gutterClicked, this, [session](std::size_t lineStart) { session->split(lineStart, 1); });
    connect(view, &DocumentView::boundaryDragged, this, [session](std::size_t from, std::size_t to) { session->moveBoundary(from, to); });
    connect(view, &QPlainTextEdit::cursorPositionChanged, this, [this, view] { view->setCurrentBoundary(boundaryNearCaret()); });
    connect(&workbench_, &Workbench::viewsRefreshed, this, [this, view] { view->setCurrentBoundary(boundaryNearCaret()); });
    view->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
}

int EditingActions::boundaryNearCaret() const
{
    const auto& bs = workbench_.session()->boundaries();
    if (bs.empty())
        return -1;
    const std::size_t caret = workbench_.caretCodePoint();
    const auto it = std::lower_bound(bs.begin(), bs.end(), caret, [](const Boundary& b, std::size_t c) { return b.offset < c; });
    std::size_t best = it == bs.end() ? bs.size() - 1 : static_cast<std::size_t>(it - bs.begin());
    if (best > 0) {
        const auto distance = [&](std::size_t i) { return bs[i].offset > caret ? bs[i].offset - caret : caret - bs[i].offset; };
        if (distance(best - 1) <= distance(best))
            --best;
    }
    return static_cast<int>(best);
}

void EditingActions::jumpToBoundary(int direction)
{
    const auto& bs = workbench_.session()->boundaries();
    const std::size_t caret = workbench_.caretCodePoint();
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
        host_.showStatus(direction > 0 ? tr("No boundary after the caret") : tr("No boundary before the caret"), 2000);
        return;
    }
    workbench_.pane()->scrollToCodePoint(*target);
}

void EditingActions::nudgeBoundary(int direction)
{
    const int i = boundaryNearCaret();
    if (i < 0)
        return;
    AnnotationSession* session = workbench_.session();
    const std::size_t from = session->boundaries()[static_cast<std::size_t>(i)].offset;
    DocumentView* view = workbench_.pane()->view();
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
    if (to == 0 || !session->moveBoundary(from, to))
        return;
    workbench_.pane()->scrollToCodePoint(to);
}

} // namespace blocklens::ui
