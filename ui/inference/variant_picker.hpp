#pragma once
// The block-attention variant of the side by side's right column (issue 18): plain block-cached
// or one of its repairs (engine/repairs.hpp: sink:N|bos, recompute-first:k, recompute-frac:r),
// typed or picked from presets, with plain block-cached one click away (the Plain button). The
// text is parsed by core's parseAttentionVariant, so the app accepts exactly what the CLI does.
#include "engine/repairs.hpp"

#include <QWidget>

#include <optional>

class QComboBox;
class QToolButton;

namespace blocklens::ui {

class VariantPicker : public QWidget {
    Q_OBJECT
public:
    explicit VariantPicker(QWidget* parent = nullptr);

    QString text() const;
    void setText(const QString& text); // also a bad one: the error shows when it is used
    void setPlain();                   // block-cached, no repair
    // The variant the text names, or nullopt and a one-line error naming the setting and the rule
    // (an unknown variant, k < 0, r outside [0, 1], a mode other than block-cached).
    std::optional<engine::AttentionVariant> variant(QString* error) const;

Q_SIGNALS:
    void changed(); // the text was edited or another preset chosen

private:
    QComboBox* combo_;
    QToolButton* plain_;
};

} // namespace blocklens::ui
