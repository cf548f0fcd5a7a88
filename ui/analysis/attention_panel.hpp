#pragma once
// The heatmap dock: where full attention goes between the blocks of the document on screen, for
// a chosen layer and head (or the mean over heads / layers), with a colour bar, a hover readout
// and click-to-jump; double-click a query row to zoom into its tokens (token x block view). Below
// it, the leakage of every cut (the share of full-attention mass block attention drops there) for
// the current boundaries and, side by side, for a proposal such as a segmenter's cuts.
// Everything shown is recomputed from the capture on the UI thread in microseconds (sums over a
// [layers, heads, bins, bins] capture); the model run itself happens on the inference worker.
#include "analysis/attention_analysis.hpp"

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QSplitter;
class QTableView;

namespace blocklens::ui {

class ContextBanner;
class HeatmapView;
class LeakageModel;

class AttentionPanel : public QWidget {
    Q_OBJECT
public:
    explicit AttentionPanel(QWidget* parent = nullptr);

    void setAnalysis(AttentionAnalysis analysis);
    const AttentionAnalysis& analysis() const { return a_; }
    void clear(const QString& message = {});
    void setStatus(const QString& message); // "Running the model…", errors
    void setRunning(bool running);          // a capture is under way: Stop shown, Analyse off
    // The banner over the heatmap for an input past the model's trained context (empty: hidden);
    // shown when a capture starts (it may run for minutes) and again with its result.
    void showContextWarning(const QString& warning);
    bool isRunning() const;
    QString status() const;

    // New current boundaries (after an edit) as token starts. Returns false when a start is not
    // one of the capture's bins: the numbers would need a new run (the caller asks the worker).
    bool setCurrentStarts(const std::vector<std::int64_t>& starts);
    // The segmentation compared with the current one (empty starts: no comparison). Returns false,
    // and keeps the previous proposal, when a start is not one of the capture's bins.
    bool setProposal(const NamedSegmentation& proposal);

    void setSelection(const analysis::HeadSelection& selection);
    analysis::HeadSelection selection() const;
    void showProposal(bool proposal);       // the heatmap shows the proposal's blocks
    bool showsProposal() const { return showProposal_; }
    void zoomInto(int queryBlock);           // token x block view of one query block
    void zoomOut();
    int zoomBlock() const { return zoom_; }

    // What is on screen, for the main window's markers and for tests.
    const analysis::BlockMatrix& blockMatrix() const { return matrix_; }
    const analysis::LeakageComparison& leakage() const;
    HeatmapView* heatmap() const { return heatmap_; }
    LeakageModel* leakageModel() const { return leakageModel_; }
    QTableView* leakageTable() const { return table_; }
    QString readout() const;                 // the hover readout's text
    QString readoutFor(int row, int col) const;
    QString summary() const;

Q_SIGNALS:
    void jumpRequested(std::size_t offset); // code point in the document
    void analyseRequested();                // the user asks for a (new) capture
    void cancelRequested();                 // the user stops the capture under way
    void leakageChanged();                  // markers on the document need redrawing

protected:
    void resizeEvent(QResizeEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void fitLeakageColumns();
    void recompute();
    void rebuildSelectors();
    void updateHeatmap();
    const std::vector<std::int64_t>& shownStarts() const;

    AttentionAnalysis a_;
    analysis::BlockMatrix matrix_;
    analysis::TokenBlockMatrix tokens_;
    bool showProposal_ = false;
    int zoom_ = -1;
    QLabel* title_;
    ContextBanner* contextBanner_ = nullptr; // shown past the model's max_position_embeddings
    QComboBox* layer_;
    QComboBox* head_;
    QComboBox* shown_;
    QPushButton* back_;
    QPushButton* analyse_;
    QPushButton* stop_;
    HeatmapView* heatmap_;
    QLabel* readout_;
    QLabel* summary_;
    QLabel* status_;
    QSplitter* split_;
    QTableView* table_;
    LeakageModel* leakageModel_;
    bool updating_ = false;
};

} // namespace blocklens::ui
