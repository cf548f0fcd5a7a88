#pragma once
// The document view with its overview strips: parallel tracks of other segmentations to compare
// (reference, other segmenters) and a minimap of the segmentation being edited. All strips
// follow the view's scrolling and jump the view when clicked.
#include "document_view.hpp"
#include "minimap.hpp"

#include <QWidget>

#include <vector>

class QHBoxLayout;

namespace blocklens::ui {

struct Track {
    QString caption; // short: "ref", "fixed", "struct"
    std::vector<Boundary> boundaries;
};

class DocumentPane : public QWidget {
    Q_OBJECT
public:
    explicit DocumentPane(QWidget* parent = nullptr);

    DocumentView* view() const { return view_; }
    Minimap* minimap() const { return minimap_; }
    const std::vector<Minimap*>& tracks() const { return tracks_; }

    void showDocument(const Document& doc, std::vector<Boundary> boundaries);
    void setBoundaries(std::vector<Boundary> boundaries);
    void setTracks(const std::vector<Track>& tracks);
    void scrollToCodePoint(std::size_t cp);

private:
    void updateVisibleRange();

    DocumentView* view_;
    Minimap* minimap_;
    std::vector<Minimap*> tracks_;
    QHBoxLayout* tracksLayout_;
    std::size_t length_ = 0;
};

} // namespace blocklens::ui
