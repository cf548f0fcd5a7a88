#include "inference/variant_picker.hpp"

#include "util/error.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QToolButton>

namespace blocklens::ui {
namespace {

const char* const kPlain = "block-cached";

} // namespace

VariantPicker::VariantPicker(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Block variant")));
    combo_ = new QComboBox;
    combo_->setObjectName(QStringLiteral("compareVariant"));
    combo_->setEditable(true);
    combo_->setInsertPolicy(QComboBox::NoInsert); // what is typed is used, not added to the presets
    // One preset per repair family at its usual setting (the sweep's middle values); any other
    // setting is typed.
    for (const char* preset : {kPlain, "block-cached+sink:bos", "block-cached+sink:4", "block-cached+recompute-first:16",
                               "block-cached+recompute-frac:0.15"})
        combo_->addItem(QString::fromLatin1(preset));
    combo_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    combo_->setToolTip(tr("The right column's attention: %1. sink: every block encoded after the first N tokens (or BOS); "
                          "recompute-first: the first k tokens of every block computed again with full attention; "
                          "recompute-frac: the fraction r of context tokens that deviate most computed again.")
                           .arg(QString::fromStdString(engine::attentionVariantSyntax())));
    layout->addWidget(combo_);
    plain_ = new QToolButton;
    plain_->setObjectName(QStringLiteral("compareVariantPlain"));
    plain_->setText(tr("Plain"));
    plain_->setToolTip(tr("Back to plain block-cached attention (no repair)"));
    layout->addWidget(plain_);
    connect(plain_, &QToolButton::clicked, this, &VariantPicker::setPlain);
    connect(combo_, &QComboBox::currentTextChanged, this, &VariantPicker::changed);
}

QString VariantPicker::text() const
{
    return combo_->currentText().trimmed();
}

void VariantPicker::setText(const QString& text)
{
    combo_->setEditText(text);
}

void VariantPicker::setPlain()
{
    combo_->setCurrentIndex(0);
    combo_->setEditText(QString::fromLatin1(kPlain));
}

std::optional<engine::AttentionVariant> VariantPicker::variant(QString* error) const
{
    const QString t = text();
    try {
        engine::AttentionVariant v = engine::parseAttentionVariant(t.toStdString());
        if (v.mode != engine::AttentionMode::BlockCached)
            throw Error("the right column runs block-cached or one of its repairs, not '" + t.toStdString() + "'");
        return v;
    } catch (const Error& e) {
        if (error)
            *error = tr("Block variant: %1").arg(QString::fromStdString(e.message()));
        return std::nullopt;
    }
}

} // namespace blocklens::ui
