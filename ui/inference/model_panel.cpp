#include "inference/model_panel.hpp"
#include "inference/status_text.hpp"

#include "engine/model.hpp"
#include "inference/bundled_models.hpp"
#include "inference/inference_worker.hpp"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace blocklens::ui {
namespace {

// With no document open the memory check plans for inputs this long; with one, for its length
// plus room for a query and a continuation.
constexpr qint64 kPlannedTokensWithoutDocument = 8192;
constexpr qint64 kQueryAndContinuationTokens = 512;

QString bytes(std::uint64_t n) { return QString::fromStdString(engine::formatBytes(n)); }

QString parameterCount(qint64 n)
{
    if (n >= 1'000'000'000)
        return QStringLiteral("%1 B").arg(static_cast<double>(n) / 1e9, 0, 'f', 2);
    if (n >= 1'000'000)
        return QStringLiteral("%1 M").arg(static_cast<double>(n) / 1e6, 0, 'f', 1);
    return QLocale().toString(n);
}

} // namespace

ModelPanel::ModelPanel(InferenceWorker* worker, QWidget* parent) : QWidget(parent), worker_(worker)
{
    setObjectName(QStringLiteral("modelPanel"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    source_ = new QComboBox;
    source_->setObjectName(QStringLiteral("modelSource"));
    // Every bundled model by name (issue 19: the block-distilled demo model beside the demo), its
    // README's first line as the tooltip.
    for (const BundledModel& m : findBundledModels()) {
        source_->addItem(m.name, m.directory);
        source_->setItemData(source_->count() - 1, m.summary.isEmpty() ? m.directory : m.summary, Qt::ToolTipRole);
    }
    source_->addItem(tr("Model directory…"), QString());
    form->addRow(tr("Model"), source_);

    auto* pathRow = new QHBoxLayout;
    path_ = new QLineEdit;
    path_->setObjectName(QStringLiteral("modelDirectory"));
    path_->setPlaceholderText(tr("Hugging Face model directory"));
    browse_ = new QPushButton(tr("Browse…"));
    pathRow->addWidget(path_, 1);
    pathRow->addWidget(browse_);
    form->addRow(tr("Directory"), pathRow);

    device_ = new QComboBox;
    device_->setObjectName(QStringLiteral("modelDevice"));
    device_->addItem(tr("CPU"), QStringLiteral("cpu"));
    if (engine::cudaAvailable())
        device_->addItem(tr("CUDA GPU"), QStringLiteral("cuda"));
    else
        device_->setToolTip(tr("CUDA is not available in this build or on this machine."));
    form->addRow(tr("Device"), device_);
    dtype_ = new QComboBox;
    dtype_->setObjectName(QStringLiteral("modelDtype"));
    dtype_->addItem(tr("Default (f32 on CPU, the checkpoint's on GPU)"), QString());
    dtype_->addItem(QStringLiteral("f32"), QStringLiteral("f32"));
    dtype_->addItem(QStringLiteral("bf16"), QStringLiteral("bf16"));
    dtype_->addItem(QStringLiteral("f16"), QStringLiteral("f16"));
    form->addRow(tr("Precision"), dtype_);
    // The server's address on a row of its own, the token and Connect below: on one row the three
    // widened the panel's hint, and so the whole right column of the window (issue 17's
    // screenshot comparison), squeezing the document and the bottom docks.
    auto* tokenRow = new QHBoxLayout;
    server_ = new QLineEdit;
    server_->setObjectName(QStringLiteral("modelServer"));
    server_->setPlaceholderText(tr("http://host:port (blocklens-cli serve, or an OpenAI-compatible server)"));
    token_ = new QLineEdit;
    token_->setObjectName(QStringLiteral("modelServerToken"));
    token_->setEchoMode(QLineEdit::Password);
    token_->setPlaceholderText(tr("token, if it needs one"));
    connect_ = new QPushButton(tr("Connect"));
    connect_->setObjectName(QStringLiteral("connectServer"));
    tokenRow->addWidget(token_, 1);
    tokenRow->addWidget(connect_);
    form->addRow(tr("Server"), server_); // or a server instead of a directory (the placeholder says so)
    form->addRow(tr("Token"), tokenRow);
    layout->addLayout(form);

    details_ = new QLabel;
    details_->setObjectName(QStringLiteral("modelDetails"));
    details_->setWordWrap(true);
    details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(details_);

    auto* buttons = new QHBoxLayout;
    loadButton_ = new QPushButton(tr("Load"));
    loadButton_->setObjectName(QStringLiteral("loadModel"));
    cancel_ = new QPushButton(tr("Cancel"));
    cancel_->setObjectName(QStringLiteral("cancelLoad"));
    cancel_->setEnabled(false);
    buttons->addWidget(loadButton_);
    buttons->addWidget(cancel_);
    buttons->addStretch(1);
    layout->addLayout(buttons);
    progress_ = new QProgressBar;
    progress_->setObjectName(QStringLiteral("loadProgress"));
    progress_->setTextVisible(true);
    // Hidden between runs without giving its room away: showing it must not re-lay out the window.
    QSizePolicy keep = progress_->sizePolicy();
    keep.setRetainSizeWhenHidden(true);
    progress_->setSizePolicy(keep);
    progress_->hide();
    layout->addWidget(progress_);
    status_ = new QLabel;
    status_->setObjectName(QStringLiteral("modelStatus"));
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(status_);
    loaded_ = new QLabel(tr("No model loaded."));
    loaded_->setObjectName(QStringLiteral("loadedModel"));
    loaded_->setWordWrap(true);
    layout->addWidget(loaded_);
    layout->addStretch(1);

    connect(source_, &QComboBox::currentIndexChanged, this, [this] {
        const QString dir = source_->currentData().toString();
        path_->setEnabled(dir.isEmpty());
        browse_->setEnabled(dir.isEmpty());
        if (!dir.isEmpty())
            path_->setText(dir);
        reprobe();
    });
    connect(path_, &QLineEdit::editingFinished, this, &ModelPanel::reprobe);
    connect(browse_, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Hugging Face model directory"), path_->text());
        if (!dir.isEmpty())
            setDirectory(dir);
    });
    connect(device_, &QComboBox::currentIndexChanged, this, &ModelPanel::reprobe);
    connect(dtype_, &QComboBox::currentIndexChanged, this, &ModelPanel::reprobe);
    connect(loadButton_, &QPushButton::clicked, this, [this] { load(); });
    connect(connect_, &QPushButton::clicked, this, [this] { connectToServer(server_->text().trimmed(), token_->text().trimmed()); });
    connect(cancel_, &QPushButton::clicked, this, [this] {
        if (loadId_)
            worker_->cancel(loadId_);
    });
    connect(&probeWatcher_, &QFutureWatcher<ModelProbe>::finished, this, [this] {
        const ModelProbe p = probeWatcher_.result();
        if (p.directory == directory()) // a newer choice replaced this one: drop it
            showProbe(p);
    });

    connect(worker_, &InferenceWorker::loadProgress, this, [this](quint64 id, qint64 done, qint64 total, const QString& what) {
        if (id != loadId_)
            return;
        progress_->setRange(0, static_cast<int>(total));
        progress_->setValue(static_cast<int>(done));
        progress_->setFormat(tr("%p% — %1").arg(what));
    });
    auto finished = [this](quint64 id) {
        if (id != loadId_)
            return false;
        loadId_ = 0;
        progress_->hide();
        cancel_->setEnabled(false);
        loadButton_->setEnabled(true);
        connect_->setEnabled(true);
        return true;
    };
    connect(worker_, &InferenceWorker::modelLoaded, this, [this, finished](quint64 id, const ModelInfo& info) {
        finished(id);
        setStatus(tr("Loaded in %1 ms.").arg(info.loadMs, 0, 'f', 0), false);
        showLoaded(info);
    });
    // A load started elsewhere (command line, demo at start) shows here too.
    connect(worker_, &InferenceWorker::modelUnloaded, this, [this] { loaded_->setText(tr("No model loaded.")); });
    connect(worker_, &InferenceWorker::failed, this, [this, finished](quint64 id, const QString& message) {
        if (finished(id))
            setStatus(tr("Could not load the model: %1").arg(message) +
                          (worker_->model() ? tr("\nThe previous model stays loaded.") : QString()),
                      true);
    });
    connect(worker_, &InferenceWorker::cancelled, this, [this, finished](quint64 id) {
        if (finished(id))
            setStatus(tr("Loading cancelled."), false);
    });

    // The first bundled model (the demo model when there is one) is chosen to begin with.
    const QString bundled = source_->currentData().toString();
    path_->setText(bundled);
    path_->setEnabled(bundled.isEmpty());
    browse_->setEnabled(bundled.isEmpty());
    reprobe();
}

QString ModelPanel::directory() const
{
    return path_->text().trimmed();
}

void ModelPanel::setDevice(const QString& device)
{
    const int i = device_->findData(device.startsWith(QStringLiteral("cuda")) ? QStringLiteral("cuda") : QStringLiteral("cpu"));
    if (i >= 0)
        device_->setCurrentIndex(i);
}

QString ModelPanel::deviceChoice() const
{
    return device_->currentData().toString();
}

QString ModelPanel::dtypeChoice() const
{
    return dtype_->currentData().toString();
}

void ModelPanel::setDirectory(const QString& directory)
{
    int index = source_->findData(QString()); // "Model directory…" unless it is a bundled model
    const QString wanted = QFileInfo(directory).canonicalFilePath();
    for (int i = 0; i < source_->count(); ++i)
        if (const QString d = source_->itemData(i).toString(); !d.isEmpty() && !wanted.isEmpty() && QFileInfo(d).canonicalFilePath() == wanted)
            index = i;
    source_->setCurrentIndex(index);
    path_->setText(directory);
    reprobe();
}

void ModelPanel::setDocumentTokens(qint64 tokens)
{
    if (tokens == documentTokens_)
        return;
    documentTokens_ = tokens;
    if (!directory().isEmpty())
        reprobe();
}

qint64 ModelPanel::plannedTokens() const
{
    return documentTokens_ > 0 ? documentTokens_ + kQueryAndContinuationTokens : kPlannedTokensWithoutDocument;
}

QString ModelPanel::detailsText() const { return details_->text(); }

void ModelPanel::reprobe()
{
    details_->setText(tr("Reading config.json…"));
    probeWatcher_.setFuture(probeModelAsync(directory(), deviceChoice(), dtypeChoice(), plannedTokens()));
}

void ModelPanel::showProbe(const ModelProbe& p)
{
    if (p.config.numLayers == 0) { // config.json missing or unreadable
        details_->clear();
        if (!p.error.isEmpty() && !p.directory.isEmpty())
            setStatus(p.error, true);
        loadButton_->setEnabled(!p.directory.isEmpty() && !loadId_);
        return;
    }
    const auto& c = p.config;
    QString text = tr("<b>%1</b>, %2 layers, %3 heads (%4 KV), hidden %5, vocabulary %6<br>"
                      "%7 parameters; in %8: weights %9 + KV cache %10 for %11 tokens%14 + activations %12 = <b>%13</b>")
                       .arg(QString::fromLatin1(engine::toString(c.arch).data()))
                       .arg(c.numLayers).arg(c.numHeads).arg(c.numKvHeads).arg(c.hiddenSize).arg(c.vocabSize)
                       .arg(parameterCount(p.parameters), p.dtype, bytes(p.estimate.weightBytes), bytes(p.estimate.kvBytes))
                       .arg(p.estimate.tokens)
                       .arg(bytes(p.estimate.activationBytes), bytes(p.estimate.totalBytes()),
                            documentTokens_ > 0 ? tr(" (the document's %1 + %2 for a query and continuation)").arg(documentTokens_).arg(kQueryAndContinuationTokens)
                                                : tr(" (no document open)"));
    if (c.maxPositions > 0 && p.estimate.tokens > c.maxPositions)
        text += tr("<br>⚠ This is more than the model's trained context of %1 tokens (max_position_embeddings): "
                   "past it, outputs and divergences describe an untrained regime.").arg(c.maxPositions);
    if (p.available)
        text += tr("; %1 available").arg(bytes(*p.available));
    if (!p.hasTokenizer)
        text += tr("<br>No tokenizer.json: documents cannot be run with this model.");
    details_->setText(text);
    if (!p.error.isEmpty())
        setStatus(p.error, true);
    else if (error_)
        setStatus({}, false);
    loadButton_->setEnabled(!loadId_);
}

void ModelPanel::load()
{
    if (directory().isEmpty()) {
        setStatus(tr("Choose a model directory first."), true);
        return;
    }
    LoadJob job;
    job.directory = directory();
    job.device = deviceChoice();
    job.dtype = dtypeChoice();
    job.maxTokens = plannedTokens();
    load(job);
}

void ModelPanel::connectToServer(const QString& url, const QString& token)
{
    if (url.isEmpty()) {
        setStatus(tr("Type the server's address first (http://host:port)."), true);
        return;
    }
    server_->setText(url);
    token_->setText(token);
    LoadJob job;
    job.server = url;
    job.token = token;
    load(job);
}

void ModelPanel::load(const LoadJob& job)
{
    loadId_ = worker_->requestLoad(job);
    progress_->setRange(0, 0);
    progress_->setFormat(tr("Loading…"));
    progress_->show();
    cancel_->setEnabled(true);
    loadButton_->setEnabled(false);
    loadButton_->setEnabled(false);
    connect_->setEnabled(false);
    setStatus(job.server.isEmpty() ? tr("Loading %1…").arg(job.directory) : tr("Connecting to %1…").arg(job.server), false);
}

void ModelPanel::showLoaded(const ModelInfo& info)
{
    if (!info.server.isEmpty()) {
        loaded_->setText(info.blockAttention
                             ? tr("<b>Connected:</b> %1 (%2) on %3, %4 %5: a BlockLens server; runs are recorded here with its address.")
                                   .arg(info.name, info.architecture, info.server, info.device, info.dtype)
                             : tr("<b>Connected:</b> %1 on %2, an OpenAI-compatible server that is not BlockLens: the side by side runs "
                                  "full attention only there. Block attention needs a BlockLens server (blocklens-cli serve).")
                                   .arg(info.name, info.server));
        return;
    }
    loaded_->setText(tr("<b>Loaded:</b> %1 (%2, %3 parameters) on %4 in %5%6")
                         .arg(info.name, info.architecture, parameterCount(info.parameters), info.device, info.dtype,
                              info.tokenizerDescription.isEmpty() ? tr(", no tokenizer")
                                                                  : tr(", tokenizer: %1").arg(info.tokenizerDescription)));
}

void ModelPanel::setStatus(const QString& text, bool error)
{
    error_ = error;
    showStatusText(status_, text, error, palette());
}

QString ModelPanel::statusText() const
{
    return status_->text();
}

} // namespace blocklens::ui
