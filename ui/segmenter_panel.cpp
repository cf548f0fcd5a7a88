#include "segmenter_panel.hpp"

#include "usecases/segmenters.hpp"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <array>

namespace blocklens::ui {
namespace {

enum Page { DefaultPage, TargetPage, BlocksPage, ThresholdPage };

QSpinBox* spin(int lo, int hi, int value, const QString& suffix = {})
{
    auto* s = new QSpinBox;
    s->setRange(lo, hi);
    s->setValue(value);
    s->setSuffix(suffix);
    s->setAccelerated(true);
    return s;
}

QFormLayout* form(QWidget* page)
{
    auto* f = new QFormLayout(page);
    f->setContentsMargins(0, 0, 0, 0);
    f->setVerticalSpacing(6);
    return f;
}

} // namespace

SegmenterPanel::SegmenterPanel(QWidget* parent)
    : QWidget(parent), segmenter_(new QComboBox), summary_(new QLabel), rule_(new QComboBox), regex_(new QLineEdit),
      mode_(new QComboBox), pages_(new QStackedWidget), target_(spin(16, 65536, 512, tr(" tokens"))),
      maxTokens_(spin(16, 1 << 20, 4096, tr(" tokens"))),
      blocks_(spin(1, 100000, 8)), depth_(spin(0, 16, 1)), threshold_(new QDoubleSpinBox), status_(new QLabel)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 12, 12, 12);
    layout->setSpacing(8);
    auto* top = new QFormLayout;
    top->setVerticalSpacing(6);
    for (const auto& s : segment::builtinSegmenters())
        segmenter_->addItem(QString::fromStdString(s.name()));
    setSegmenter(QString::fromLatin1(segment::kDefaultSegmenter.data(), segment::kDefaultSegmenter.size()));
    summary_->setWordWrap(true);
    summary_->setForegroundRole(QPalette::PlaceholderText);
    top->addRow(tr("Segmenter"), segmenter_);
    rule_->addItem(tr("Segmenter's own"), 0u);
    for (auto [label, rule] : {std::pair{tr("Lines"), segment::Rule::Line}, {tr("Paragraphs"), segment::Rule::Paragraph},
                               {tr("Sentences"), segment::Rule::Sentence}, {tr("Headings"), segment::Rule::Heading},
                               {tr("Code definitions"), segment::Rule::Code}, {tr("Regular expression"), segment::Rule::Regex}})
        rule_->addItem(label, static_cast<uint>(rule));
    regex_->setPlaceholderText(tr("PCRE2 pattern, e.g. ^Chapter"));
    regex_->setVisible(false);
    top->addRow(tr("Candidates"), rule_);
    top->addRow(QString(), regex_);
    mode_->addItems({tr("Segmenter default"), tr("Target size"), tr("Number of blocks"), tr("Threshold + depth")});
    top->addRow(tr("Granularity"), mode_);
    layout->addLayout(top);
    summary_->setMinimumHeight(summary_->fontMetrics().height() * 3);
    summary_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    layout->addWidget(summary_);

    // Every page offers the minimum block size (the decoders honour it in every mode): one spin
    // box per page, kept equal, so that each page's form stays aligned. 0 is "the segmenter's".
    const std::array<const char*, 4> pageNames{"default", "target", "blocks", "threshold"};
    for (std::size_t i = 0; i < minTokens_.size(); ++i) {
        minTokens_[i] = spin(0, 65536, 0, tr(" tokens"));
        minTokens_[i]->setObjectName(QStringLiteral("%1MinTokens").arg(QLatin1String(pageNames[i])));
        minTokens_[i]->setToolTip(tr("Smaller blocks join a neighbour, unless the maximum block size forbids it"));
    }
    auto* defaultPage = new QWidget;
    form(defaultPage)->addRow(tr("Minimum"), minTokens_[DefaultPage]);
    pages_->addWidget(defaultPage);
    auto* targetPage = new QWidget;
    auto* tf = form(targetPage);
    tf->addRow(tr("Target"), target_);
    tf->addRow(tr("Minimum"), minTokens_[TargetPage]);
    tf->addRow(tr("Maximum"), maxTokens_);
    pages_->addWidget(targetPage);
    auto* blocksPage = new QWidget;
    auto* bf = form(blocksPage);
    bf->addRow(tr("Blocks"), blocks_);
    bf->addRow(tr("Minimum"), minTokens_[BlocksPage]);
    pages_->addWidget(blocksPage);
    auto* thresholdPage = new QWidget;
    auto* thf = form(thresholdPage);
    threshold_->setRange(-10, 10);
    threshold_->setDecimals(3);
    threshold_->setSingleStep(0.05);
    threshold_->setValue(0.5);
    thf->addRow(tr("Threshold"), threshold_);
    thf->addRow(tr("Depth"), depth_);
    thf->addRow(tr("Minimum"), minTokens_[ThresholdPage]);
    pages_->addWidget(thresholdPage);
    layout->addWidget(pages_);
    status_->setForegroundRole(QPalette::PlaceholderText);
    status_->setWordWrap(true);
    layout->addWidget(status_);
    layout->addStretch(1);

    auto changed = [this] { emitRequest(); };
    connect(segmenter_, &QComboBox::currentIndexChanged, this, changed);
    connect(rule_, &QComboBox::currentIndexChanged, this, [this] {
        regex_->setVisible(rule_->currentData().toUInt() == static_cast<uint>(segment::Rule::Regex));
        emitRequest();
    });
    connect(regex_, &QLineEdit::editingFinished, this, changed);
    connect(mode_, &QComboBox::currentIndexChanged, this, [this](int i) {
        pages_->setCurrentIndex(i);
        emitRequest();
    });
    for (QSpinBox* s : {target_, maxTokens_, blocks_, depth_})
        connect(s, &QSpinBox::valueChanged, this, changed);
    for (QSpinBox* s : minTokens_)
        connect(s, &QSpinBox::valueChanged, this, [this](int value) {
            for (QSpinBox* other : minTokens_) {
                const QSignalBlocker block(other);
                other->setValue(value);
            }
            emitRequest();
        });
    showDefaultMinimum();
    connect(threshold_, &QDoubleSpinBox::valueChanged, this, changed);
}

