#pragma once
// Dock contents go in a scroll area, so that no panel's minimum size can grow the window past the
// screen (issue 15: the window must fit 1366x768): a dock smaller than its panel scrolls instead.
// It also keeps a panel whose content changes height (a progress bar, wrapped status text) from
// changing the dock's size hint, so neighbouring docks are not re-laid out on every change.
#include <QFrame>
#include <QScrollArea>

namespace blocklens::ui {

inline QScrollArea* scrolledForDock(QWidget* panel)
{
    auto* area = new QScrollArea;
    area->setObjectName(panel->objectName().isEmpty() ? QString() : panel->objectName() + QStringLiteral("Scroll"));
    area->setWidget(panel);
    area->setWidgetResizable(true);
    area->setFrameShape(QFrame::NoFrame);
    // The area asks for little: the window's layout never has to grow for it.
    area->setMinimumSize(120, 60);
    return area;
}

} // namespace blocklens::ui
