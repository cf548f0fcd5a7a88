#pragma once
// A strip showing the whole document: blocks as alternating bands scaled by length, boundaries
// as ticks (thicker for coarser levels), and the visible part as a frame. Click or drag to jump.
#include "document/document.hpp"
#include "theme.hpp"

#include <QWidget>

#include <vector>

namespace blocklens::ui {

class Minimap : public QWidget {
    Q_OBJECT
public:
    explicit Minimap(QWidget* parent = nullptr);

    void setCaption(const QString& caption); // a short name drawn at the top (e.g. "ref")
    QString caption() const { return caption_; }

    void setDocumentLength(std::size_t codePoints);
    void setBoundaries(std::vector<Boundary> boundaries);
    void setVisibleRange(std::size_t firstCp, std::size_t lastCp);
    QSize sizeHint() const override { return {34, 200}; }

Q_SIGNALS:
    void jumpRequested(std::size_t codePoint);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    double yOf(std::size_t cp) const;
    std::size_t cpAt(double y) const;

    Theme theme_;
    QString caption_;
    std::size_t length_ = 0;
    std::vector<Boundary> boundaries_;
    std::size_t visibleFirst_ = 0, visibleLast_ = 0;
};

} // namespace blocklens::ui
