#pragma once
// Chooses how to segment: the segmenter, its candidate rule and the granularity (the
// segmenter's default; target/min/max tokens; an exact number of blocks; or threshold + depth).
// Every change emits a new request at once (the runner keeps only the latest).
#include "segmentation_runner.hpp"

#include <QWidget>

#include <array>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QStackedWidget;

namespace blocklens::ui {

class SegmenterPanel : public QWidget {
    Q_OBJECT
public:
    explicit SegmenterPanel(QWidget* parent = nullptr);

    SegmentRequest currentRequest() const;
    void setThreshold(double threshold); // switches to threshold mode (the score chart's handle)
    void setStatus(const QString& text);  // e.g. "42 blocks in 3.1 ms"
    QString status() const;
    void setSegmenter(const QString& name);
    void setTargetTokens(int tokens);     // switches to target mode
    // The minimum block size on every page (0: the segmenter's own, e.g. segment::kDefaultMinTokens).
    int minimumTokens() const;
    void setMinimumTokens(int tokens);
    QComboBox* segmenterBox() const { return segmenter_; }

Q_SIGNALS:
    void requestChanged(const blocklens::ui::SegmentRequest& request);

private:
    void emitRequest();
    void showDefaultMinimum(); // the "0" text: the current segmenter's minimum in tokens

    QComboBox* segmenter_;
    QLabel* summary_;
    QComboBox* rule_;
    QLineEdit* regex_;
    QComboBox* mode_;
    QStackedWidget* pages_;
    QSpinBox *target_, *maxTokens_, *blocks_, *depth_;
    std::array<QSpinBox*, 4> minTokens_{}; // one per granularity page, kept equal
    QDoubleSpinBox* threshold_;
    QLabel* status_;
    bool quiet_ = false; // while setting values programmatically
};

} // namespace blocklens::ui
