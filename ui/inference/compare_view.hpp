#pragma once
// Side by side: the document's blocks plus a query, run under full attention and under block
// attention (block-cached: the cache as it is, then warm), one column per mode — TTFT, prefill
// FLOPs, KV memory, cache hits, the continuation streaming token by token — and between them the
// divergence on the query block (per-token KL sparkline, top-1 agreement, first divergent token,
// highlighted in both texts). Below, the two TTFTs as a race. Runs go through InferenceWorker;
// the shared block cache makes a re-run after a boundary edit recompute only touched blocks.
#include "inference/inference_types.hpp"

#include <QWidget>

#include <functional>
#include <optional>

class QCheckBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTextBrowser;

namespace blocklens::ui {

class ContextBanner;
class InferenceWorker;
class KlSparkline;
class OtherModelPicker;
class TtftRace;
class VariantPicker;

class CompareView : public QWidget {
    Q_OBJECT
public:
    // What to run: the document on screen and its current cuts. Returns nullopt (and why) when
    // there is nothing to run.
    using JobSource = std::function<std::optional<CompareJob>(QString* why)>;

    explicit CompareView(InferenceWorker* worker, QWidget* parent = nullptr);
    void setJobSource(JobSource source) { source_ = std::move(source); }

    void run();                         // the Run button
    // After a boundary edit or another document: run again when a result is on screen, unless
    // it is another document whose run would take longer than kAutoRerunMs (then the status
    // offers Run and rerunOffered is emitted).
    void rerunIfShown();
    static constexpr double kAutoRerunMs = 2000;
    // The time a comparison of `document` would take, estimated from the last run's characters
    // per token and measured FLOP rate with the loaded model's FLOP count (0: no run to go by).
    double estimatedMs(const Document& document) const;
    // Says why nothing runs (one line, as an error) and emits comparisonFailed: for an action that
    // cannot start a comparison (no block-distilled model).
    void showError(const QString& message);
    void setQuery(const QString& query);
    QString query() const;
    void setMaxNewTokens(int n);
    bool isRunning() const { return runId_ != 0; }
    const std::optional<CompareReport>& lastReport() const { return report_; }
    QString statusText() const;
    TtftRace* race() const { return race_; }
    VariantPicker* variantPicker() const { return variant_; } // the block column's variant (issue 18)
    // A second model whose block attention runs in a third column (issue 19), e.g. block-distilled.
    OtherModelPicker* otherModelPicker() const { return otherPicker_; }
    QString labelText(const QString& objectName) const; // a shown number, by object name (tests)
    QString streamedText(CompareColumn column) const; // the continuation as decoded so far

Q_SIGNALS:
    void comparisonShown(); // a full result is on screen
    void comparisonFailed(const QString& message);
    void rerunOffered(double estimatedMs); // another document: too long to start unasked

private:
    struct Column {
        QGroupBox* box;
        QLabel *ttft, *warm, *flops, *kv, *cache;
        QTextBrowser* text;
        QString raw; // the continuation as decoded (the browser shows its whitespace as marks)
    };
    Column makeColumn(const QString& title, const QString& prefix, bool block);
    Column& column(CompareColumn c);
    void showOtherModel(const CompareReport& report); // the third column, or hides it
    void started(const CompareInput& input);
    void streamed(CompareColumn column, const QString& text);
    void columnDone(CompareColumn column, const engine::RunStats& stats);
    void showReport(const CompareReport& report);
    void setStatus(const QString& text, bool error = false);
    void setRunning(bool running);

    InferenceWorker* worker_;
    JobSource source_;
    QLineEdit* query_;
    QSpinBox* maxTokens_;
    QCheckBox* cold_;
    VariantPicker* variant_;
    QString runVariant_; // the variant of the run in flight (the block column's title once it starts)
    QPushButton* runButton_;
    QPushButton* cancel_;
    QProgressBar* progress_;
    QLabel* status_;
    ContextBanner* contextBanner_; // shown when the input passes the model's max_position_embeddings
    Column full_, block_;
    // The second model's block attention (issue 19): shown only for a run with a second model.
    OtherModelPicker* otherPicker_;
    Column otherBlock_;
    QLabel *otherMeanKl_, *otherTop1_;
    QString runOther_; // the second model of the run in flight (empty: none)
    QLabel *queryInfo_, *meanKl_, *top1_, *divergent_;
    KlSparkline* sparkline_;
    TtftRace* race_;
    quint64 runId_ = 0;
    std::optional<CompareReport> report_;
    std::shared_ptr<const Document> lastDocument_; // what the last run was for
};

} // namespace blocklens::ui
