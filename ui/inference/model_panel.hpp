#pragma once
// The Model dock: choose a Hugging Face model directory (or a bundled model: resources/models/*), a device
// and a dtype, or a model server's address (+ token); see the architecture, parameter count and memory estimate before loading; load
// with progress and cancel. Loading happens on the InferenceWorker's thread; errors (missing
// files, does not fit, CUDA missing) are shown in the panel and the previous model stays loaded.
#include "inference/inference_types.hpp"
#include "inference/model_probe.hpp"

#include <QFutureWatcher>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace blocklens::ui {

class InferenceWorker;
struct ModelInfo;

class ModelPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelPanel(InferenceWorker* worker, QWidget* parent = nullptr);

    void setDirectory(const QString& directory); // fills the form and probes it
    QString directory() const;
    void setDevice(const QString& device);       // "cpu" or "cuda"; ignored when not offered
    void load();                                 // what the Load button does: the form's choices
    void load(const LoadJob& job);               // loads `job`, with progress and cancel here
    // A model on a server instead (issue 22): `blocklens-cli serve` at `url`, or any
    // OpenAI-compatible server (full attention only); what the Connect button does.
    void connectToServer(const QString& url, const QString& token = {});
    QString statusText() const;                  // the status line (errors included)
    // The open document's length in tokens (0: none open): the memory estimate and the load's
    // memory check plan for it plus room for a query and a continuation, not a fixed length.
    void setDocumentTokens(qint64 tokens);
    qint64 plannedTokens() const;
    QString detailsText() const;                 // the probe's summary (the memory estimate)
    bool hasError() const { return error_; }

private:
    void reprobe();
    void showProbe(const ModelProbe& probe);
    void showLoaded(const ModelInfo& info);
    void setStatus(const QString& text, bool error);
    QString deviceChoice() const;
    QString dtypeChoice() const;

    InferenceWorker* worker_;
    QComboBox* source_;
    QLineEdit* path_;
    QPushButton* browse_;
    QComboBox* device_;
    QComboBox* dtype_;
    QLineEdit* server_;
    QLineEdit* token_;
    QPushButton* connect_;
    QLabel* details_;
    QLabel* loaded_;
    QProgressBar* progress_;
    QPushButton* loadButton_;
    QPushButton* cancel_;
    QLabel* status_;
    QFutureWatcher<ModelProbe> probeWatcher_;
    quint64 loadId_ = 0;
    qint64 documentTokens_ = 0;
    bool error_ = false;
};

} // namespace blocklens::ui
