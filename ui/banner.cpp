#include "banner.hpp"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QToolButton>

#include <utility>

namespace blocklens::ui {

Banner::Banner(QWidget* parent) : QWidget(parent), text_(new QLabel), action_(new QPushButton)
{
    setObjectName(QStringLiteral("banner"));
    setAutoFillBackground(true);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(12, 8, 8, 8);
    text_->setWordWrap(true);
    text_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* close = new QToolButton;
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    action_->setObjectName(QStringLiteral("bannerAction"));
    action_->hide();
    connect(action_, &QPushButton::clicked, this, [this] {
        hide();
        if (auto run = std::exchange(callback_, {}))
            run();
    });
    layout->addWidget(text_, 1);
    layout->addWidget(action_, 0, Qt::AlignVCenter);
    layout->addWidget(close);
    hide();
}

QString Banner::text() const
{
    return isVisible() ? text_->text() : QString();
}

void Banner::showMessage(const QString& message, bool isError, const QString& actionText, std::function<void()> action)
{
    callback_ = std::move(action);
    action_->setText(actionText);
    action_->setVisible(!actionText.isEmpty() && callback_);
    QPalette bp = palette();
    const bool dark = window()->palette().color(QPalette::Window).lightness() < 128; // the window's, not our own colours
    if (isError) {
        bp.setColor(QPalette::Window, dark ? QColor(0x5c, 0x1f, 0x1a) : QColor(0xfd, 0xec, 0xea));
        bp.setColor(QPalette::WindowText, dark ? QColor(0xff, 0xd7, 0xd2) : QColor(0x8a, 0x1c, 0x12));
    } else {
        bp.setColor(QPalette::Window, dark ? QColor(0x1f, 0x3b, 0x5c) : QColor(0xe8, 0xf1, 0xfb));
        bp.setColor(QPalette::WindowText, dark ? QColor(0xd6, 0xe8, 0xff) : QColor(0x12, 0x3a, 0x6b));
    }
    setPalette(bp);
    text_->setText(message);
    show();
}

} // namespace blocklens::ui
