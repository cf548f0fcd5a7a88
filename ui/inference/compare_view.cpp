#include "inference/compare_view.hpp"
#include "inference/status_text.hpp"

#include "elided_group_box.hpp"
#include "inference/context_banner.hpp"
#include "inference/inference_worker.hpp"
#include "inference/request_follower.hpp"
#include "inference/kl_sparkline.hpp"
#include "inference/other_model_picker.hpp"
#include "inference/run_format.hpp"
#include "inference/ttft_race.hpp"
#include "inference/variant_picker.hpp"
#include "theme.hpp"

#include <QCheckBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace blocklens::ui {
namespace {

using namespace display;

QLabel* number(const QString& objectName)
{
    auto* l = new QLabel(QStringLiteral("—"));
    l->setObjectName(objectName);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}

// Text as HTML with its whitespace visible: a continuation of newlines or tabs is otherwise an
// empty box. Newlines get a dim ↵ before the break, tabs a →.
QString visibleWhitespace(const QString& text, const QColor& dim)
{
    const QString mark = QStringLiteral("<span style=\"color:%1\">%2</span>").arg(dim.name());
    QString html = text.toHtmlEscaped();
    html.replace(QLatin1Char('\t'), mark.arg(QStringLiteral("→")));
    html.replace(QLatin1Char('\n'), mark.arg(QStringLiteral("↵")) + QStringLiteral("<br>"));
    return html;
}

// One token as a quote in plain text: whitespace as symbols, and never broken across lines. A
// line may break between two quotes, never inside one: spaces become no-break spaces and a word
// joiner (U+2060) sits between every two characters. Plain text, not rich text, because a
// word-wrapped rich-text label can be laid out one line short (Qt's "Layout Issues"): the second
// quote of "«,» vs «for»" was cut off at 1366 px.
QString quotedToken(const QString& token)
{
    QString t = token;
    t.replace(QLatin1Char('\n'), QStringLiteral("↵")).replace(QLatin1Char('\t'), QStringLiteral("→")).replace(QLatin1Char(' '), QChar(0x00A0));
    if (t.isEmpty())
        t = QStringLiteral("∅");
    const QChar joiner(0x2060);
    QString out = QStringLiteral("«");
    for (qsizetype i = 0; i < t.size(); ++i) {
        // Not inside a surrogate pair nor before a combining mark: those stay with their character.
        if (!t[i].isLowSurrogate() && !t[i].isMark())
            out += joiner;
        out += t[i];
    }
    return out + joiner + QStringLiteral("»");
}

// The continuation as HTML, the first divergent token (if any) highlighted.
QString highlighted(const std::vector<QString>& pieces, std::optional<std::int64_t> divergent, const QColor& mark, const QColor& dim)
{
    QString html;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        const QString piece = visibleWhitespace(pieces[i], dim);
        if (divergent && static_cast<std::int64_t>(i) == *divergent)
            html += QStringLiteral("<span style=\"background-color:%1;font-weight:bold\">%2</span>").arg(mark.name(), piece.isEmpty() ? QStringLiteral("∅") : piece);
        else if (divergent && static_cast<std::int64_t>(i) > *divergent)
            html += QStringLiteral("<span style=\"text-decoration:underline\">%1</span>").arg(piece);
        else
            html += piece;
    }
    return html;
}

} // namespace

