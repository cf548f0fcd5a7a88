#pragma once
// A group box whose title never sets its minimum width: a long title (a model's name and a repair
// variant) is elided to the box's width. QGroupBox's own minimum is at least its title's width,
// which made the side by side wider than its dock at 1366x768 (issue 15). title() is still the
// whole title.
#include <QGroupBox>

namespace blocklens::ui {

class ElidedGroupBox : public QGroupBox {
    Q_OBJECT
public:
    explicit ElidedGroupBox(const QString& title, QWidget* parent = nullptr);

    // The contents' minimum, and room for a few characters of the title.
    QSize minimumSizeHint() const override;

protected:
    void initStyleOption(QStyleOptionGroupBox* option) const override;
};

} // namespace blocklens::ui
