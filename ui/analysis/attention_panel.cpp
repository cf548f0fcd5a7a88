#include "analysis/attention_panel.hpp"

#include "analysis/heatmap_view.hpp"
#include "inference/context_banner.hpp"
#include "models/leakage_model.hpp"
#include "util/error.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QResizeEvent>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace blocklens::ui {

AttentionPanel::AttentionPanel(QWidget* parent)
    : QWidget(parent), title_(new QLabel), layer_(new QComboBox), head_(new QComboBox), shown_(new QComboBox),
      back_(new QPushButton(tr("◀ Blocks"))), analyse_(new QPushButton(tr("Analyse"))), stop_(new QPushButton(tr("Stop"))), heatmap_(new HeatmapView),
      readout_(new QLabel), summary_(new QLabel), status_(new QLabel), table_(new QTableView),
      leakageModel_(new LeakageModel(this))
{
    setObjectName(QStringLiteral("attentionPanel"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    title_->setWordWrap(true);
    QFont bold = title_->font();
    bold.setBold(true);
    title_->setFont(bold);
    layout->addWidget(title_);
    // Past the model's trained context the heatmap shows an untrained regime: say so above it.
    contextBanner_ = new ContextBanner(QStringLiteral("heatmapContextWarning"));
    layout->addWidget(contextBanner_);

    auto* controls = new QHBoxLayout;
    layer_->setObjectName(QStringLiteral("heatmapLayer"));
    head_->setObjectName(QStringLiteral("heatmapHead"));
    shown_->setObjectName(QStringLiteral("heatmapSegmentation"));
    layer_->setToolTip(tr("Which layer's attention: one layer or the mean over the captured layers"));
    head_->setToolTip(tr("Which query head: one head or the mean over heads"));
    shown_->setToolTip(tr("Whose blocks the heatmap is drawn over"));
    back_->setToolTip(tr("Back to the block x block view"));
    analyse_->setObjectName(QStringLiteral("heatmapAnalyse"));
    analyse_->setToolTip(tr("Run the loaded model in full attention over the document on screen and capture where its attention goes"));
    for (QComboBox* box : {layer_, head_})
        box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    table_->setMinimumHeight(table_->fontMetrics().height() * 7);
    controls->addWidget(new QLabel(tr("Layer")));
    controls->addWidget(layer_);
    controls->addWidget(new QLabel(tr("Head")));
    controls->addWidget(head_);
    controls->addWidget(new QLabel(tr("Blocks of")));
    controls->addWidget(shown_, 1);
    controls->addWidget(back_);
    controls->addWidget(analyse_);
    stop_->setObjectName(QStringLiteral("heatmapStop"));
    stop_->setToolTip(tr("Stop the capture under way"));
    controls->addWidget(stop_);
    layout->addLayout(controls);
    back_->hide();
    stop_->hide();

    auto* split = split_ = new QSplitter(Qt::Vertical);
    auto* top = new QWidget;
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    heatmap_->setToolTip(tr("Hover a cell to read it; click to show its key block in the text; double-click a row to see its tokens"));
    topLayout->addWidget(heatmap_, 1);
    readout_->setObjectName(QStringLiteral("heatmapReadout"));
    readout_->setWordWrap(true);
    readout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    readout_->setMinimumHeight(readout_->fontMetrics().height() * 3);
    readout_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    topLayout->addWidget(readout_);
    split->addWidget(top);

    auto* bottom = new QWidget;
    auto* bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    summary_->setObjectName(QStringLiteral("leakageSummary"));
    summary_->setWordWrap(true);
    bottomLayout->addWidget(summary_);
    table_->setObjectName(QStringLiteral("leakageTable"));
    table_->setModel(leakageModel_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->verticalHeader()->hide();
    // Sized by fitLeakageColumns: every column in view at any width (no horizontal scrolling).
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table_->horizontalHeader()->setSectionResizeMode(LeakageModel::Text, QHeaderView::Stretch);
    // The numbers next to the cut they belong to; the text (stretching, elided) last.
    table_->horizontalHeader()->moveSection(table_->horizontalHeader()->visualIndex(LeakageModel::Text), LeakageModel::ColumnCount - 1);
    table_->setTextElideMode(Qt::ElideRight);
    table_->setWordWrap(false);
    table_->setAlternatingRowColors(true);
    table_->setToolTip(tr("Dropped: the share of full-attention mass of the block after the cut that lies before it. "
                          "Adjacent: the part on the block just before, which removing the cut gives back. Click to jump."));
    bottomLayout->addWidget(table_, 1);
    // No result, no table: an empty grid of headers reads as cells that failed to show (issue 15
    // item 8, presentation step 3 while the capture runs).
    table_->hide();
    connect(leakageModel_, &QAbstractItemModel::modelReset, this, [this] {
        table_->setVisible(leakageModel_->rowCount() > 0);
        fitLeakageColumns();
    });
    connect(leakageModel_, &QAbstractItemModel::headerDataChanged, this, &AttentionPanel::fitLeakageColumns);
    table_->installEventFilter(this);           // font changes (presentation mode's larger type)
    table_->viewport()->installEventFilter(this); // the width it has
    status_->setWordWrap(true);
    bottomLayout->addWidget(status_);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    auto changed = [this] {
        if (!updating_)
            recompute();
    };
    connect(layer_, &QComboBox::currentIndexChanged, this, changed);
    connect(head_, &QComboBox::currentIndexChanged, this, changed);
    connect(shown_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (updating_)
            return;
        showProposal_ = i == 1;
        zoom_ = -1;
        recompute();
    });
    connect(back_, &QPushButton::clicked, this, &AttentionPanel::zoomOut);
    connect(analyse_, &QPushButton::clicked, this, &AttentionPanel::analyseRequested);
    connect(stop_, &QPushButton::clicked, this, &AttentionPanel::cancelRequested);
    connect(heatmap_, &HeatmapView::cellHovered, this, [this](int r, int c) { readout_->setText(readoutFor(r, c)); });
    connect(heatmap_, &HeatmapView::cellClicked, this, [this](int r, int c) {
        readout_->setText(readoutFor(r, c));
        const auto& starts = shownStarts();
        if (c >= 0 && c < static_cast<int>(starts.size()))
            Q_EMIT jumpRequested(a_.offsetOfToken(starts[static_cast<std::size_t>(c)]));
    });
    connect(heatmap_, &HeatmapView::cellDoubleClicked, this, [this](int r, int) {
        if (zoom_ < 0)
            zoomInto(r);
    });
    connect(table_, &QTableView::clicked, this, [this](const QModelIndex& index) {
        Q_EMIT jumpRequested(static_cast<std::size_t>(index.data(LeakageModel::OffsetRole).toULongLong()));
    });
    clear();
}

void AttentionPanel::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    // Wide and low (a bottom dock): heatmap beside the table; otherwise above it.
    split_->setOrientation(width() > height() * 8 / 5 ? Qt::Horizontal : Qt::Vertical);
}

bool AttentionPanel::eventFilter(QObject* watched, QEvent* event)
{
    if ((watched == table_ && event->type() == QEvent::FontChange) || (watched == table_->viewport() && event->type() == QEvent::Resize))
        fitLeakageColumns();
    return QWidget::eventFilter(watched, event);
}

void AttentionPanel::fitLeakageColumns()
{
    // Every column in view (issue 15 item 8: at 1366 px in presentation mode the last two
    // columns lay beyond the scroll bar). The cut and value columns take their contents' width,
    // up to a dozen characters (past that they elide; the tooltip explains each column), and the
    // text after the cut the rest. The table asks for that much width, so the heatmap beside it
    // (a wide dock) leaves it; in a still narrower place the columns share what there is.
    QHeaderView* header = table_->horizontalHeader();
    const QAbstractItemView* view = table_; // sizeHintForColumn is public here, protected in QTableView
    const QFontMetrics fm = table_->fontMetrics();
    const int widest = fm.horizontalAdvance(QStringLiteral("token 000000")) + 12;
    const int textMinimum = std::max(header->sectionSizeHint(LeakageModel::Text), fm.horizontalAdvance(QStringLiteral("Text after")) + 12);
    std::vector<std::pair<int, int>> columns; // (column, width it wants)
    int wanted = 0;
    for (int c = 0; c < LeakageModel::ColumnCount; ++c) {
        if (c == LeakageModel::Text || header->isSectionHidden(c))
            continue;
        const int w = std::min(std::max(view->sizeHintForColumn(c), header->sectionSizeHint(c)), widest);
        columns.emplace_back(c, w);
        wanted += w;
    }
    const int chrome = 2 * table_->frameWidth() + table_->verticalScrollBar()->sizeHint().width();
    table_->setMinimumWidth(wanted + textMinimum + chrome);
    const int available = table_->viewport()->width() - textMinimum;
    for (const auto& [c, w] : columns)
        header->resizeSection(c, wanted <= available ? w : std::max(1, w * available / wanted));
}

void AttentionPanel::clear(const QString& message)
{
    a_ = {};
    matrix_ = {};
    tokens_ = {};
    zoom_ = -1;
    showProposal_ = false;
    leakageModel_->clear();
    heatmap_->setMatrix({});
    heatmap_->setPlaceholder({});
    title_->setText(tr("Attention heatmap"));
    contextBanner_->hide();
    readout_->clear();
    summary_->setText(message.isEmpty() ? tr("Load a model (Model panel), open a document, then Analyse: this runs the model in full "
                                             "attention and shows which cuts drop the most attention.")
                                        : message);
    rebuildSelectors();
    Q_EMIT leakageChanged();
}

void AttentionPanel::setStatus(const QString& message)
{
    status_->setText(message);
    // Before the first result the empty heatmap says what is happening (a capture running, or
    // why there is none), not how to start one.
    heatmap_->setPlaceholder(a_.empty() ? message : QString());
    // ...and the leakage summary does not tell the user to start what is already running.
    if (a_.empty())
        summary_->setText(tr("Which cuts drop the most attention shows here once the heatmap is computed."));
}

void AttentionPanel::showContextWarning(const QString& warning)
{
    contextBanner_->setWarning(warning);
}

void AttentionPanel::setRunning(bool running)
{
    stop_->setVisible(running);
    analyse_->setEnabled(!running);
}

bool AttentionPanel::isRunning() const
{
    return stop_->isVisibleTo(this);
}

QString AttentionPanel::status() const
{
    return status_->text();
}

void AttentionPanel::setAnalysis(AttentionAnalysis analysis)
{
    a_ = std::move(analysis);
    zoom_ = -1;
    if (a_.proposal.starts.empty())
        showProposal_ = false;
    rebuildSelectors();
    recompute();
}

bool AttentionPanel::setCurrentStarts(const std::vector<std::int64_t>& starts)
{
    if (a_.empty() || !a_.onCapturedBins(starts))
        return false;
    a_.current.starts = starts;
    zoom_ = -1;
    recompute();
    return true;
}

bool AttentionPanel::setProposal(const NamedSegmentation& proposal)
{
    if (!a_.empty() && !a_.onCapturedBins(proposal.starts))
        return false;
    a_.proposal = proposal;
    if (proposal.starts.empty())
        showProposal_ = false;
    rebuildSelectors();
    recompute();
    return true;
}

void AttentionPanel::rebuildSelectors()
{
    updating_ = true;
    const int layer = layer_->currentIndex(), head = head_->currentIndex();
    layer_->clear();
    head_->clear();
    shown_->clear();
    if (!a_.empty()) {
        layer_->addItem(tr("mean of %1").arg(a_.capture.mass().layers.size()));
        for (const auto l : a_.capture.mass().layers)
            layer_->addItem(tr("layer %1").arg(l), QVariant::fromValue<qlonglong>(l));
        head_->addItem(tr("mean of %1").arg(a_.capture.mass().heads));
        for (std::int64_t h = 0; h < a_.capture.mass().heads; ++h)
            head_->addItem(tr("head %1").arg(h), QVariant::fromValue<qlonglong>(h));
        shown_->addItem(a_.current.name.isEmpty() ? tr("current boundaries") : a_.current.name);
        if (!a_.proposal.starts.empty())
            shown_->addItem(a_.proposal.name.isEmpty() ? tr("proposal") : a_.proposal.name);
        layer_->setCurrentIndex(std::clamp(layer, 0, layer_->count() - 1));
        head_->setCurrentIndex(std::clamp(head, 0, head_->count() - 1));
        shown_->setCurrentIndex(showProposal_ ? 1 : 0);
    }
    for (QWidget* w : {static_cast<QWidget*>(layer_), static_cast<QWidget*>(head_), static_cast<QWidget*>(shown_)})
        w->setEnabled(!a_.empty());
    updating_ = false;
}

analysis::HeadSelection AttentionPanel::selection() const
{
    analysis::HeadSelection s;
    if (layer_->currentIndex() > 0)
        s.layer = layer_->currentData().toLongLong();
    if (head_->currentIndex() > 0)
        s.head = head_->currentData().toLongLong();
    return s;
}

void AttentionPanel::setSelection(const analysis::HeadSelection& s)
{
    updating_ = true;
    layer_->setCurrentIndex(s.layer ? std::max(0, layer_->findData(QVariant::fromValue<qlonglong>(*s.layer))) : 0);
    head_->setCurrentIndex(s.head ? std::max(0, head_->findData(QVariant::fromValue<qlonglong>(*s.head))) : 0);
    updating_ = false;
    recompute();
}

void AttentionPanel::showProposal(bool proposal)
{
    if (proposal && a_.proposal.starts.empty())
        return;
    showProposal_ = proposal;
    zoom_ = -1;
    updating_ = true;
    shown_->setCurrentIndex(proposal ? 1 : 0);
    updating_ = false;
    recompute();
}

const std::vector<std::int64_t>& AttentionPanel::shownStarts() const
{
    return showProposal_ ? a_.proposal.starts : a_.current.starts;
}

const analysis::LeakageComparison& AttentionPanel::leakage() const
{
    return leakageModel_->comparison();
}

void AttentionPanel::zoomInto(int queryBlock)
{
    if (a_.empty() || queryBlock < 0 || queryBlock >= static_cast<int>(shownStarts().size()))
        return;
    if (!a_.capture.tokenRows()) {
        readout_->setText(tr("This capture has one row per block; run Analyse on a shorter document to get token rows."));
        return;
    }
    zoom_ = queryBlock;
    updateHeatmap();
}

void AttentionPanel::zoomOut()
{
    zoom_ = -1;
    updateHeatmap();
}

void AttentionPanel::recompute()
{
    if (a_.empty()) {
        heatmap_->setMatrix({});
        return;
    }
    const auto sel = selection();
    try {
        matrix_ = analysis::blockMass(a_.capture, shownStarts(), sel);
        tokens_ = a_.capture.tokenRows() ? analysis::tokenBlockMass(a_.capture, shownStarts(), sel) : analysis::TokenBlockMatrix{};
        const bool hasProposal = !a_.proposal.starts.empty();
        auto cmp = analysis::compareLeakage(a_.capture, a_.current.starts, hasProposal ? a_.proposal.starts : a_.current.starts, sel,
                                            a_.lastBlockGlobal);
        if (!hasProposal) {
            for (auto& row : cmp.rows)
                row.b.reset();
        }
        leakageModel_->setComparison(
            std::move(cmp), hasProposal, a_.current.name, a_.proposal.name, [this](std::int64_t t) { return a_.offsetOfToken(t); },
            [this](std::int64_t t) { return a_.preview(t, std::min(t + 24, a_.capture.tokens())); });
        status_->clear();
    } catch (const Error& e) {
        // Nothing of a previous segmentation may stay on screen as if it were this one's (its
        // cells would be read with this one's block count).
        matrix_ = {};
        tokens_ = {};
        leakageModel_->clear();
        status_->setText(QString::fromStdString(e.message()));
        heatmap_->setMatrix({});
        heatmap_->setPlaceholder(tr("No heatmap for these blocks: %1").arg(QString::fromStdString(e.message())));
        summary_->clear();
        Q_EMIT leakageChanged();
        return;
    }
    const auto& lk = leakageModel_->comparison();
    QString text = tr("Block attention drops <b>%1</b> of the document's full-attention mass with %2 (%3 cuts)")
                       .arg(LeakageModel::percent(lk.a.total), a_.current.name.toHtmlEscaped())
                       .arg(lk.a.boundaries.size());
    if (!a_.proposal.starts.empty())
        text += tr(", <b>%1</b> with %2 (%3 cuts)")
                    .arg(LeakageModel::percent(lk.b.total), a_.proposal.name.toHtmlEscaped())
                    .arg(lk.b.boundaries.size());
    text += QStringLiteral(".");
    if (lk.a.worstBoundary >= 0) {
        const auto& w = lk.a.boundaries[static_cast<std::size_t>(lk.a.worstBoundary)];
        text += tr(" Worst cut: before «%1» (%2).").arg(a_.preview(w.token, w.token + 8, 32).toHtmlEscaped(), LeakageModel::percent(w.dropped));
    }
    summary_->setText(text);
    const std::int64_t docTokens = a_.documentTokens, all = a_.capture.tokens();
    showContextWarning(a_.contextWarning);
    title_->setText(tr("%1 · %2 tokens%3 · %4 layers × %5 heads captured · full attention")
                        .arg(a_.model.isEmpty() ? tr("model") : a_.model)
                        .arg(docTokens)
                        .arg(all > docTokens ? tr(" + %1 query").arg(all - docTokens) : QString())
                        .arg(a_.capture.mass().layers.size())
                        .arg(a_.capture.mass().heads));
    updateHeatmap();
    Q_EMIT leakageChanged();
}

void AttentionPanel::updateHeatmap()
{
    back_->setVisible(zoom_ >= 0);
    if (a_.empty())
        return;
    const auto& starts = shownStarts();
    const int B = static_cast<int>(starts.size());
    if (matrix_.values.size() != static_cast<std::size_t>(B) * static_cast<std::size_t>(B)) {
        heatmap_->setMatrix({}); // these blocks were not measured (recompute said why)
        return;
    }
    HeatmapView::Matrix m;
    m.cols = B;
    m.colTitle = tr("key block (where the attention goes)");
    for (int j = 0; j < B; ++j)
        m.colLabels << QStringLiteral("#%1").arg(j + 1);
    if (zoom_ < 0) {
        m.rows = B;
        m.rowTitle = tr("query block");
        m.values = matrix_.values;
        for (int i = 0; i < B; ++i) {
            m.rowLabels << QStringLiteral("#%1").arg(i + 1);
            for (int j = 0; j < B; ++j)
                m.masked.push_back(j > i);
        }
    } else {
        const std::int64_t begin = starts[static_cast<std::size_t>(zoom_)], end = a_.blockEnd(starts, zoom_);
        m.rows = static_cast<int>(end - begin);
        m.rowTitle = tr("query token in block #%1").arg(zoom_ + 1);
        for (std::int64_t t = begin; t < end; ++t) {
            m.rowLabels << QString::number(t);
            for (int j = 0; j < B; ++j) {
                m.values.push_back(tokens_.at(t, j));
                m.masked.push_back(j > zoom_);
            }
        }
    }
    m.scaleMax = 0;
    for (std::size_t i = 0; i < m.values.size(); ++i)
        if (!m.masked[i])
            m.scaleMax = std::max(m.scaleMax, m.values[i]);
    heatmap_->setMatrix(std::move(m));
}

QString AttentionPanel::readoutFor(int row, int col) const
{
    const auto& hm = heatmap_->matrix();
    if (a_.empty() || row < 0 || col < 0 || row >= hm.rows || col >= hm.cols)
        return {};
    const auto& starts = shownStarts();
    const auto range = [&](int block) {
        return std::pair{starts[static_cast<std::size_t>(block)], a_.blockEnd(starts, block)};
    };
    const auto [k0, k1] = range(col);
    const QString key = tr("key block #%1 (tokens %2–%3) «%4»").arg(col + 1).arg(k0).arg(k1 - 1).arg(a_.preview(k0, k1).toHtmlEscaped());
    if (hm.isMasked(row, col))
        return tr("%1: not visible to this query (causal mask)").arg(key);
    const double mass = hm.at(row, col);
    if (zoom_ < 0) {
        const auto [q0, q1] = range(row);
        return tr("query block #%1 (tokens %2–%3) → key block #%4: <b>mass %5</b><br>query «%6»<br>key «%7»")
            .arg(row + 1)
            .arg(q0)
            .arg(q1 - 1)
            .arg(col + 1)
            .arg(QString::number(mass, 'f', 4))
            .arg(a_.preview(q0, q1).toHtmlEscaped(), a_.preview(k0, k1).toHtmlEscaped());
    }
    const std::int64_t t = starts[static_cast<std::size_t>(zoom_)] + row;
    return tr("query token %1 «%2» (block #%3) → key block #%4: <b>mass %5</b><br>key «%6»")
        .arg(t)
        .arg(a_.preview(t, t + 1, 24).toHtmlEscaped())
        .arg(zoom_ + 1)
        .arg(col + 1)
        .arg(QString::number(mass, 'f', 4))
        .arg(a_.preview(k0, k1).toHtmlEscaped());
}

QString AttentionPanel::readout() const
{
    return readout_->text();
}

QString AttentionPanel::summary() const
{
    return summary_->text();
}

} // namespace blocklens::ui
