#include "adjudication/adjudication_view.hpp"

#include <QKeyEvent>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QVBoxLayout>

#include <algorithm>

namespace blocklens::ui {

// One horizontal track per annotator, then the majority and the adjudicated version; a tick per
// boundary (taller for coarser levels), the contested boundary under review in a band.
class AdjudicationTracks : public QWidget {
public:
    using QWidget::QWidget;
    const AdjudicationState* state = nullptr;
    std::optional<std::size_t> current;

    QSize sizeHint() const override { return {400, 24 * rows() + 8}; }
    int rows() const { return state ? static_cast<int>(state->versions.size()) + 2 : 0; }

protected:
    void paintEvent(QPaintEvent*) override
    {
        if (!state || state->length == 0)
            return;
        QPainter p(this);
        const int labelWidth = 110, rowHeight = 24;
        const double width = std::max(1, this->width() - labelWidth - 6);
        const auto x = [&](std::size_t offset) { return labelWidth + width * double(offset) / double(state->length); };
        if (current) {
            const double cx = x(state->plan.boundaries[*current].offset);
            p.fillRect(QRectF(cx - 4, 0, 8, height()), palette().highlight().color().lighter(150));
        }
        const auto drawRow = [&](int r, const QString& name, const std::vector<Boundary>& bs) {
            const int top = 4 + r * rowHeight;
            p.setPen(palette().text().color());
            p.drawText(QRect(2, top, labelWidth - 4, rowHeight), Qt::AlignVCenter | Qt::AlignLeft, name);
            p.drawLine(QPointF(labelWidth, top + rowHeight / 2), QPointF(labelWidth + width, top + rowHeight / 2));
            for (const auto& b : bs) {
                const int h = std::max(4, rowHeight - 4 * b.level);
                p.drawLine(QPointF(x(b.offset), top + (rowHeight - h) / 2.0), QPointF(x(b.offset), top + (rowHeight + h) / 2.0));
            }
        };
        int r = 0;
        for (const auto& v : state->versions)
            drawRow(r++, QString::fromStdString(v.annotator), v.boundaries);
        drawRow(r++, tr("majority"), state->plan.majority());
        drawRow(r, tr("adjudicated"), state->adjudicated);
    }
};

AdjudicationView::AdjudicationView(const QString& workspace, const QString& reviewer, QWidget* parent)
    : QWidget(parent), session_(new AdjudicationSession(workspace, reviewer, this)), queueList_(new QListWidget),
      tracks_(new AdjudicationTracks), summary_(new QLabel), detail_(new QLabel)
{
    setObjectName(QStringLiteral("adjudicationView"));
    setFocusPolicy(Qt::StrongFocus);
    queueList_->setObjectName(QStringLiteral("adjudicationQueue"));
    queueList_->setFocusPolicy(Qt::NoFocus); // the keys are the view's
    tracks_->state = &state_;
    tracks_->setMinimumHeight(80);
    detail_->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("Documents, most disagreed first:")));
    layout->addWidget(queueList_, 1);
    layout->addWidget(summary_);
    layout->addWidget(tracks_, 1);
    layout->addWidget(detail_);
    layout->addWidget(new QLabel(tr("A accept · R reject · J/K next/previous contested · U undo")));
    connect(queueList_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) { openQueueEntry(queueList_->row(item)); });
    connect(&queueWatcher_, &QFutureWatcher<AdjudicationQueue>::finished, this, [this] {
        --busy_;
        queue_ = queueWatcher_.result();
        queueList_->clear();
        if (!queue_.error.isEmpty()) {
            Q_EMIT failed(queue_.error);
            return;
        }
        for (const auto& e : queue_.entries)
            queueList_->addItem(tr("%1 (row %2): B %3, %4 annotators")
                                    .arg(e.id)
                                    .arg(e.row + 1)
                                    .arg(e.meanB, 0, 'f', 3)
                                    .arg(e.annotators));
        Q_EMIT queueShown();
        if (!queue_.entries.empty())
            openQueueEntry(0);
    });
}

void AdjudicationView::openDataset(const QString& dataset, const QString& sourceFile)
{
    ++busy_;
    queueWatcher_.setFuture(session_->loadQueue(dataset, sourceFile));
}

void AdjudicationView::openQueueEntry(int index)
{
    if (index < 0 || std::size_t(index) >= queue_.entries.size())
        return;
    queueList_->setCurrentRow(index);
    position_ = 0;
    track(session_->open(queue_.entries[std::size_t(index)].row));
}

std::optional<std::size_t> AdjudicationView::current() const
{
    const auto contested = state_.plan.contested();
    if (contested.empty())
        return std::nullopt;
    return contested[std::min(position_, contested.size() - 1)];
}