CompareView::CompareView(InferenceWorker* worker, QWidget* parent) : QWidget(parent), worker_(worker)
{
    setObjectName(QStringLiteral("compareView"));
    auto* layout = new QVBoxLayout(this);

    // Two rows, so that the controls fit the dock at 1366x768 (issue 15): what to run, then how.
    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Query")));
    query_ = new QLineEdit(tr("What is this document about?"));
    query_->setObjectName(QStringLiteral("compareQuery"));
    query_->setToolTip(tr("Appended to the document as the last block: the block that attends to everything."));
    controls->addWidget(query_, 1);
    controls->addWidget(new QLabel(tr("Tokens")));
    maxTokens_ = new QSpinBox;
    maxTokens_->setObjectName(QStringLiteral("compareMaxTokens"));
    maxTokens_->setRange(0, 512);
    maxTokens_->setValue(24);
    maxTokens_->setToolTip(tr("Greedy continuation length under each mode"));
    controls->addWidget(maxTokens_);
    cold_ = new QCheckBox(tr("Empty cache first"));
    cold_->setObjectName(QStringLiteral("compareColdCache"));
    cold_->setToolTip(tr("Drop every cached block before the block-attention run (a cold start). Unchecked, blocks "
                         "cached by earlier runs are reused: after a boundary edit only the touched blocks are encoded."));
    controls->addWidget(cold_);
    layout->addLayout(controls);
    auto* how = new QHBoxLayout;
    variant_ = new VariantPicker;
    how->addWidget(variant_);
    otherPicker_ = new OtherModelPicker;
    how->addWidget(otherPicker_);
    how->addStretch(1);
    runButton_ = new QPushButton(tr("Run ▶"));
    runButton_->setObjectName(QStringLiteral("compareRun"));
    runButton_->setDefault(true);
    cancel_ = new QPushButton(tr("Cancel"));
    cancel_->setObjectName(QStringLiteral("compareCancel"));
    cancel_->setEnabled(false);
    how->addWidget(runButton_);
    how->addWidget(cancel_);
    layout->addLayout(how);

    auto* statusRow = new QHBoxLayout;
    status_ = new QLabel(tr("Load a model (Model panel), open a document, then run."));
    status_->setObjectName(QStringLiteral("compareStatus"));
    status_->setWordWrap(true);
    progress_ = new QProgressBar;
    progress_->setMaximumWidth(220);
    // Hidden between runs without giving its room away: showing it must not re-lay out the window.
    QSizePolicy keep = progress_->sizePolicy();
    keep.setRetainSizeWhenHidden(true);
    progress_->setSizePolicy(keep);
    progress_->hide();
    statusRow->addWidget(status_, 1);
    statusRow->addWidget(progress_);
    layout->addLayout(statusRow);
    // Past the model's trained context the numbers mean something else: say so above them.
    // Shown as soon as the run starts (compareStarted), which on a long input is minutes before
    // its result (issue 15).
    contextBanner_ = new ContextBanner(QStringLiteral("compareContextWarning"));
    layout->addWidget(contextBanner_);

    auto* columns = new QHBoxLayout;
    full_ = makeColumn(tr("Full attention"), QStringLiteral("full"), false);
    block_ = makeColumn(tr("Block attention (block-cached)"), QStringLiteral("block"), true);

    auto* middle = new ElidedGroupBox(tr("Divergence on the query block"));
    middle->setObjectName(QStringLiteral("divergenceBox"));
    auto* mid = new QVBoxLayout(middle);
    queryInfo_ = number(QStringLiteral("queryInfo"));
    queryInfo_->setWordWrap(true);
    mid->addWidget(queryInfo_);
    sparkline_ = new KlSparkline;
    mid->addWidget(sparkline_);
    auto* midForm = new QFormLayout;
    midForm->setRowWrapPolicy(QFormLayout::WrapLongRows); // a narrow column puts the value under its label
    meanKl_ = number(QStringLiteral("meanKl"));
    top1_ = number(QStringLiteral("top1Agreement"));
    divergent_ = number(QStringLiteral("firstDivergent"));
    divergent_->setWordWrap(true);
    divergent_->setTextFormat(Qt::PlainText); // see quotedToken()
    const QString klHelp = tr("KL divergence of block attention's next-token probabilities from full attention's, in nats "
                              "(0: the same predictions): the mean over the query block's tokens, and the largest in brackets.");
    auto* klLabel = new QLabel(tr("Mean KL (max)"));
    for (QWidget* w : {static_cast<QWidget*>(klLabel), static_cast<QWidget*>(meanKl_)})
        w->setToolTip(klHelp);
    midForm->addRow(klLabel, meanKl_);
    midForm->addRow(tr("Top-1 agreement"), top1_);
    mid->addLayout(midForm);
    // Not a form row: QFormLayout gave this word-wrapped label one line of height where its text
    // took two at 1366 px, cutting off the second token. A box layout honours its height for width.
    auto* continuations = new QHBoxLayout;
    auto* continuationsLabel = new QLabel(tr("Continuations"));
    continuationsLabel->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    continuations->addWidget(continuationsLabel, 0, Qt::AlignTop);
    continuations->addWidget(divergent_, 1);
    mid->addLayout(continuations);
    // Said on screen, not only in a tooltip: presentation mode has no mouse.
    auto* klNote = new QLabel(tr("KL: how far block attention's next-token probabilities are from full attention's "
                                 "(0 = identical); mean over the query's tokens, largest in brackets."));
    klNote->setObjectName(QStringLiteral("klExplanation"));
    klNote->setWordWrap(true);
    klNote->setForegroundRole(QPalette::PlaceholderText);
    mid->addWidget(klNote);
    mid->addStretch(1);

    columns->addWidget(full_.box, 3);
    columns->addWidget(middle, 2);
    columns->addWidget(block_.box, 3);
    // The second model's block attention (issue 19), with its divergence from THIS model's full
    // attention in its own column: the middle box stays the loaded model's.
    otherBlock_ = makeColumn(tr("Second model: block attention"), QStringLiteral("other"), false);
    auto* otherForm = new QFormLayout;
    otherForm->setRowWrapPolicy(QFormLayout::WrapLongRows);
    otherMeanKl_ = number(QStringLiteral("otherMeanKl"));
    otherTop1_ = number(QStringLiteral("otherTop1Agreement"));
    otherForm->addRow(tr("Mean KL (max) vs full"), otherMeanKl_);
    otherForm->addRow(tr("Top-1 agreement vs full"), otherTop1_);
    static_cast<QVBoxLayout*>(otherBlock_.box->layout())->insertLayout(1, otherForm);
    otherBlock_.box->setToolTip(tr("The second model's block attention on the same tokens, compared with the loaded model's full "
                                   "attention (the reference of the middle column too)."));
    otherBlock_.box->hide();
    columns->addWidget(otherBlock_.box, 3);
    layout->addLayout(columns, 1);

    auto* raceBox = new QGroupBox(tr("Time to first token"));
    auto* raceLayout = new QVBoxLayout(raceBox);
    race_ = new TtftRace;
    raceLayout->addWidget(race_);
    layout->addWidget(raceBox);

    connect(runButton_, &QPushButton::clicked, this, &CompareView::run);
    connect(query_, &QLineEdit::returnPressed, this, &CompareView::run);
    connect(cancel_, &QPushButton::clicked, this, [this] {
        if (runId_)
            worker_->cancel(runId_);
    });
    connect(worker_, &InferenceWorker::compareStarted, this, [this](quint64 id, const CompareInput& input) {
        if (id == runId_)
            started(input);
    });
    connect(worker_, &InferenceWorker::tokenStreamed, this, [this](quint64 id, CompareColumn column, qint32, const QString& text) {
        if (id == runId_)
            streamed(column, text);
    });
    connect(worker_, &InferenceWorker::runFinished, this, [this](quint64 id, CompareColumn column, const engine::RunStats& stats) {
        if (id == runId_)
            columnDone(column, stats);
    });
    followRequests<CompareReport>(this, worker_, runId_, progress_, &InferenceWorker::comparisonReady,
                                  [this](const CompareReport& report) { showReport(report); },
                                  {.ended = [this] { setRunning(false); },
                                   .failed =
                                       [this](const QString& message) {
                                           setStatus(tr("The comparison failed: %1").arg(message), true);
                                           Q_EMIT comparisonFailed(message);
                                       },
                                   .cancelled = [this] { setStatus(tr("Cancelled.")); }});
    connect(worker_, &InferenceWorker::modelLoaded, this, [this](quint64, const ModelInfo& info) {
        if (!runId_)
            setStatus(tr("Model %1 on %2 ready. Press Run (or Enter in the query).").arg(info.name, info.device));
    });
}

