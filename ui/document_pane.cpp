#include "document_pane.hpp"

#include <QHBoxLayout>
#include <QScrollBar>
#include <QTextBlock>

namespace blocklens::ui {

DocumentPane::DocumentPane(QWidget* parent)
    : QWidget(parent), view_(new DocumentView), minimap_(new Minimap), tracksLayout_(new QHBoxLayout)
{
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(1);
    layout->addWidget(view_, 1);
    tracksLayout_->setSpacing(1);
    tracksLayout_->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(tracksLayout_);
    minimap_->setCaption(tr("edit"));
    layout->addWidget(minimap_);
    connect(minimap_, &Minimap::jumpRequested, this, &DocumentPane::scrollToCodePoint);
    connect(view_->verticalScrollBar(), &QScrollBar::valueChanged, this, &DocumentPane::updateVisibleRange);
    connect(view_, &QPlainTextEdit::updateRequest, this, [this](const QRect&, int dy) {
        if (dy)
            updateVisibleRange();
    });
}

void DocumentPane::showDocument(const Document& doc, std::vector<Boundary> boundaries)
{
    length_ = doc.length();
    minimap_->setDocumentLength(length_);
    for (auto* t : tracks_)
        t->setDocumentLength(length_);
    minimap_->setBoundaries(boundaries);
    view_->showDocument(doc, std::move(boundaries));
    updateVisibleRange();
}

void DocumentPane::setBoundaries(std::vector<Boundary> boundaries)
{
    minimap_->setBoundaries(boundaries);
    view_->setBoundaries(std::move(boundaries));
}

void DocumentPane::setTracks(const std::vector<Track>& tracks)
{
    while (tracks_.size() > tracks.size()) {
        delete tracks_.back();
        tracks_.pop_back();
    }
    while (tracks_.size() < tracks.size()) {
        auto* m = new Minimap;
        connect(m, &Minimap::jumpRequested, this, &DocumentPane::scrollToCodePoint);
        tracksLayout_->addWidget(m);
        tracks_.push_back(m);
    }
    for (std::size_t i = 0; i < tracks.size(); ++i) {
        tracks_[i]->setCaption(tracks[i].caption);
        tracks_[i]->setDocumentLength(length_);
        tracks_[i]->setBoundaries(tracks[i].boundaries);
    }
    updateVisibleRange();
}

void DocumentPane::scrollToCodePoint(std::size_t cp)
{
    QTextCursor c(view_->document());
    c.setPosition(std::min(view_->toUtf16(cp), view_->document()->characterCount() - 1));
    // Put the target line near the top third of the view, not at the very bottom.
    const QTextBlock block = c.block();
    view_->verticalScrollBar()->setValue(std::max(0, block.firstLineNumber() - 4));
    view_->setTextCursor(c);
    updateVisibleRange();
}

void DocumentPane::updateVisibleRange()
{
    if (!length_)
        return;
    const int first = view_->cursorForPosition(QPoint(0, 0)).position();
    const int last = view_->cursorForPosition(QPoint(view_->viewport()->width(), view_->viewport()->height())).position();
    const std::size_t a = view_->toCodePoint(first), b = view_->toCodePoint(last);
    minimap_->setVisibleRange(a, b);
    for (auto* t : tracks_)
        t->setVisibleRange(a, b);
}

} // namespace blocklens::ui
