#pragma once
// The two TTFTs as a race, for demos: two bars start together and grow at the same speed, each
// stopping at its measured time (the slower one's bar spans the width), so a block-cached TTFT
// 30x shorter visibly finishes at a thirtieth of the way. The animation plays in a fixed
// duration scaled from the measured times; the numbers are the measured ones.
#include <QElapsedTimer>
#include <QString>
#include <QTimer>
#include <QWidget>

namespace blocklens::ui {

class TtftRace : public QWidget {
    Q_OBJECT
public:
    explicit TtftRace(QWidget* parent = nullptr);

    // Starts the race (from zero) with the measured times in milliseconds.
    void race(double fullMs, double blockMs, const QString& blockLabel);
    void clear();
    void finishNow();        // jumps to the end (screenshots, tests)
    bool isRunning() const { return timer_.isActive(); }
    double fullMs() const { return fullMs_; }
    double blockMs() const { return blockMs_; }
    QSize sizeHint() const override { return {480, 120}; }

    static constexpr int kDurationMs = 2500; // the slower bar's animation

Q_SIGNALS:
    void finished();

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    double progress() const; // 0..1 of the slower bar's time
    double fullMs_ = 0, blockMs_ = 0;
    QString blockLabel_;
    QTimer timer_;
    QElapsedTimer clock_;
    bool done_ = false;
};

} // namespace blocklens::ui
