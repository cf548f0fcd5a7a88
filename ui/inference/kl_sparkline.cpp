#include "inference/kl_sparkline.hpp"

#include "theme.hpp"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>

namespace blocklens::ui {

KlSparkline::KlSparkline(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("klSparkline"));
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void KlSparkline::setValues(std::vector<double> kl, std::vector<QString> tokens)
{
    kl_ = std::move(kl);
    tokens_ = std::move(tokens);
    update();
}

void KlSparkline::clear()
{
    kl_.clear();
    tokens_.clear();
    update();
}

int KlSparkline::barAt(int x) const
{
    if (kl_.empty() || width() <= 0)
        return -1;
    const int i = static_cast<int>(static_cast<double>(x) / width() * static_cast<double>(kl_.size()));
    return i >= 0 && i < static_cast<int>(kl_.size()) ? i : -1;
}

void KlSparkline::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    const Theme theme = Theme::fromPalette(palette());
    p.fillRect(rect(), palette().color(QPalette::Base));
    if (kl_.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("per-token KL appears here"));
        return;
    }
    const double top = std::max(*std::max_element(kl_.begin(), kl_.end()), 1e-12);
    const auto worst = static_cast<std::size_t>(std::max_element(kl_.begin(), kl_.end()) - kl_.begin());
    const double w = static_cast<double>(width()) / static_cast<double>(kl_.size());
    const int h = height() - 4;
    for (std::size_t i = 0; i < kl_.size(); ++i) {
        const double bh = std::max(1.0, kl_[i] / top * h);
        const QRectF bar(static_cast<double>(i) * w + 0.5, height() - 2 - bh, std::max(1.0, w - 1.0), bh);
        p.fillRect(bar, i == worst ? QColor(0xe0, 0x5a, 0x47) : theme.accent);
    }
    p.setPen(palette().color(QPalette::Mid));
    p.drawLine(0, height() - 2, width(), height() - 2);
}

void KlSparkline::mouseMoveEvent(QMouseEvent* event)
{
    const int i = barAt(static_cast<int>(event->position().x()));
    if (i < 0) {
        QToolTip::hideText();
        return;
    }
    const QString token = static_cast<std::size_t>(i) < tokens_.size() ? tokens_[static_cast<std::size_t>(i)] : QString();
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("query token %1 «%2»: KL %3 nats").arg(i).arg(token.toHtmlEscaped()).arg(kl_[static_cast<std::size_t>(i)], 0, 'g', 4),
                       this);
}

} // namespace blocklens::ui
