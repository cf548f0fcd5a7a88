#pragma once
// The side by side's "Compare with model…" choice (issue 19): nothing, one of the bundled models
// (inference/bundled_models.hpp: e.g. the block-distilled demo model), or any model directory.
// The chosen model's block attention runs in a third column beside the loaded model's full and
// block attention, measured against the loaded model's full attention.
#include <QWidget>

class QComboBox;

namespace blocklens::ui {

class OtherModelPicker : public QWidget {
    Q_OBJECT
public:
    explicit OtherModelPicker(QWidget* parent = nullptr);

    QString directory() const;                   // empty: no second model
    void setDirectory(const QString& directory); // empty: none; a directory not listed is added to the list
    QComboBox* combo() const { return combo_; }

Q_SIGNALS:
    void changed();

private:
    void browse(int previous);
    int indexOf(const QString& directory) const; // -1 when not listed

    QComboBox* combo_;
    int current_ = 0; // the choice before "Compare with model…" opened the file dialog
};

} // namespace blocklens::ui