CompareView::Column CompareView::makeColumn(const QString& title, const QString& prefix, bool block)
{
    Column c;
    // Elided titles and wrapping rows: three columns and the divergence box fit a 1366 px screen.
    c.box = new ElidedGroupBox(title);
    c.box->setObjectName(prefix + QStringLiteral("Column"));
    auto* v = new QVBoxLayout(c.box);
    auto* form = new QFormLayout;
    form->setRowWrapPolicy(QFormLayout::WrapLongRows);
    c.ttft = number(prefix + QStringLiteral("Ttft"));
    QFont big = c.ttft->font();
    big.setPointSizeF(big.pointSizeF() * 1.6);
    big.setBold(true);
    c.ttft->setFont(big);
    c.warm = number(prefix + QStringLiteral("WarmTtft"));
    c.flops = number(prefix + QStringLiteral("Flops"));
    c.kv = number(prefix + QStringLiteral("Kv"));
    c.cache = number(prefix + QStringLiteral("Cache"));
    form->addRow(tr("Time to first token"), c.ttft);
    if (block)
        form->addRow(tr("…all blocks cached"), c.warm);
    else { // not in the form: owned by the box all the same (an unparented label leaked), never shown
        c.warm->setParent(c.box);
        c.warm->hide();
    }
    form->addRow(tr("Prefill work"), c.flops);
    form->addRow(tr("KV memory"), c.kv);
    form->addRow(tr("Cache hits / misses"), c.cache);
    v->addLayout(form);
    c.text = new QTextBrowser;
    c.text->setObjectName(prefix + QStringLiteral("Text"));
    c.text->setFont(documentFont());
    c.text->setPlaceholderText(tr("The continuation streams here, token by token."));
    v->addWidget(c.text, 1);
    return c;
}

