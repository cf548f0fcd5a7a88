#include "document_view.hpp"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QTextBlock>
#include <QToolTip>

#include <algorithm>

namespace blocklens::ui {

// The strip left of the text: paints block markers; click a line to split there, drag a
// marker to another line to move that boundary.
class DocumentView::Gutter : public QWidget {
public:
    explicit Gutter(DocumentView* view) : QWidget(view), view_(view)
    {
        setCursor(Qt::PointingHandCursor);
        setToolTip(tr("Click a line to start a block there; drag a marker to move a boundary"));
    }
    QSize sizeHint() const override { return {view_->gutterWidth(), 0}; }

protected:
    void paintEvent(QPaintEvent* event) override { view_->paintGutter(event); }
    void mousePressEvent(QMouseEvent* event) override
    {
        dragFrom_ = view_->boundaryOnLineAt(static_cast<int>(event->position().y()));
        pressY_ = static_cast<int>(event->position().y());
    }
    void mouseReleaseEvent(QMouseEvent* event) override
    {
        const int y = static_cast<int>(event->position().y());
        const std::size_t target = view_->lineStartAt(y);
        if (dragFrom_ >= 0) {
            const std::size_t from = view_->boundaries_[static_cast<std::size_t>(dragFrom_)].offset;
            if (std::abs(y - pressY_) > 3 && target != from && target > 0)
                Q_EMIT view_->boundaryDragged(from, target);
        } else if (target > 0) {
            Q_EMIT view_->gutterClicked(target);
        }
        dragFrom_ = -1;
    }

private:
    DocumentView* view_;
    int dragFrom_ = -1;
    int pressY_ = 0;
};

// The strip right of the text: each block's size, on the line where the block starts. Beside the
// text, never over it (issue 15: labels drawn over long lines).
class DocumentView::SizeStrip : public QWidget {
public:
    explicit SizeStrip(DocumentView* view) : QWidget(view), view_(view)
    {
        setToolTip(tr("Each block's size, at the line where it starts"));
    }

protected:
    void paintEvent(QPaintEvent* event) override { view_->paintSizeStrip(event); }

private:
    DocumentView* view_;
};

DocumentView::DocumentView(QWidget* parent)
    : QPlainTextEdit(parent), gutter_(new Gutter(this)), sizes_(new SizeStrip(this)), theme_(Theme::fromPalette(palette()))
{
    setReadOnly(true);
    setFont(documentFont());
    setLineWrapMode(QPlainTextEdit::WidgetWidth);
    setFrameShape(QFrame::NoFrame);
    document()->setDocumentMargin(10);
    updateGutterGeometry(); // the size strip stays hidden until there is a token grid
    connect(this, &QPlainTextEdit::updateRequest, this, [this](const QRect& rect, int dy) {
        if (dy) {
            gutter_->scroll(0, dy);
            sizes_->update();
        } else {
            gutter_->update(0, rect.y(), gutter_->width(), rect.height());
            sizes_->update(0, rect.y(), sizes_->width(), rect.height());
        }
    });
}

void DocumentView::showDocument(const Document& doc, std::vector<Boundary> boundaries)
{
    astral_.clear();
    const std::string& text = doc.text();
    std::size_t cp = 0;
    for (std::size_t i = 0; i < text.size(); ++cp) {
        if (static_cast<unsigned char>(text[i]) >= 0xF0)
            astral_.push_back(cp);
        i += utf8::sequenceLength(static_cast<unsigned char>(text[i]));
    }
    grid_.reset(); // the grid of the previous document; the owner sets this one's
    // Source code keeps its columns: a fixed-pitch font and no soft wrap (issue 15).
    const bool code = doc.meta().kind == DocumentKind::SourceCode;
    setFont(code ? monospaceFont() : documentFont());
    setLineWrapMode(code ? QPlainTextEdit::NoWrap : QPlainTextEdit::WidgetWidth);
    setPlainText(QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())));
    setBoundaries(std::move(boundaries));
    moveCursor(QTextCursor::Start);
}

void DocumentView::clearDocument()
{
    astral_.clear();
    boundaries_.clear();
    clear();
}

void DocumentView::setBoundaries(std::vector<Boundary> boundaries)
{
    boundaries_ = std::move(boundaries);
    viewport()->update();
    gutter_->update();
    sizes_->update();
}

int DocumentView::toUtf16(std::size_t cp) const
{
    const auto before = std::lower_bound(astral_.begin(), astral_.end(), cp) - astral_.begin();
    return static_cast<int>(cp + static_cast<std::size_t>(before));
}

std::size_t DocumentView::toCodePoint(int utf16) const
{
    // Each astral character before the position took two UTF-16 units.
    std::size_t lo = 0, hi = astral_.size();
    while (lo < hi) {
        const std::size_t mid = (lo + hi) / 2;
        if (static_cast<int>(astral_[mid] + mid) < utf16) lo = mid + 1;
        else hi = mid;
    }
    return static_cast<std::size_t>(utf16) - lo;
}

