#pragma once
// The document with its blocks: alternating tinted bands behind the text, a gutter with a marker
// at each boundary (thicker for coarser levels) and the block number. Built on QPlainTextEdit,
// which lays out and paints only the visible lines, so long documents stay smooth.
#include "document/document.hpp"
#include "segment/token_grid.hpp"
#include "theme.hpp"

#include <QPlainTextEdit>
#include <QRectF>

#include <vector>

class QPainter;

namespace blocklens::ui {

// A note drawn on a boundary, straddling the band between the two blocks (e.g. the share of
// attention the cut drops): `value` in [0, 1] sets the colour from calm to alarming.
struct BoundaryMark {
    std::size_t offset = 0; // code point of the boundary
    double value = 0;
    QString label;          // short, e.g. "12% cut"
    QString toolTip;
};

class DocumentView : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit DocumentView(QWidget* parent = nullptr);

    void showDocument(const Document& doc, std::vector<Boundary> boundaries);
    void setBoundaries(std::vector<Boundary> boundaries);
    const std::vector<Boundary>& boundaries() const { return boundaries_; }
    void clearDocument();

    // Index of the block containing code point `cp` (0 for the first block).
    int blockAt(std::size_t cp) const;
    // QTextDocument positions are UTF-16 units; BlockLens offsets are code points.
    int toUtf16(std::size_t cp) const;
    std::size_t toCodePoint(int utf16) const;

    // Code point where the text line at viewport y starts (for gutter clicks and drags).
    std::size_t lineStartAt(int y) const;
    void setCurrentBoundary(int index); // highlighted in the gutter; -1 for none
    // Proposed boundaries (a segmenter's cuts the current segmentation lacks), drawn dashed.
    void setSuggestions(std::vector<std::size_t> offsets);
    // Tokens of the document on screen: block sizes are shown in this unit, and token
    // boundaries are drawn as ticks when showTokenBoundaries is on.
    void setTokenGrid(std::shared_ptr<const segment::TokenGrid> grid);
    void setShowTokenBoundaries(bool show);
    bool showsTokenBoundaries() const { return showTokens_; }
    std::size_t blockTokens(int blockIndex) const; // 0 without a grid
    const std::vector<std::size_t>& suggestions() const { return suggestions_; }
    // Marks on boundaries (leakage); empty to remove. Offsets without a boundary are drawn too.
    void setBoundaryMarks(std::vector<BoundaryMark> marks);
    const std::vector<BoundaryMark>& boundaryMarks() const { return marks_; }
    QColor markColour(double value) const;

Q_SIGNALS:
    void gutterClicked(std::size_t lineStart);                  // on a line without a boundary
    void boundaryDragged(std::size_t from, std::size_t to);     // dropped on another line

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    class Gutter;
    class SizeStrip;
    void paintGutter(QPaintEvent* event);
    void paintSizeStrip(QPaintEvent* event);
    QFont sizeFont() const;
    QString blockSizeLabel(int blockIndex) const; // e.g. "270 tokens"; needs a grid
    int sizeStripWidth() const;                    // 0 without a grid
    void paintOverlays(QPaintEvent* event);
    void paintMarks(QPainter& p);
    bool viewportEvent(QEvent* event) override; // tooltips of marks
    int gutterWidth() const;
    void updateGutterGeometry();

    int boundaryOnLineAt(int y) const; // index of a boundary starting the line at y, -1 if none
    Gutter* gutter_;
    SizeStrip* sizes_;
    int currentBoundary_ = -1;
    std::vector<std::size_t> suggestions_;
    std::vector<BoundaryMark> marks_;
    std::vector<std::pair<QRectF, QString>> markRects_; // where marks were painted, for tooltips
    std::shared_ptr<const segment::TokenGrid> grid_;
    bool showTokens_ = false;
    Theme theme_;
    std::vector<Boundary> boundaries_;
    std::vector<std::size_t> astral_; // code-point offsets of characters outside the BMP
};

} // namespace blocklens::ui