void CompareView::showError(const QString& message)
{
    setStatus(message, true);
    Q_EMIT comparisonFailed(message);
}

void CompareView::setQuery(const QString& query)
{
    query_->setText(query);
}

QString CompareView::query() const
{
    return query_->text();
}

void CompareView::setMaxNewTokens(int n)
{
    maxTokens_->setValue(n);
}

QString CompareView::statusText() const
{
    return status_->text();
}

QString CompareView::labelText(const QString& objectName) const
{
    const auto* l = findChild<QLabel*>(objectName);
    return l ? l->text() : QString();
}

QString CompareView::streamedText(CompareColumn column) const
{
    return const_cast<CompareView*>(this)->column(column).raw;
}

CompareView::Column& CompareView::column(CompareColumn c)
{
    switch (c) {
    case CompareColumn::Full: return full_;
    case CompareColumn::Block: return block_;
    case CompareColumn::OtherBlock: break;
    }
    return otherBlock_;
}

void CompareView::run()
{
    if (!worker_->model()) {
        setStatus(tr("No model is loaded: choose one in the Model panel (View > Model)."), true);
        Q_EMIT comparisonFailed(statusText());
        return;
    }
    QString why;
    std::optional<CompareJob> job = source_ ? source_(&why) : std::nullopt;
    if (!job) {
        setStatus(why.isEmpty() ? tr("Open a document first.") : why, true);
        Q_EMIT comparisonFailed(statusText());
        return;
    }
    // A bad variant is said on one line and nothing runs: the previous result stays on screen.
    const std::optional<engine::AttentionVariant> variant = variant_->variant(&why);
    if (!variant) {
        setStatus(why, true);
        Q_EMIT comparisonFailed(why);
        return;
    }
    job->variant = *variant;
    runVariant_ = QString::fromStdString(engine::variantName(*variant));
    job->query = query_->text();
    job->maxNewTokens = maxTokens_->value();
    job->coldCache = cold_->isChecked();
    job->otherModel = otherPicker_->directory();
    runOther_ = job->otherModel;
    lastDocument_ = job->document;
    runId_ = worker_->requestComparison(*job);
    setRunning(true);
    setStatus(tr("Tokenizing…"));
}

void CompareView::rerunIfShown()
{
    if (!report_ || !isVisible() || !worker_->model() || !source_)
        return;
    const std::optional<CompareJob> job = source_(nullptr);
    if (!job)
        return;
    // A boundary edit on the same document re-encodes only the touched blocks: always cheap.
    // Another document runs again only when it is cheap too; otherwise the user starts it.
    if (job->document != lastDocument_) {
        const double ms = estimatedMs(*job->document);
        if (ms > kAutoRerunMs) {
            setStatus(tr("Another document is on screen: comparing it would take about %1 on this machine. Press Run ▶ to start.")
                          .arg(ms >= 1000 ? tr("%1 s").arg(ms / 1000, 0, 'f', ms < 10000 ? 1 : 0) : formatMs(ms)));
            Q_EMIT rerunOffered(ms);
            return;
        }
    }
    run();
}

