#include "experiments/run_details.hpp"

#include "models/runs_model.hpp"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

namespace blocklens::ui {
namespace {

QString jsonValue(const nlohmann::json& v)
{
    if (v.is_null())
        return QStringLiteral("–");
    if (v.is_number_integer())
        return QString::number(v.get<long long>());
    if (v.is_number())
        return formatExact(v.get<double>());
    if (v.is_string())
        return QString::fromStdString(v.get<std::string>());
    return QString::fromStdString(v.dump());
}

} // namespace

std::vector<RunField> runFields(const store::RunRecord& r, const std::map<store::Id, store::DocumentInfo>& documents)
{
    std::vector<RunField> out;
    auto add = [&](const QString& name, const QString& value) { out.push_back({name, value}); };
    auto num = [&](const QString& name, const std::optional<double>& v) { add(name, v ? formatExact(*v) : QStringLiteral("–")); };
    auto count = [&](const QString& name, const std::optional<std::int64_t>& v) {
        add(name, v ? QString::number(*v) : QStringLiteral("–"));
    };
    add(QObject::tr("run"), QString::number(r.id));
    add(QObject::tr("recorded"), QString::fromStdString(r.createdAt));
    add(QObject::tr("model"), QString::fromStdString(r.modelName));
    add(QObject::tr("model fingerprint"), QString::fromStdString(r.modelHash));
    add(QObject::tr("tokenizer"), QString::fromStdString(r.tokenizerHash));
    add(QObject::tr("attention mode"), QString::fromStdString(r.attentionMode));
    add(QObject::tr("device"), QString::fromStdString(r.device));
    add(QObject::tr("dtype"), QString::fromStdString(r.dtype));
    add(QObject::tr("document"), runDocument(r, documents));
    add(QObject::tr("segmenter"), runSegmenter(r));
    count(QObject::tr("tokens"), r.tokens);
    count(QObject::tr("blocks"), r.blocks);
    num(QObject::tr("TTFT (ms)"), r.ttftMs);
    num(QObject::tr("prefill (ms)"), r.prefillMs);
    num(QObject::tr("prefill FLOPs"), r.flops);
    count(QObject::tr("KV bytes"), r.kvBytes);
    count(QObject::tr("cache hits"), r.cacheHits);
    count(QObject::tr("cache misses"), r.cacheMisses);
    num(QObject::tr("mean KL (nats)"), r.logitKl);
    num(QObject::tr("top-1 agreement"), r.top1Agreement);
    const auto divergence = nlohmann::json::parse(r.divergence, nullptr, false);
    if (divergence.is_object())
        for (const auto& [key, value] : divergence.items())
            if (key != "segmenter")
                add(QObject::tr("divergence: %1").arg(QString::fromStdString(key)), jsonValue(value));
    const auto software = nlohmann::json::parse(r.software, nullptr, false);
    if (software.is_object())
        for (const auto& [key, value] : software.items())
            add(QObject::tr("software: %1").arg(QString::fromStdString(key)), jsonValue(value));
    const auto config = nlohmann::json::parse(r.modelConfig, nullptr, false);
    if (config.is_object())
        for (const auto& [key, value] : config.items())
            add(QObject::tr("config: %1").arg(QString::fromStdString(key)), jsonValue(value));
    return out;
}

RunDetails::RunDetails(QWidget* parent) : QWidget(parent), title_(new QLabel), table_(new QTableWidget(0, 2))
{
    setObjectName(QStringLiteral("runDetails"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    QFont bold = title_->font();
    bold.setBold(true);
    title_->setFont(bold);
    layout->addWidget(title_);
    table_->setHorizontalHeaderLabels({tr("Field"), tr("Value")});
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setAlternatingRowColors(true);
    layout->addWidget(table_, 1);
    clear();
}

void RunDetails::clear()
{
    title_->setText(tr("Select a run to see all its numbers"));
    table_->setRowCount(0);
}

void RunDetails::showRun(const store::RunRecord& run, const std::map<store::Id, store::DocumentInfo>& documents)
{
    title_->setText(tr("Run %1 · %2 · %3").arg(run.id).arg(QString::fromStdString(run.modelName), QString::fromStdString(run.attentionMode)));
    const auto fields = runFields(run, documents);
    table_->setRowCount(static_cast<int>(fields.size()));
    for (std::size_t i = 0; i < fields.size(); ++i) {
        table_->setItem(static_cast<int>(i), 0, new QTableWidgetItem(fields[i].name));
        auto* v = new QTableWidgetItem(fields[i].value);
        v->setToolTip(fields[i].value);
        table_->setItem(static_cast<int>(i), 1, v);
    }
}

QString RunDetails::value(const QString& field) const
{
    for (int r = 0; r < table_->rowCount(); ++r)
        if (table_->item(r, 0)->text() == field)
            return table_->item(r, 1)->text();
    return {};
}

} // namespace blocklens::ui
