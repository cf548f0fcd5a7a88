#pragma once
// Live metrics of the segmentation being edited: Pk, WindowDiff and boundary F1 (tolerance 0 and
// 1 line), and the agreement measures B and S (segeval's boundary and segmentation similarity,
// core/analysis), against the reference and against a second segmentation (another annotator's
// version or a segmenter's output), recomputed on every edit.
#include "document/document.hpp"

#include <QWidget>

#include <optional>
#include <vector>

class QComboBox;
class QLabel;
class QSpinBox;

namespace blocklens::ui {

struct PairMetrics {
    double pk = 0, windowDiff = 0, f1 = 0, f1Tolerant = 0; // pk/windowDiff NaN when no window fits
    double b = 1, s = 1; // boundary / segmentation similarity, near misses one line apart
    std::size_t referenceBoundaries = 0, hypothesisBoundaries = 0;
};

// Line-level metrics as shared/data/README.md defines them; `reference` filtered to level <= L.
PairMetrics compareSegmentations(const std::vector<std::size_t>& lineStarts, const std::vector<Boundary>& reference,
                                 const std::vector<Boundary>& hypothesis, int level);

class MetricsPanel : public QWidget {
    Q_OBJECT
public:
    explicit MetricsPanel(QWidget* parent = nullptr);

    void setDocument(const Document& doc, std::vector<Boundary> reference);
    // The second column: what to compare with, chosen from a list (the segmenter's output,
    // other annotators' versions...). An empty list hides the column.
    struct Comparison {
        QString name;
        std::vector<Boundary> boundaries;
    };
    void setComparisons(std::vector<Comparison> options);
    int comparisonCount() const { return static_cast<int>(options_.size()); }
    QString comparisonName(int i) const { return options_.at(static_cast<std::size_t>(i)).name; }
    void selectComparison(int index);
    void setComparison(const QString& name, std::vector<Boundary> other); // a single option
    void update(const std::vector<Boundary>& current); // recompute both columns
    QString valueText(int row, int column) const;      // for tests: row 0 Pk .. 3 F1 t=1, 5 B, 6 S
    std::optional<PairMetrics> againstReference() const { return vsReference_; }

private:
    std::vector<std::size_t> lineStarts_;
    std::vector<Boundary> reference_, other_;
    QString otherName_;
    QSpinBox* level_;
    QComboBox* chooser_;
    std::vector<Comparison> options_;
    QLabel* header_[2];
    QLabel* cells_[7][2];
    std::optional<PairMetrics> vsReference_;
    std::vector<Boundary> last_;
};

} // namespace blocklens::ui
