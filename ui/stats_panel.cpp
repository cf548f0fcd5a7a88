#include "stats_panel.hpp"

#include "document/stats.hpp"

#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLocale>

namespace blocklens::ui {

StatsPanel::StatsPanel(QWidget* parent) : QWidget(parent), form_(new QFormLayout(this))
{
    form_->setContentsMargins(12, 12, 12, 12);
    form_->setHorizontalSpacing(16);
    form_->setVerticalSpacing(6);
    form_->setLabelAlignment(Qt::AlignLeft);
    addRow(QStringLiteral("source"), tr("Source"));
    addRow(QStringLiteral("kind"), tr("Kind"));
    addRow(QStringLiteral("codePoints"), tr("Characters"));
    addRow(QStringLiteral("lines"), tr("Lines"));
    addRow(QStringLiteral("paragraphs"), tr("Paragraphs"));
    addRow(QStringLiteral("words"), tr("Words"));
    addRow(QStringLiteral("blocks"), tr("Blocks"));
    addRow(QStringLiteral("hash"), tr("SHA-256"));
    clear();
}

QLabel* StatsPanel::addRow(const QString& key, const QString& label)
{
    auto* value = new QLabel(this);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    value->setWordWrap(true);
    auto* name = new QLabel(label, this);
    name->setForegroundRole(QPalette::PlaceholderText);
    form_->addRow(name, value);
    rows_.emplace_back(key, value);
    return value;
}

QString StatsPanel::valueText(const QString& key) const
{
    for (const auto& [k, label] : rows_)
        if (k == key)
            return label->text();
    return {};
}

void StatsPanel::clear()
{
    for (auto& [k, label] : rows_)
        label->setText(QStringLiteral("–"));
}

void StatsPanel::setBlockCount(std::size_t blocks)
{
    for (auto& [k, label] : rows_)
        if (k == QLatin1String("blocks"))
            label->setText(QLocale().toString(static_cast<qulonglong>(blocks)));
}

void StatsPanel::showDocument(const Document& doc, std::size_t blocks)
{
    const auto s = computeStats(doc);
    const QLocale locale;
    auto set = [&](const char* key, const QString& text) {
        for (auto& [k, label] : rows_)
            if (k == QLatin1String(key))
                label->setText(text);
    };
    // A file: its name (the path is in the tooltip). A dataset row: its source in full
    // ("mixed/d/26" names a document, its last part alone does not), else its id.
    const QString source = QString::fromStdString(doc.meta().source);
    const bool datasetRow = !source.isEmpty() && !QFileInfo::exists(source); // a dataset's source names no file here
    const QString shown = source.isEmpty() ? QString::fromStdString(doc.meta().id)
                          : datasetRow     ? source
                                           : source.section(QLatin1Char('/'), -1);
    set("source", shown);
    for (auto& [k, label] : rows_)
        if (k == QLatin1String("source"))
            label->setToolTip(datasetRow ? tr("%1 (id %2)").arg(source, QString::fromStdString(doc.meta().id)) : source);
    QString kind = QString::fromUtf8(toString(doc.meta().kind).data());
    if (!doc.meta().codeLanguage.empty())
        kind += QStringLiteral(" (%1)").arg(QString::fromStdString(doc.meta().codeLanguage));
    if (!doc.meta().category.empty())
        kind = QStringLiteral("%1 · %2").arg(QString::fromStdString(doc.meta().category), QString::fromStdString(doc.meta().variant));
    set("kind", kind);
    set("codePoints", locale.toString(static_cast<qulonglong>(s.codePoints)));
    set("lines", locale.toString(static_cast<qulonglong>(s.lines)));
    set("paragraphs", locale.toString(static_cast<qulonglong>(s.paragraphs)));
    set("words", locale.toString(static_cast<qulonglong>(s.words)));
    set("blocks", locale.toString(static_cast<qulonglong>(blocks)));
    set("hash", QString::fromStdString(doc.contentHash()).left(16) + QStringLiteral("…"));
}

} // namespace blocklens::ui