void AdjudicationView::moveToContested(int direction)
{
    const auto n = state_.plan.contested().size();
    if (n == 0)
        return;
    position_ = std::size_t((std::int64_t(position_) + direction + std::int64_t(n)) % std::int64_t(n));
    show(state_);
}

void AdjudicationView::decide(bool accept)
{
    const auto at = current();
    if (!at || busy_ > 0)
        return; // one decision at a time: each is stored before the next
    const auto& b = state_.plan.boundaries[*at];
    track(session_->decide({b.offset, b.level}, accept));
    // The next contested boundary is the one to look at next.
    position_ = std::min(position_ + 1, state_.plan.contested().size() - 1);
}

void AdjudicationView::undo()
{
    if (busy_ > 0)
        return;
    // Back to the boundary the undone decision was about.
    for (auto it = state_.decisions.rbegin(); it != state_.decisions.rend(); ++it) {
        if (it->undone)
            continue;
        const auto contested = state_.plan.contested();
        for (std::size_t i = 0; i < contested.size(); ++i)
            if (state_.plan.boundaries[contested[i]].offset == it->boundary.offset)
                position_ = i;
        break;
    }
    track(session_->undo());
}

void AdjudicationView::track(QFuture<AdjudicationState> future)
{
    ++busy_;
    auto* watcher = new QFutureWatcher<AdjudicationState>(this);
    connect(watcher, &QFutureWatcher<AdjudicationState>::finished, this, [this, watcher] {
        --busy_;
        const auto result = watcher->result();
        watcher->deleteLater();
        if (!result.error.isEmpty()) {
            Q_EMIT failed(result.error);
            return;
        }
        show(result);
        Q_EMIT documentShown();
    });
    watcher->setFuture(future);
}

void AdjudicationView::show(const AdjudicationState& state)
{
    state_ = state;
    const auto contested = state_.plan.contested();
    std::size_t decided = 0;
    for (std::size_t i : contested)
        decided += analysis::verdictAt(state_.decisions, state_.plan.boundaries[i].offset).has_value();
    summary_->setText(tr("%1: %2 annotators, %3 contested boundaries, %4 decided")
                          .arg(state_.id)
                          .arg(state_.versions.size())
                          .arg(contested.size())
                          .arg(decided));
    tracks_->current = current();
    if (const auto at = current()) {
        const auto& b = state_.plan.boundaries[*at];
        const auto line = std::upper_bound(state_.lineStarts.begin(), state_.lineStarts.end(), b.offset) - state_.lineStarts.begin();
        const auto verdict = analysis::verdictAt(state_.decisions, b.offset);
        QStringList who;
        for (const auto& a : b.annotators)
            who << QString::fromStdString(a);
        detail_->setText(tr("Boundary %1 of %2 at line %3 (offset %4, level %5), marked by %6%7: %8")
                             .arg(position_ + 1)
                             .arg(contested.size())
                             .arg(line)
                             .arg(b.offset)
                             .arg(b.level)
                             .arg(who.join(QStringLiteral(", ")))
                             .arg(b.majority ? tr(" (the majority)") : QString())
                             .arg(!verdict ? tr("undecided") : *verdict ? tr("accepted") : tr("rejected")));
    } else {
        detail_->setText(tr("The annotators agree on every boundary of this document."));
    }
    tracks_->updateGeometry();
    tracks_->update();
}

bool AdjudicationView::event(QEvent* event)
{
    // The view's keys are its own while it has the focus: A and R here decide a contested
    // boundary, not the segmenter's suggestion, and Ctrl+Z undoes a decision, not the
    // document's last edit (the window's shortcuts).
    if (event->type() == QEvent::ShortcutOverride) {
        auto* key = static_cast<QKeyEvent*>(event);
        static const int keys[] = {Qt::Key_A, Qt::Key_R, Qt::Key_U, Qt::Key_J, Qt::Key_K, Qt::Key_Up, Qt::Key_Down};
        const bool plain = (key->modifiers() & ~Qt::KeypadModifier) == Qt::NoModifier;
        if (key->matches(QKeySequence::Undo) || (plain && std::find(std::begin(keys), std::end(keys), key->key()) != std::end(keys))) {
            event->accept();
            return true;
        }
    }
    return QWidget::event(event);
}

void AdjudicationView::keyPressEvent(QKeyEvent* event)
{
    if (event->matches(QKeySequence::Undo)) {
        undo();
        return;
    }
    switch (event->key()) {
    case Qt::Key_A: accept(); return;
    case Qt::Key_R: reject(); return;
    case Qt::Key_U: undo(); return;
    case Qt::Key_J:
    case Qt::Key_Down: moveToContested(1); return;
    case Qt::Key_K:
    case Qt::Key_Up: moveToContested(-1); return;
    default: QWidget::keyPressEvent(event);
    }
}

} // namespace blocklens::ui
