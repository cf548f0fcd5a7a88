#include "metrics_panel.hpp"

#include "analysis/annotator_agreement.hpp"
#include "segment/metrics.hpp"

#include <QComboBox>
#include <QGridLayout>
#include <QLabel>
#include <QSpinBox>

#include <cmath>

namespace blocklens::ui {

PairMetrics compareSegmentations(const std::vector<std::size_t>& lineStarts, const std::vector<Boundary>& reference,
                                 const std::vector<Boundary>& hypothesis, int level)
{
    std::vector<std::size_t> refOffsets, hypOffsets;
    for (const auto& b : reference)
        if (b.level <= level)
            refOffsets.push_back(b.offset);
    for (const auto& b : hypothesis)
        hypOffsets.push_back(b.offset);
    const auto ref = segment::boundaryLines(lineStarts, refOffsets);
    const auto hyp = segment::boundaryLines(lineStarts, hypOffsets);
    const std::size_t lines = lineStarts.size();
    const std::size_t k = segment::windowSize(lines, ref.size());
    PairMetrics m;
    m.pk = segment::pk(ref, hyp, lines, k);
    m.windowDiff = segment::windowDiff(ref, hyp, lines, k);
    m.f1 = segment::matchBoundaries(ref, hyp, 0).f1();
    m.f1Tolerant = segment::matchBoundaries(ref, hyp, 1).f1();
    m.referenceBoundaries = ref.size();
    m.hypothesisBoundaries = hyp.size();
    // Agreement as `blocklens-cli agreement` measures it at this level (the hypothesis keeps every
    // boundary, as for Pk above).
    const auto refString = analysis::lineBoundaryString(lineStarts, reference, level);
    const auto hypString = analysis::lineBoundaryString(lineStarts, hypothesis, 9);
    m.b = analysis::boundarySimilarity(refString, hypString);
    m.s = analysis::segmentationSimilarity(refString, hypString);
    return m;
}

MetricsPanel::MetricsPanel(QWidget* parent) : QWidget(parent), level_(new QSpinBox), chooser_(new QComboBox)
{
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(12, 12, 12, 12);
    grid->setHorizontalSpacing(16);
    grid->setVerticalSpacing(6);
    level_->setRange(1, 9);
    level_->setValue(2);
    level_->setPrefix(tr("level ≤ "));
    level_->setToolTip(tr("Granularity: the reference keeps boundaries of this level or coarser"));
    grid->addWidget(level_, 0, 0);
    header_[0] = new QLabel(tr("vs reference"));
    header_[1] = new QLabel;
    for (int c = 0; c < 2; ++c) {
        QFont f = header_[c]->font();
        f.setBold(true);
        header_[c]->setFont(f);
        header_[c]->setAlignment(Qt::AlignRight);
        grid->addWidget(header_[c], 0, c + 1);
    }
    const QString names[7] = {tr("Pk"), tr("WindowDiff"), tr("F1 (exact line)"), tr("F1 (±1 line)"), tr("Boundaries"),
                              tr("Agreement B"), tr("Agreement S")};
    for (int r = 0; r < 7; ++r) {
        auto* name = new QLabel(names[r]);
        name->setForegroundRole(QPalette::PlaceholderText);
        grid->addWidget(name, r + 1, 0);
        for (int c = 0; c < 2; ++c) {
            cells_[r][c] = new QLabel(QStringLiteral("–"));
            cells_[r][c]->setAlignment(Qt::AlignRight);
            grid->addWidget(cells_[r][c], r + 1, c + 1);
        }
        if (r >= 5)
            name->setToolTip(r == 5 ? tr("Boundary similarity B (Fournier 2013): 1 = the same boundaries; a boundary one "
                                         "line off counts half")
                                    : tr("Segmentation similarity S (Fournier and Inkpen 2012): 1 - edits per potential "
                                         "boundary"));
    }
    chooser_->setToolTip(tr("What the second column compares the current boundaries with"));
    auto* compareLabel = new QLabel(tr("Compare with"));
    compareLabel->setForegroundRole(QPalette::PlaceholderText);
    grid->addWidget(compareLabel, 8, 0);
    grid->addWidget(chooser_, 8, 1, 1, 2);
    grid->setRowStretch(9, 1);
    connect(level_, &QSpinBox::valueChanged, this, [this] { update(last_); });
    connect(chooser_, &QComboBox::currentIndexChanged, this, [this](int i) { selectComparison(i); });
    setComparisons({});
}

void MetricsPanel::setDocument(const Document& doc, std::vector<Boundary> reference)
{
    lineStarts_ = doc.lineStarts();
    reference_ = std::move(reference);
}

void MetricsPanel::setComparisons(std::vector<Comparison> options)
{
    const QString previous = otherName_;
    options_ = std::move(options);
    const QSignalBlocker block(chooser_);
    chooser_->clear();
    int keep = 0;
    for (std::size_t i = 0; i < options_.size(); ++i) {
        chooser_->addItem(options_[i].name);
        if (options_[i].name == previous)
            keep = static_cast<int>(i); // stay on the same choice across updates
    }
    chooser_->setEnabled(options_.size() > 1);
    selectComparison(options_.empty() ? -1 : keep);
}

void MetricsPanel::selectComparison(int index)
{
    if (index >= 0 && index < static_cast<int>(options_.size())) {
        otherName_ = options_[static_cast<std::size_t>(index)].name;
        other_ = options_[static_cast<std::size_t>(index)].boundaries;
        const QSignalBlocker block(chooser_);
        chooser_->setCurrentIndex(index);
    } else {
        otherName_.clear();
        other_.clear();
    }
    header_[1]->setText(otherName_.isEmpty() ? QString() : tr("vs %1").arg(otherName_));
    for (int r = 0; r < 7; ++r)
        cells_[r][1]->setVisible(!otherName_.isEmpty());
    update(last_);
}

void MetricsPanel::setComparison(const QString& name, std::vector<Boundary> other)
{
    if (name.isEmpty())
        setComparisons({});
    else
        setComparisons({Comparison{name, std::move(other)}});
}

void MetricsPanel::update(const std::vector<Boundary>& current)
{
    last_ = current;
    auto fill = [&](int column, const std::optional<PairMetrics>& m) {
        auto number = [](double v) { return std::isnan(v) ? QStringLiteral("n/a") : QString::number(v, 'f', 3); };
        cells_[0][column]->setText(m ? number(m->pk) : QStringLiteral("–"));
        cells_[1][column]->setText(m ? number(m->windowDiff) : QStringLiteral("–"));
        cells_[2][column]->setText(m ? number(m->f1) : QStringLiteral("–"));
        cells_[3][column]->setText(m ? number(m->f1Tolerant) : QStringLiteral("–"));
        cells_[4][column]->setText(m ? QStringLiteral("%1 / %2").arg(m->hypothesisBoundaries).arg(m->referenceBoundaries)
                                     : QStringLiteral("–"));
        cells_[5][column]->setText(m ? number(m->b) : QStringLiteral("–"));
        cells_[6][column]->setText(m ? number(m->s) : QStringLiteral("–"));
    };
    if (lineStarts_.empty()) {
        vsReference_.reset();
        fill(0, std::nullopt);
        fill(1, std::nullopt);
        return;
    }
    // A document without author-set boundaries has nothing to compare with in this column.
    if (reference_.empty()) {
        vsReference_.reset();
        fill(0, std::nullopt);
        header_[0]->setText(tr("no reference"));
    } else {
        header_[0]->setText(tr("vs reference"));
        vsReference_ = compareSegmentations(lineStarts_, reference_, current, level_->value());
        fill(0, vsReference_);
    }
    if (!otherName_.isEmpty())
        fill(1, compareSegmentations(lineStarts_, other_, current, 9));
}

QString MetricsPanel::valueText(int row, int column) const
{
    return cells_[row][column]->text();
}

} // namespace blocklens::ui
