#include "inference/ttft_race.hpp"

#include "theme.hpp"

#include <QPainter>

#include <algorithm>

namespace blocklens::ui {

TtftRace::TtftRace(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("ttftRace"));
    setMinimumHeight(96);
    timer_.setInterval(16);
    connect(&timer_, &QTimer::timeout, this, [this] {
        if (progress() >= 1.0) {
            timer_.stop();
            done_ = true;
            Q_EMIT finished();
        }
        update();
    });
}

void TtftRace::race(double fullMs, double blockMs, const QString& blockLabel)
{
    fullMs_ = fullMs;
    blockMs_ = blockMs;
    blockLabel_ = blockLabel;
    done_ = false;
    clock_.start();
    timer_.start();
    update();
}

void TtftRace::clear()
{
    timer_.stop();
    fullMs_ = blockMs_ = 0;
    done_ = false;
    update();
}

void TtftRace::finishNow()
{
    if (timer_.isActive()) {
        timer_.stop();
        done_ = true;
        Q_EMIT finished();
    }
    update();
}

double TtftRace::progress() const
{
    if (done_)
        return 1.0;
    if (!clock_.isValid())
        return 0.0;
    return std::min(1.0, static_cast<double>(clock_.elapsed()) / kDurationMs);
}

void TtftRace::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const Theme theme = Theme::fromPalette(palette());
    p.fillRect(rect(), palette().color(QPalette::Base));
    QFont f = font();
    p.setFont(f);
    if (fullMs_ <= 0 && blockMs_ <= 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("Run a comparison to race full against block attention"));
        return;
    }
    const double slowest = std::max(fullMs_, blockMs_);
    const double now = progress() * slowest; // race time in ms
    const int margin = 10, labelW = std::min(230, width() / 3);
    const int barH = std::max(18, (height() - 3 * margin) / 2 - 10);
    const int x0 = margin + labelW, w = width() - x0 - margin;
    struct Lane {
        QString label;
        double ms;
        QColor colour;
    };
    const Lane lanes[2] = {{tr("Full attention"), fullMs_, QColor(0x8a, 0x93, 0xa3)}, {blockLabel_, blockMs_, theme.accent}};
    for (int i = 0; i < 2; ++i) {
        const int y = margin + i * (barH + margin + 8);
        const double shown = std::min(now, lanes[i].ms);
        const double frac = slowest > 0 ? shown / slowest : 0;
        p.setPen(palette().color(QPalette::Text));
        p.drawText(QRect(margin, y, labelW - 8, barH), Qt::AlignVCenter | Qt::AlignLeft | Qt::TextWordWrap, lanes[i].label);
        p.setPen(Qt::NoPen);
        p.setBrush(palette().color(QPalette::AlternateBase));
        p.drawRoundedRect(QRectF(x0, y, w, barH), 4, 4);
        p.setBrush(lanes[i].colour);
        p.drawRoundedRect(QRectF(x0, y, std::max(2.0, frac * w), barH), 4, 4);
        const bool arrived = now >= lanes[i].ms;
        const QString text = arrived ? tr("%1 ms").arg(lanes[i].ms, 0, 'f', lanes[i].ms < 10 ? 2 : 1) : tr("%1 ms").arg(shown, 0, 'f', 0);
        p.setPen(palette().color(QPalette::Text));
        QFont bold = f;
        bold.setBold(arrived);
        p.setFont(bold);
        const int tx = static_cast<int>(x0 + frac * w) + 6;
        p.drawText(QRect(std::min(tx, x0 + w - 90), y, 90, barH), Qt::AlignVCenter | Qt::AlignLeft, text);
        p.setFont(f);
    }
    if (progress() >= 1.0 && blockMs_ > 0 && fullMs_ > 0) {
        const double ratio = fullMs_ / blockMs_;
        p.setPen(palette().color(QPalette::Text));
        QFont big = f;
        big.setBold(true);
        p.setFont(big);
        p.drawText(QRect(x0, height() - margin - 18, w, 18), Qt::AlignRight | Qt::AlignVCenter,
                   ratio >= 1 ? tr("time to first token: %1× faster with block attention").arg(ratio, 0, 'f', ratio < 10 ? 1 : 0)
                              : tr("block attention %1× slower here (first run: blocks being encoded)").arg(1 / ratio, 0, 'f', 1));
    }
}

} // namespace blocklens::ui