double CompareView::estimatedMs(const Document& document) const
{
    // Tokens from the last run's characters per token; time from its measured FLOP rate (the
    // full-attention prefill), for a full run plus a block run with nothing cached.
    if (!report_ || !worker_->model())
        return 0;
    const auto& last = *report_;
    const double lastTokens = static_cast<double>(last.input.spans.size());
    const double lastChars = last.input.spans.empty() ? 0.0 : static_cast<double>(last.input.spans.back().end);
    const double charsPerToken = lastTokens > 0 && lastChars > 0 ? lastChars / lastTokens : 4.0;
    const auto tokens = static_cast<std::int64_t>(static_cast<double>(document.length()) / charsPerToken) + last.input.queryTokens;
    const double lastFlops = last.full.stats.prefillFlops.total();
    const double rate = last.full.stats.ttftMs > 0 && lastFlops > 0 ? lastFlops / last.full.stats.ttftMs : 0; // FLOP per ms
    if (rate <= 0)
        return 0;
    const auto& config = worker_->model()->config;
    const double flops = engine::forwardFlops(config, tokens, engine::attendedPairs(0, tokens, 0, std::nullopt), 1).total();
    return 2.0 * flops / rate;
}

void CompareView::setRunning(bool running)
{
    runButton_->setEnabled(true); // a new run supersedes the one in flight
    cancel_->setEnabled(running);
    progress_->setVisible(running);
    if (running)
        progress_->setRange(0, 0);
    else
        runId_ = 0;
}

void CompareView::started(const CompareInput& input)
{
    // Cleared only now that the run has started: a run that fails before it (a repair that does
    // not fit the input) leaves the previous result on screen.
    for (Column* c : {&full_, &block_, &otherBlock_}) {
        for (QLabel* l : {c->ttft, c->warm, c->flops, c->kv, c->cache})
            l->setText(QStringLiteral("…"));
        c->text->clear();
        c->raw.clear();
    }
    for (QLabel* l : {meanKl_, top1_, divergent_, otherMeanKl_, otherTop1_})
        l->setText(QStringLiteral("…"));
    otherBlock_.box->setVisible(!runOther_.isEmpty());
    otherBlock_.box->setTitle(tr("%1: block attention (%2)").arg(QFileInfo(runOther_).fileName(), runVariant_));
    sparkline_->clear();
    race_->clear();
    block_.box->setTitle(tr("Block attention (%1)").arg(runVariant_));
    const auto blocks = input.blocks.size();
    queryInfo_->setText(tr("%1 tokens in %2 blocks; the query block has %3 tokens").arg(input.ids.size()).arg(blocks).arg(input.queryTokens));
    // Past the model's trained context: said now, not only with the result (issue 15).
    contextBanner_->setWarning(input.contextWarning);
    setStatus(tr("Running full attention, then block attention…"));
}

void CompareView::streamed(CompareColumn which, const QString& text)
{
    Column& c = column(which);
    c.raw = text;
    c.text->setHtml(visibleWhitespace(text, palette().color(QPalette::PlaceholderText)));
}

void CompareView::columnDone(CompareColumn which, const engine::RunStats& s)
{
    Column& c = column(which);
    c.ttft->setText(formatMs(s.ttftMs));
    c.flops->setText(formatFlops(s.prefillFlops.total()));
    c.kv->setText(formatKvBytes(s.kvBytes));
    c.cache->setText(which == CompareColumn::Full ? tr("— (no block cache)") : tr("%1 / %2").arg(s.cacheHits).arg(s.cacheMisses));
}