int DocumentView::blockAt(std::size_t cp) const
{
    const auto it = std::upper_bound(boundaries_.begin(), boundaries_.end(), cp,
                                     [](std::size_t v, const Boundary& b) { return v < b.offset; });
    return static_cast<int>(it - boundaries_.begin());
}

std::size_t DocumentView::lineStartAt(int y) const
{
    const QTextCursor c = cursorForPosition(QPoint(0, y));
    return toCodePoint(c.block().position());
}

int DocumentView::boundaryOnLineAt(int y) const
{
    const QTextBlock block = cursorForPosition(QPoint(0, y)).block();
    const std::size_t start = toCodePoint(block.position());
    const std::size_t end = toCodePoint(block.position() + block.length());
    const auto it = std::lower_bound(boundaries_.begin(), boundaries_.end(), start,
                                     [](const Boundary& b, std::size_t v) { return b.offset < v; });
    return it != boundaries_.end() && it->offset < end ? static_cast<int>(it - boundaries_.begin()) : -1;
}

void DocumentView::setSuggestions(std::vector<std::size_t> offsets)
{
    suggestions_ = std::move(offsets);
    viewport()->update();
    gutter_->update();
}

void DocumentView::setTokenGrid(std::shared_ptr<const segment::TokenGrid> grid)
{
    grid_ = std::move(grid);
    updateGutterGeometry(); // the size strip's width follows the unit
    viewport()->update();
    sizes_->update();
}

void DocumentView::setShowTokenBoundaries(bool show)
{
    showTokens_ = show;
    viewport()->update();
}

std::size_t DocumentView::blockTokens(int blockIndex) const
{
    if (!grid_ || blockIndex < 0 || blockIndex > static_cast<int>(boundaries_.size()))
        return 0;
    const auto i = static_cast<std::size_t>(blockIndex);
    const std::size_t begin = i == 0 ? 0 : boundaries_[i - 1].offset;
    const std::size_t end = i < boundaries_.size() ? boundaries_[i].offset : grid_->textLength();
    return grid_->count(begin, std::min(end, grid_->textLength()));
}

void DocumentView::setCurrentBoundary(int index)
{
    currentBoundary_ = index;
    gutter_->update();
}

int DocumentView::gutterWidth() const
{
    return fontMetrics().horizontalAdvance(QStringLiteral("#000")) + 22;
}

QFont DocumentView::sizeFont() const
{
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    return small;
}

QString DocumentView::blockSizeLabel(int blockIndex) const
{
    // "1 token", "270 tokens" (or approx-tokens without a model's tokenizer).
    return QString::fromStdString(segment::formatTokenCount(blockTokens(blockIndex), grid_->unit()));
}

int DocumentView::sizeStripWidth() const
{
    if (!grid_)
        return 0;
    // Room for the largest block's label (at least five digits).
    const QFontMetrics fm(sizeFont());
    const std::size_t widest = std::max<std::size_t>(99999, grid_->size());
    return fm.horizontalAdvance(tr("%1 %2").arg(widest).arg(QString::fromStdString(grid_->unit()))) + 14;
}

void DocumentView::updateGutterGeometry()
{
    const QRect cr = contentsRect();
    const int right = sizeStripWidth();
    gutter_->setGeometry(QRect(cr.left(), cr.top(), gutterWidth(), cr.height()));
    setViewportMargins(gutterWidth(), 0, right, 0);
    // Between the text and the vertical scroll bar.
    sizes_->setGeometry(QRect(viewport()->geometry().right() + 1, cr.top(), right, cr.height()));
    sizes_->setVisible(right > 0);
}

void DocumentView::paintSizeStrip(QPaintEvent* event)
{
    QPainter p(sizes_);
    p.fillRect(event->rect(), theme_.gutterBackground);
    if (!grid_)
        return;
    p.setFont(sizeFont());
    p.setPen(theme_.gutterText);
    const QFontMetricsF fm(sizeFont());
    const QPointF offset = contentOffset();
    for (QTextBlock block = firstVisibleBlock(); block.isValid(); block = block.next()) {
        const QRectF geometry = blockBoundingGeometry(block).translated(offset);
        if (geometry.top() > event->rect().bottom())
            break;
        const std::size_t startCp = toCodePoint(block.position());
        const bool startsBlock = startCp == 0 || std::binary_search(boundaries_.begin(), boundaries_.end(), Boundary{startCp, 0},
                                                                    [](const Boundary& a, const Boundary& b) { return a.offset < b.offset; });
        if (!startsBlock)
            continue;
        // Level with the block's first text line.
        const double lineHeight = block.layout()->lineCount() > 0 ? block.layout()->lineAt(0).height() : fm.height();
        p.drawText(QRectF(0, geometry.top() + (lineHeight - fm.height()) / 2, sizes_->width() - 6, fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, blockSizeLabel(blockAt(startCp)));
    }
}

void DocumentView::resizeEvent(QResizeEvent* event)
{
    QPlainTextEdit::resizeEvent(event);
    updateGutterGeometry();
}

void DocumentView::changeEvent(QEvent* event)
{
    QPlainTextEdit::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) {
        theme_ = Theme::fromPalette(palette());
        viewport()->update();
        gutter_->update();
    }
}

