#pragma once
// The banner over a view whose input is longer than the model's trained context (config.json's
// max_position_embeddings): the side by side and the heatmap show the same words
// (engine::trainedContextWarning's sentence: how far past, and what the numbers then mean) in the
// same warning colours, from the moment the run starts until the next one.
#include <QLabel>

namespace blocklens::ui {

class ContextBanner : public QLabel {
    Q_OBJECT
public:
    explicit ContextBanner(const QString& objectName, QWidget* parent = nullptr);

    // `warning`: engine::trainedContextWarning's sentence; empty hides the banner.
    void setWarning(const QString& warning);
};

} // namespace blocklens::ui