void CompareView::showReport(const CompareReport& r)
{
    report_ = r;
    if (!r.blockUnavailable.isEmpty()) { // a server without block attention (issue 22): the full column only
        columnDone(CompareColumn::Full, r.full.stats);
        full_.raw = r.fullText;
        full_.text->setHtml(visibleWhitespace(r.fullText, palette().color(QPalette::PlaceholderText)));
        block_.raw.clear();
        block_.text->setPlainText(r.blockUnavailable);
        for (QLabel* l : {block_.ttft, block_.warm, block_.flops, block_.kv, block_.cache, meanKl_, top1_, divergent_})
            l->setText(QStringLiteral("—"));
        full_.flops->setText(QStringLiteral("—"));
        full_.kv->setText(QStringLiteral("—"));
        sparkline_->clear();
        race_->clear();
        setStatus(r.blockUnavailable + QLatin1Char(' ') + tr("Full attention's first text after %1 (%2).").arg(formatMs(r.full.stats.ttftMs), r.timing));
        Q_EMIT comparisonShown();
        return;
    }
    block_.box->setTitle(tr("Block attention (%1)").arg(r.blockVariant));
    columnDone(CompareColumn::Full, r.full.stats);
    columnDone(CompareColumn::Block, r.block.stats);
    block_.warm->setText(formatMs(r.blockWarm.ttftMs));
    block_.warm->setToolTip(tr("Block attention again with every document block in the cache: %1 prefill work")
                                .arg(formatFlops(r.blockWarm.prefillFlops.total())));
    const auto& cmp = r.comparison;
    meanKl_->setText(tr("%1 (%2)").arg(formatKl(cmp.meanKl), formatKl(cmp.maxKl)));
    top1_->setText(formatPercent(cmp.top1Agreement));
    sparkline_->setValues(cmp.kl, r.queryTokenText);
    const QColor mark = Theme::fromPalette(palette()).dark ? QColor(0x8a, 0x3a, 0x2a) : QColor(0xff, 0xd2, 0xb8);
    if (cmp.firstDivergentToken) {
        const auto k = static_cast<std::size_t>(*cmp.firstDivergentToken);
        const QString a = k < r.fullPieces.size() ? r.fullPieces[k] : QString();
        const QString b = k < r.blockPieces.size() ? r.blockPieces[k] : QString();
        divergent_->setText(tr("diverge at token %1: %2 vs %3").arg(k).arg(quotedToken(a), quotedToken(b)));
    } else {
        divergent_->setText(tr("agree on all %1 tokens").arg(cmp.comparedGenerated));
    }
    const QColor dim = palette().color(QPalette::PlaceholderText);
    full_.raw = r.fullText;
    block_.raw = r.blockText;
    full_.text->setHtml(highlighted(r.fullPieces, cmp.firstDivergentToken, mark, dim));
    block_.text->setHtml(highlighted(r.blockPieces, cmp.firstDivergentToken, mark, dim));
    race_->race(r.full.stats.ttftMs, r.blockWarm.ttftMs, tr("Block attention, blocks cached"));
    QString status = tr("Done: block attention's first token after %1 with the cache as it was (%2 of %3 blocks found), %4 with every block cached.")
                         .arg(formatMs(r.block.stats.ttftMs))
                         .arg(r.block.stats.cacheHits)
                         .arg(r.block.stats.cacheHits + r.block.stats.cacheMisses)
                         .arg(formatMs(r.blockWarm.ttftMs));
    if (!r.timing.isEmpty())
        status += QLatin1Char(' ') + r.timing + QLatin1Char('.');
    if (r.other)
        status += tr(" %1's block attention: mean KL %2 from full attention (this model's block attention: %3).")
                      .arg(r.other->name, formatKl(r.other->comparison.meanKl), formatKl(cmp.meanKl));
    if (r.recorded)
        status += tr(" Recorded in the workspace.");
    else if (!r.recordError.isEmpty())
        status += tr(" Not recorded: %1").arg(r.recordError);
    setStatus(status, false);
    contextBanner_->setWarning(r.contextWarning);
    showOtherModel(r);
    Q_EMIT comparisonShown();
}

void CompareView::showOtherModel(const CompareReport& r)
{
    otherBlock_.box->setVisible(r.other.has_value());
    if (!r.other)
        return;
    const OtherModelRun& o = *r.other;
    otherBlock_.box->setTitle(tr("%1: block attention (%2)").arg(o.name, r.blockVariant));
    otherBlock_.box->setToolTip(o.directory);
    columnDone(CompareColumn::OtherBlock, o.block.stats);
    otherMeanKl_->setText(tr("%1 (%2)").arg(formatKl(o.comparison.meanKl), formatKl(o.comparison.maxKl)));
    otherTop1_->setText(formatPercent(o.comparison.top1Agreement));
    const QColor mark = Theme::fromPalette(palette()).dark ? QColor(0x8a, 0x3a, 0x2a) : QColor(0xff, 0xd2, 0xb8);
    otherBlock_.raw = o.text;
    // Highlighted where it first departs from the loaded model's full-attention continuation.
    otherBlock_.text->setHtml(highlighted(o.pieces, o.comparison.firstDivergentToken, mark, palette().color(QPalette::PlaceholderText)));
}

void CompareView::setStatus(const QString& text, bool error)
{
    showStatusText(status_, text, error, palette());
}

} // namespace blocklens::ui