void DocumentView::paintEvent(QPaintEvent* event)
{
    // Bands first, then the text on top of them.
    QPainter p(viewport());
    const QRect area = event->rect();
    const QPointF offset = contentOffset();
    for (QTextBlock block = firstVisibleBlock(); block.isValid(); block = block.next()) {
        const QRectF geometry = blockBoundingGeometry(block).translated(offset);
        if (geometry.top() > area.bottom())
            break;
        const QTextLayout* layout = block.layout();
        for (int i = 0; i < layout->lineCount(); ++i) {
            const QTextLine line = layout->lineAt(i);
            const int lineStart = block.position() + line.textStart();
            const int blockIndex = blockAt(toCodePoint(lineStart));
            QRectF r(0, geometry.top() + line.y(), viewport()->width(), line.height());
            p.fillRect(r, blockIndex % 2 ? theme_.bandB : theme_.bandA);
        }
    }
    // A boundary inside a line gets a short vertical tick where the new block starts.
    p.setPen(QPen(theme_.boundary, 2));
    const int first = cursorForPosition(QPoint(0, 0)).position();
    const int last = cursorForPosition(QPoint(viewport()->width(), viewport()->height())).position();
    for (const auto& b : boundaries_) {
        const int pos = toUtf16(b.offset);
        if (pos < first || pos > last)
            continue;
        QTextCursor c(document());
        c.setPosition(pos);
        const QRect r = cursorRect(c);
        if (c.positionInBlock() != 0)
            p.drawLine(r.left(), r.top(), r.left(), r.bottom());
    }
    p.end();
    QPlainTextEdit::paintEvent(event);
    paintOverlays(event);
}

void DocumentView::setBoundaryMarks(std::vector<BoundaryMark> marks)
{
    marks_ = std::move(marks);
    std::sort(marks_.begin(), marks_.end(), [](const BoundaryMark& a, const BoundaryMark& b) { return a.offset < b.offset; });
    viewport()->update();
}

QColor DocumentView::markColour(double value) const
{
    // Calm (teal) to alarming (red) through amber; saturated enough for both themes.
    const double t = std::clamp(value, 0.0, 1.0);
    const QColor a(0x2a, 0x9d, 0x8f), b(0xe9, 0xa2, 0x3b), c(0xd6, 0x28, 0x28);
    const QColor& lo = t < 0.5 ? a : b;
    const QColor& hi = t < 0.5 ? b : c;
    const double f = t < 0.5 ? t * 2 : (t - 0.5) * 2;
    return QColor::fromRgbF(static_cast<float>(lo.redF() + (hi.redF() - lo.redF()) * f),
                            static_cast<float>(lo.greenF() + (hi.greenF() - lo.greenF()) * f),
                            static_cast<float>(lo.blueF() + (hi.blueF() - lo.blueF()) * f));
}

void DocumentView::paintMarks(QPainter& p)
{
    // Each mark sits on the line where its block starts, straddling the band edge, left of the
    // block's token count.
    markRects_.clear();
    if (marks_.empty())
        return;
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    small.setBold(true);
    p.setFont(small);
    const QFontMetricsF fm(small);
    const int first = cursorForPosition(QPoint(0, 0)).position();
    const int last = cursorForPosition(QPoint(viewport()->width(), viewport()->height())).position();
    const double reserve = 8; // the block sizes are outside the viewport, in their own strip
    for (const auto& m : marks_) {
        const int pos = toUtf16(m.offset);
        if (pos < first || pos > last)
            continue;
        QTextCursor c(document());
        c.setPosition(std::min(pos, document()->characterCount() - 1));
        const QRect line = cursorRect(c);
        const double w = fm.horizontalAdvance(m.label) + 14, h = fm.height() + 2;
        const QRectF pill(viewport()->width() - reserve - w, line.top() - h / 2, w, h);
        const QColor colour = markColour(m.value);
        p.setPen(Qt::NoPen);
        p.setBrush(colour);
        p.drawRoundedRect(pill, h / 2, h / 2);
        p.setPen(QPen(colour, 2));
        p.drawLine(QPointF(pill.left() - 24, line.top()), QPointF(pill.left(), line.top()));
        p.setPen(Qt::white);
        p.drawText(pill, Qt::AlignCenter, m.label);
        markRects_.emplace_back(pill, m.toolTip);
    }
}

