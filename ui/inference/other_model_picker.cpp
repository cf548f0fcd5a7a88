#include "inference/other_model_picker.hpp"

#include "inference/bundled_models.hpp"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>

namespace blocklens::ui {
namespace {

// The data of the last item, which opens a file dialog instead of naming a model.
const QString kBrowse = QStringLiteral("<browse>");

QString canonical(const QString& dir)
{
    const QString c = QFileInfo(dir).canonicalFilePath();
    return c.isEmpty() ? QDir::cleanPath(QFileInfo(dir).absoluteFilePath()) : c;
}

} // namespace

OtherModelPicker::OtherModelPicker(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Beside")));
    combo_ = new QComboBox;
    combo_->setObjectName(QStringLiteral("compareOtherModel"));
    // Not as wide as its longest name: the side by side's controls must fit a 1366 px screen.
    combo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    combo_->setMinimumContentsLength(14);
    combo_->setToolTip(tr("A second model whose block attention runs in a third column (e.g. the block-distilled demo model), "
                          "measured against this model's full attention. It must use the same tokenizer.json."));
    combo_->addItem(tr("No second model"), QString());
    for (const BundledModel& m : findBundledModels()) {
        combo_->addItem(m.name, m.directory);
        combo_->setItemData(combo_->count() - 1, m.summary.isEmpty() ? m.directory : m.summary + QStringLiteral("\n") + m.directory,
                            Qt::ToolTipRole);
    }
    combo_->addItem(tr("Compare with model…"), kBrowse);
    layout->addWidget(combo_);
    // activated: the user's choice only (setDirectory does not open a dialog).
    connect(combo_, &QComboBox::activated, this, [this](int index) {
        if (combo_->itemData(index).toString() == kBrowse)
            browse(current_);
        else
            current_ = index;
    });
    connect(combo_, &QComboBox::currentIndexChanged, this, &OtherModelPicker::changed);
}

QString OtherModelPicker::directory() const
{
    const QString d = combo_->currentData().toString();
    return d == kBrowse ? QString() : d;
}

int OtherModelPicker::indexOf(const QString& directory) const
{
    const QString wanted = canonical(directory);
    for (int i = 1; i < combo_->count(); ++i) {
        const QString d = combo_->itemData(i).toString();
        if (d != kBrowse && canonical(d) == wanted)
            return i;
    }
    return -1;
}

void OtherModelPicker::setDirectory(const QString& directory)
{
    int index = 0;
    if (!directory.trimmed().isEmpty()) {
        index = indexOf(directory);
        if (index < 0) { // a directory of the user's: listed before "Compare with model…"
            index = combo_->count() - 1;
            const QString dir = canonical(directory);
            combo_->insertItem(index, QFileInfo(dir).fileName(), dir);
            combo_->setItemData(index, dir, Qt::ToolTipRole);
        }
    }
    current_ = index;
    combo_->setCurrentIndex(index);
}

void OtherModelPicker::browse(int previous)
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Compare with model (a Hugging Face model directory)"),
                                                          directory());
    if (dir.isEmpty())
        combo_->setCurrentIndex(previous); // cancelled: the choice before
    else
        setDirectory(dir);
}

} // namespace blocklens::ui
