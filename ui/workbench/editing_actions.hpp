#pragma once
// The workbench's editing: keyboard-first boundary correction (Edit menu: split, merge, move,
// levels, jumps, review) and the mouse in the document (gutter clicks, dragged boundaries), all
// as edits of the Workbench's annotation session.
#include <QObject>

namespace blocklens::ui {

class FeatureHost;
class Workbench;

class EditingActions : public QObject {
    Q_OBJECT
public:
    EditingActions(FeatureHost& host, Workbench& workbench);

    // Index into the session's boundaries of the one nearest the caret, -1 if none.
    int boundaryNearCaret() const;

private:
    void jumpToBoundary(int direction);
    void nudgeBoundary(int direction);

    FeatureHost& host_;
    Workbench& workbench_;
};

} // namespace blocklens::ui