void SegmenterPanel::setSegmenter(const QString& name)
{
    const int i = segmenter_->findText(name);
    if (i >= 0)
        segmenter_->setCurrentIndex(i);
    for (const auto& s : segment::builtinSegmenters())
        if (QString::fromStdString(s.name()) == segmenter_->currentText())
            summary_->setText(QString::fromStdString(s.spec().summary));
    showDefaultMinimum();
}

int SegmenterPanel::minimumTokens() const
{
    return minTokens_[0]->value();
}

void SegmenterPanel::setMinimumTokens(int tokens)
{
    minTokens_[0]->setValue(tokens); // the others follow
}

void SegmenterPanel::showDefaultMinimum()
{
    // What 0 means, in numbers: the segmenter's own minimum, or none for an exact block count
    // (core/segment/segmenter.cpp: "exactly N blocks" is what was asked).
    if (!minTokens_[0])
        return; // called while the panel is being built
    std::size_t fallback = 1;
    for (const auto& s : segment::builtinSegmenters())
        if (QString::fromStdString(s.name()) == segmenter_->currentText())
            fallback = s.spec().minTokens;
    for (std::size_t i = 0; i < minTokens_.size(); ++i)
        minTokens_[i]->setSpecialValueText(i == static_cast<std::size_t>(BlocksPage) ? tr("any size (exact count)")
                                           : fallback == 1                          ? tr("segmenter's (1 token)")
                                                                                    : tr("segmenter's (%1 tokens)").arg(fallback));
}

SegmentRequest SegmenterPanel::currentRequest() const
{
    SegmentRequest r;
    r.segmenter = segmenter_->currentText();
    r.rules = rule_->currentData().toUInt();
    if (r.rules == static_cast<uint>(segment::Rule::Regex))
        r.options.regex = regex_->text().toStdString();
    auto& g = r.options.granularity;
    switch (mode_->currentIndex()) {
    case TargetPage:
        g = segment::Granularity::target(static_cast<std::size_t>(target_->value()));
        g.maxTokens = static_cast<std::size_t>(maxTokens_->value());
        break;
    case BlocksPage: g = segment::Granularity::exactBlocks(static_cast<std::size_t>(blocks_->value())); break;
    case ThresholdPage: g = segment::Granularity::thresholdDepth(threshold_->value(), depth_->value()); break;
    default: break;
    }
    if (minimumTokens() > 0)
        g.minTokens = static_cast<std::size_t>(minimumTokens());
    return r;
}

void SegmenterPanel::setThreshold(double threshold)
{
    quiet_ = true;
    mode_->setCurrentIndex(ThresholdPage);
    threshold_->setValue(threshold);
    quiet_ = false;
    emitRequest();
}

void SegmenterPanel::setTargetTokens(int tokens)
{
    quiet_ = true;
    mode_->setCurrentIndex(TargetPage);
    target_->setValue(tokens);
    quiet_ = false;
    emitRequest();
}

void SegmenterPanel::setStatus(const QString& text)
{
    status_->setText(text);
}

QString SegmenterPanel::status() const
{
    return status_->text();
}

void SegmenterPanel::emitRequest()
{
    if (quiet_)
        return;
    for (const auto& s : segment::builtinSegmenters())
        if (QString::fromStdString(s.name()) == segmenter_->currentText())
            summary_->setText(QString::fromStdString(s.spec().summary));
    showDefaultMinimum();
    Q_EMIT requestChanged(currentRequest());
}

} // namespace blocklens::ui
