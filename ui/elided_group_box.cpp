#include "elided_group_box.hpp"

#include <QStyle>
#include <QStyleOptionGroupBox>

#include <algorithm>

namespace blocklens::ui {

ElidedGroupBox::ElidedGroupBox(const QString& title, QWidget* parent) : QGroupBox(title, parent) {}

QSize ElidedGroupBox::minimumSizeHint() const
{
    // What QGroupBox::minimumSizeHint() computes, for a title of a few characters.
    QStyleOptionGroupBox option;
    QGroupBox::initStyleOption(&option);
    const QFontMetrics metrics(fontMetrics());
    const QSize title(metrics.horizontalAdvance(QStringLiteral("Block…")), metrics.height());
    const QSize frame = style()->sizeFromContents(QStyle::CT_GroupBox, &option, title, this);
    return frame.expandedTo(QWidget::minimumSizeHint()); // the layout's minimum, frame included
}

void ElidedGroupBox::initStyleOption(QStyleOptionGroupBox* option) const
{
    QGroupBox::initStyleOption(option);
    // The title's room: the box less the style's indent on either side (an em each is ample).
    const int room = width() - 2 * fontMetrics().horizontalAdvance(QLatin1Char('M'));
    option->text = fontMetrics().elidedText(option->text, Qt::ElideRight, std::max(room, 0));
}

} // namespace blocklens::ui