bool DocumentView::viewportEvent(QEvent* e)
{
    if (e->type() == QEvent::ToolTip) {
        const auto* help = static_cast<QHelpEvent*>(e);
        for (const auto& [rect, tip] : markRects_)
            if (rect.contains(help->pos()) && !tip.isEmpty()) {
                QToolTip::showText(help->globalPos(), tip, viewport());
                return true;
            }
    }
    return QPlainTextEdit::viewportEvent(e);
}

void DocumentView::paintOverlays(QPaintEvent* event)
{
    // On top of the text: leakage marks and token ticks (block sizes are in the strip beside it).
    if (!marks_.empty()) {
        QPainter marks(viewport());
        marks.setRenderHint(QPainter::Antialiasing);
        paintMarks(marks);
    }
    if (!grid_)
        return;
    QPainter p(viewport());
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    p.setFont(small);
    const QPointF offset = contentOffset();
    for (QTextBlock block = firstVisibleBlock(); block.isValid(); block = block.next()) {
        const QRectF geometry = blockBoundingGeometry(block).translated(offset);
        if (geometry.top() > event->rect().bottom())
            break;
        if (!showTokens_)
            continue;
        const QTextLayout* layout = block.layout();
        p.setPen(QPen(theme_.accent, 1));
        for (int i = 0; i < layout->lineCount(); ++i) {
            const QTextLine line = layout->lineAt(i);
            const std::size_t a = toCodePoint(block.position() + line.textStart());
            const std::size_t b = toCodePoint(block.position() + line.textStart() + line.textLength());
            const double top = geometry.top() + line.y() + line.height() * 0.55;
            for (std::size_t t = grid_->tokensBefore(a); t < grid_->size() && grid_->tokenBegin(t) < b; ++t) {
                const int pos = toUtf16(grid_->tokenBegin(t)) - block.position();
                const double x = offset.x() + layout->position().x() + line.cursorToX(pos);
                p.drawLine(QPointF(x, top), QPointF(x, geometry.top() + line.y() + line.height() - 1));
            }
        }
    }
}

void DocumentView::paintGutter(QPaintEvent* event)
{
    QPainter p(gutter_);
    p.fillRect(event->rect(), theme_.gutterBackground);
    p.setFont(font());
    const QPointF offset = contentOffset();
    const int w = gutter_->width();
    for (QTextBlock block = firstVisibleBlock(); block.isValid(); block = block.next()) {
        const QRectF geometry = blockBoundingGeometry(block).translated(offset);
        if (geometry.top() > event->rect().bottom())
            break;
        const std::size_t startCp = toCodePoint(block.position());
        const std::size_t endCp = toCodePoint(block.position() + block.length());
        // The boundary (if any) that starts a block on this text line.
        const auto it = std::lower_bound(boundaries_.begin(), boundaries_.end(), startCp,
                                         [](const Boundary& b, std::size_t v) { return b.offset < v; });
        const bool startsBlock = (startCp == 0 && block.position() == 0) || (it != boundaries_.end() && it->offset < endCp);
        const auto sit = std::lower_bound(suggestions_.begin(), suggestions_.end(), startCp);
        if (sit != suggestions_.end() && *sit < endCp) {
            // A suggested boundary: a dashed marker the annotator can accept (A) or reject (R).
            p.setPen(QPen(theme_.accent, 2, Qt::DashLine, Qt::FlatCap));
            p.drawLine(QPointF(4, geometry.top() + 1), QPointF(w - 4, geometry.top() + 1));
            p.drawText(QRectF(2, geometry.top(), w - 10, fontMetrics().height()), Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("+"));
        }
        if (!startsBlock)
            continue;
        const int level = startCp == 0 ? 1 : it->level;
        const double thickness = level <= 1 ? 4.0 : level == 2 ? 2.5 : 1.5;
        const double y = geometry.top();
        const bool current = startCp != 0 && static_cast<int>(it - boundaries_.begin()) == currentBoundary_;
        const QColor colour = current ? theme_.accent : theme_.boundary;
        p.setPen(QPen(colour, thickness, Qt::SolidLine, Qt::FlatCap));
        p.drawLine(QPointF(current ? 2 : w - 6, y + thickness / 2), QPointF(w, y + thickness / 2));
        p.fillRect(QRectF(w - 3, y, 3, geometry.height()), colour);
        p.setPen(theme_.gutterText);
        const int index = startCp == 0 ? 0 : blockAt(it->offset);
        p.drawText(QRectF(2, y, w - 10, fontMetrics().height()), Qt::AlignRight | Qt::AlignVCenter,
                   QStringLiteral("#%1").arg(index + 1));
    }
}

} // namespace blocklens::ui
