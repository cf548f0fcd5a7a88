#include "inference/inference_backend.hpp"
#include "inference/inference_backend_post.hpp"

#include "engine/block_kv_cache.hpp"
#include "engine/memory.hpp"
#include "engine/model.hpp"
#include "engine/model_bundle.hpp"
#include "engine/repair_sweep.hpp"
#include "engine/repairs.hpp"
#include "engine/run_record.hpp"
#include "engine/runner.hpp"
#include "engine/trained_context.hpp"
#include "inference/inference_worker.hpp"
#include "net/client.hpp"
#include "segment/token_blocks.hpp"
#include "store/store.hpp"
#include "usecases/model_comparison.hpp"
#include "util/error.hpp"
#include "workspace/workspace_gateway.hpp"

#include <nlohmann/json.hpp>

#include <QElapsedTimer>
#include <QFileInfo>
#include <QMetaObject>

#include <filesystem>
#include <functional>
#include <numeric>

namespace blocklens::ui {
namespace {

// Thrown from progress callbacks when the request was superseded or cancelled: it unwinds the
// engine between tensors / blocks.
struct Cancelled {};

std::string utf8(const QString& s) { return s.toStdString(); }

QString messageOf(const std::exception& e) { return QString::fromStdString(e.what()); }

} // namespace

InferenceBackend::InferenceBackend(InferenceWorker* front)
    : front_(front), cache_(std::make_unique<engine::BlockKvCache>())
{
}

InferenceBackend::~InferenceBackend() = default;

void InferenceBackend::postFailure(quint64 id, const std::stop_token& stop, std::exception_ptr error)
{
    // A stop shows up as Cancelled (from our callbacks) or as the engine's own "run cancelled"
    // Error: either way the request was superseded, not failed.
    bool wasCancelled = stop.stop_requested();
    QString message;
    try {
        std::rethrow_exception(error);
    } catch (const Cancelled&) {
        wasCancelled = true;
    } catch (const std::exception& e) {
        message = messageOf(e);
    } catch (...) {
        message = QStringLiteral("unknown error");
    }
    post([f = front_, id, wasCancelled, message] {
        if (f && f->finish(id)) {
            if (wasCancelled)
                Q_EMIT f->cancelled(id);
            else
                Q_EMIT f->failed(id, message);
        }
    });
}

void InferenceBackend::load(quint64 id, const LoadJob& job, std::stop_token stop)
{
    if (!job.server.isEmpty())
        return loadRemote(id, job, stop);
    QElapsedTimer timer;
    timer.start();
    try {
        if (stop.stop_requested())
            throw Cancelled{};
        engine::LoadOptions options;
        options.device = utf8(job.device.isEmpty() ? QStringLiteral("cpu") : job.device);
        if (!job.dtype.isEmpty()) {
            options.dtype = engine::parseDType(utf8(job.dtype));
            if (!options.dtype)
                throw Error("unknown dtype '" + utf8(job.dtype) + "' (use f32, bf16 or f16)");
        }
        options.maxTokens = job.maxTokens;
        const std::filesystem::path dir = utf8(job.directory);
        Progress progress;
        progress.stop = stop;
        progress.report = [this, id, stop](std::int64_t done, std::int64_t total, std::string_view what) {
            if (stop.stop_requested())
                throw Cancelled{};
            post([f = front_, id, done, total, w = QString::fromUtf8(what.data(), static_cast<qsizetype>(what.size()))] {
                if (f && f->wanted(id))
                    Q_EMIT f->loadProgress(id, done, total, w);
            });
        };
        // config.json and the tokenizer first (engine/model_bundle.hpp): a model without a
        // tokenizer can still run ids, but a broken or mismatched tokenizer.json is an error the
        // user should see before the weights load.
        engine::ModelFiles files = engine::readModelFiles(dir);
        auto bundle = std::make_unique<engine::ModelBundle>(engine::loadModelBundle(std::move(files), options, progress));
        if (stop.stop_requested())
            throw Cancelled{};

        // Swap in the new model only now: a failed or cancelled load keeps the previous one.
        remote_.reset();
        remoteInfo_.reset();
        runner_.reset();
        cache_->clear();
        model_ = std::make_unique<engine::Model>(std::move(bundle->model));
        runner_ = std::make_unique<engine::Runner>(*model_, cache_.get());
        tokenizer_ = std::move(bundle->tokenizer);
        tokenizerFile_ = tokenizer_ ? bundle->tokenizerFile : dir / "tokenizer.json";
        tokens_.reset();

        ModelInfo info;
        info.directory = QFileInfo(job.directory).absoluteFilePath();
        info.name = QFileInfo(job.directory).fileName();
        info.config = model_->config();
        info.architecture = QString::fromLatin1(engine::toString(info.config.arch).data());
        info.device = QString::fromStdString(model_->device());
        info.dtype = QString::fromLatin1(engine::toString(model_->dtype()).data());
        info.fingerprint = QString::fromStdString(model_->fingerprint());
        if (tokenizer_) {
            info.tokenizerHash = QString::fromStdString(tokenizer_->contentHash());
            info.tokenizerDescription = QString::fromStdString(tokenizer_->describe());
            info.tokenizerFile = QFileInfo(QString::fromStdString(tokenizerFile_.string())).absoluteFilePath();
        }
        info.memory = model_->memory();
        info.parameters = info.config.parameterCount();
        info.loadMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        info_ = info;
        post([f = front_, id, info] {
            if (!f)
                return;
            f->model_ = info; // the model changed whether or not this request is still wanted
            if (f->finish(id))
                Q_EMIT f->modelLoaded(id, info);
        });
    } catch (...) {
        postFailure(id, stop, std::current_exception());
    }
}

void InferenceBackend::unload()
{
    remote_.reset();
    remoteInfo_.reset();
    runner_.reset();
    model_.reset();
    tokenizer_.reset();
    tokens_.reset();
    cache_->clear();
    second_.reset();
    post([f = front_] {
        if (f) {
            f->model_.reset();
            Q_EMIT f->modelUnloaded();
        }
    });
}

void InferenceBackend::setWorkspace(const WorkspaceGateway* workspace)
{
    workspace_ = workspace;
}

usecases::ComparisonInput InferenceBackend::tokenize(const Document& doc, const std::vector<std::size_t>& cuts, const QString& query)
{
    if (!tokenizer_)
        throw Error("the model directory has no tokenizer.json, so text cannot be turned into tokens",
                    {.file = model_->directory().string()});
    if (!tokens_ || tokens_->documentHash() != doc.contentHash())
        tokens_.emplace(*tokenizer_, doc);
    // A query of white space only is no query: the document's last block is.
    return usecases::comparisonInput(*tokens_, segment::tokenBlockStarts(tokens_->grid(), cuts), *tokenizer_,
                                     query.trimmed().isEmpty() ? std::string() : query.toStdString());
}

QString InferenceBackend::decode(const std::vector<std::int32_t>& ids) const
{
    return tokenizer_ ? QString::fromStdString(tokenizer_->decode(ids, true)) : QString();
}

std::vector<QString> InferenceBackend::pieces(const std::vector<std::int32_t>& ids) const
{
    // Decoding a prefix at a time keeps what a tokenizer merges across tokens (leading spaces,
    // multi-byte characters) right; each token gets what its prefix added.
    std::vector<QString> out;
    QString before;
    for (std::size_t i = 1; i <= ids.size(); ++i) {
        const QString now = decode({ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(i)});
        out.push_back(now.startsWith(before) ? now.mid(before.size()) : now);
        before = now;
    }
    return out;
}

QString InferenceBackend::contextWarning(std::int64_t tokens) const
{
    const auto warning = engine::trainedContextWarning(info_.config, tokens);
    return warning ? QString::fromStdString(*warning) : QString();
}

usecases::ComparisonInput InferenceBackend::documentInput(const Document* document, const std::vector<std::size_t>& cuts,
                                                          const QString& query, const std::stop_token& stop)
{
    if (stop.stop_requested())
        throw Cancelled{};
    if (!runner_)
        throw Error("no model is loaded: choose one in the Model panel");
    if (!document)
        throw Error("no document is open");
    return tokenize(*document, cuts, query);
}

void InferenceBackend::compare(quint64 id, const CompareJob& job, std::stop_token stop)
{
    if (remote_)
        return compareRemote(id, job, stop);
    try {
        const usecases::ComparisonInput input = documentInput(job.document.get(), job.cuts, job.query, stop);
        // A repair that does not fit this input (a sink longer than the context...) fails here,
        // before compareStarted, so the view keeps the previous result on screen.
        if (job.variant.mode != engine::AttentionMode::BlockCached)
            throw Error("the block column runs block-cached or one of its repairs, not " + engine::variantName(job.variant));
        if (job.variant.repair.active())
            engine::planRepair(job.variant.repair, job.variant.mode, input.ids, input.blocks, model_->config());
        // The second model (issue 19), loaded or refused (another tokenizer) before compareStarted
        // too: a refusal leaves the previous result on screen.
        const engine::Runner* other = nullptr;
        if (!job.otherModel.isEmpty()) {
            Progress loading;
            loading.stop = stop;
            loading.report = [this, id, stop](std::int64_t done, std::int64_t total, std::string_view what) {
                if (stop.stop_requested())
                    throw Cancelled{};
                post([f = front_, id, done, total, w = QStringLiteral("other model: ") + QString::fromUtf8(what.data(), static_cast<qsizetype>(what.size()))] {
                    if (f && f->wanted(id))
                        Q_EMIT f->runProgress(id, done, total, w);
                });
            };
            other = &second_.prepare(job.otherModel, *model_, tokenizer_, tokenizerFile_,
                                     static_cast<std::int64_t>(input.ids.size()) + job.maxNewTokens, loading);
        }
        CompareReport report;
        report.blockVariant = QString::fromStdString(engine::variantName(job.variant));
        report.input = {input.ids, input.blocks, input.spans, input.queryTokens};
        // Said with the start of the run, minutes before its result on a long input (issue 15);
        // core's report says it again (the same count: prompt + generated tokens).
        report.input.contextWarning = contextWarning(static_cast<std::int64_t>(input.ids.size()) + job.maxNewTokens);
        post([f = front_, id, input = report.input] {
            if (f && f->wanted(id))
                Q_EMIT f->compareStarted(id, input);
        });

        // The comparison is core's (usecases/comparison.hpp); here its hooks become signals.
        usecases::ComparisonOptions options;
        options.maxNewTokens = job.maxNewTokens;
        options.compared = job.variant.mode;
        options.comparedRepair = job.variant.repair;
        if (model_->config().eosTokenId)
            options.stopToken = static_cast<std::int32_t>(*model_->config().eosTokenId);
        options.tokenizerHash = tokenizer_->contentHash();
        // One timed run each: the text streams as it is generated.
        options.timing = engine::TimingProtocol{.warmUps = 1, .repeats = 1};
        options.coldCache = job.coldCache;
        auto columnOf = [](usecases::ComparisonSide side) {
            switch (side) {
            case usecases::ComparisonSide::Reference: return CompareColumn::Full;
            case usecases::ComparisonSide::Compared: return CompareColumn::Block;
            case usecases::ComparisonSide::OtherModel: break;
            }
            return CompareColumn::OtherBlock;
        };
        usecases::ComparisonHooks hooks;
        hooks.warmUp.stop = stop; // no progress to show for it, but cancellable
        hooks.progress = [&](usecases::ComparisonSide side) {
            const CompareColumn column = columnOf(side);
            Progress p;
            p.stop = stop;
            p.report = [this, id, stop, column](std::int64_t done, std::int64_t total, std::string_view what) {
                if (stop.stop_requested())
                    throw Cancelled{};
                const QString label = (column == CompareColumn::Full    ? QStringLiteral("full: ")
                                       : column == CompareColumn::Block ? QStringLiteral("block: ")
                                                                        : QStringLiteral("other model, block: ")) +
                                      QString::fromUtf8(what.data(), static_cast<qsizetype>(what.size()));
                post([f = front_, id, done, total, label] {
                    if (f && f->wanted(id))
                        Q_EMIT f->runProgress(id, done, total, label);
                });
            };
            return p;
        };
        std::vector<std::int32_t> generated[3];
        hooks.onToken = [&](usecases::ComparisonSide side, std::int32_t token) {
            if (stop.stop_requested())
                throw Cancelled{};
            const CompareColumn column = columnOf(side);
            auto& ids = generated[static_cast<int>(column)];
            ids.push_back(token);
            const QString text = decode(ids);
            post([f = front_, id, column, token, text] {
                if (f && f->wanted(id))
                    Q_EMIT f->tokenStreamed(id, column, token, text);
            });
        };
        hooks.finished = [&](usecases::ComparisonSide side, const engine::RunResult& r) {
            post([f = front_, id, column = columnOf(side), stats = r.stats] {
                if (f && f->wanted(id))
                    Q_EMIT f->runFinished(id, column, stats);
            });
        };
        // With a second model, core runs it after the two sides and compares it with this model's full attention.
        std::optional<usecases::ModelComparisonReport> withOther;
        std::optional<usecases::ComparisonReport> alone;
        if (other)
            withOther = usecases::runModelComparison(*runner_, *other, input, options, hooks);
        else
            alone = usecases::runComparison(*runner_, input, options, hooks);
        const usecases::ComparisonReport& result = withOther ? withOther->base : *alone;
        if (withOther) {
            OtherModelRun o;
            o.name = second_.name();
            o.directory = second_.directory();
            o.block = withOther->other;
            o.comparison = withOther->otherComparison;
            o.text = decode(o.block.generated);
            o.pieces = pieces(o.block.generated);
            report.other = std::move(o);
        }

        if (result.contextWarning)
            report.contextWarning = QString::fromStdString(*result.contextWarning);
        report.timing = QString::fromStdString(engine::describeTiming(result.timing));
        report.full = result.reference;
        report.block = result.compared;
        report.blockWarm = *result.comparedWarm;
        report.comparison = result.comparison;
        report.fullText = decode(report.full.generated);
        report.blockText = decode(report.block.generated);
        report.fullPieces = pieces(report.full.generated);
        report.blockPieces = pieces(report.block.generated);
        for (std::int64_t i = report.input.blocks.back(); i < static_cast<std::int64_t>(report.input.ids.size()); ++i)
            report.queryTokenText.push_back(decode({report.input.ids[static_cast<std::size_t>(i)]}));
        report.cache = cache_->stats();
        record(result, options, job, report, withOther ? &*withOther : nullptr, other);
        post([f = front_, id, report = std::move(report)] {
            if (f && f->finish(id))
                Q_EMIT f->comparisonReady(id, report);
        });
    } catch (...) {
        postFailure(id, stop, std::current_exception());
    }
}

void InferenceBackend::record(const usecases::ComparisonReport& result, const usecases::ComparisonOptions& options, const CompareJob& job,
                              CompareReport& report, const usecases::ModelComparisonReport* withOther, const engine::Runner* other)
{
    if (!workspace_ || !workspace_->isOpen())
        return;
    const usecases::ComparisonSource source{job.document.get(), utf8(info_.tokenizerHash), utf8(job.segmenter)};
    std::function<void(store::Store&)> write;
    if (remote_) {
        // The model as the server names it, with the server's address (issue 22).
        engine::RunModelIdentity model;
        model.name = utf8(info_.name);
        model.fingerprint = utf8(info_.fingerprint);
        model.device = utf8(info_.device);
        model.dtype = utf8(info_.dtype);
        model.software = nlohmann::ordered_json{{"server", utf8(info_.server)}}.dump();
        write = [model, &source, &options, &result](store::Store& db) { usecases::recordComparison(db, model, source, options, result); };
    } else if (withOther) { // the second model's run beside: a third run in the workspace
        write = [&](store::Store& db) { usecases::recordModelComparison(db, *model_, other->model(), source, options, *withOther); };
    } else {
        write = [&](store::Store& db) { usecases::recordComparison(db, *model_, source, options, result); };
    }
    // Recorded by the workspace's one writer, in order with the edits; this thread waits (the
    // model and the report stay put meanwhile) so the report can say it was recorded.
    QFuture<QString> written = workspace_->write(std::move(write));
    written.waitForFinished();
    report.recordError = written.isCanceled() || written.resultCount() == 0 ? QObject::tr("the workspace was closed") : written.result();
    report.recorded = report.recordError.isEmpty();
}

void InferenceBackend::attention(quint64 id, const AttentionJob& job, std::stop_token stop)
{
    if (remote_)
        return attentionRemote(id, job, stop);
    try {
        if (stop.stop_requested())
            throw Cancelled{};
        if (!runner_)
            throw Error("no model is loaded: choose one in the Model panel");
        QElapsedTimer timer;
        timer.start();
        AttentionReport report;
        if (job.document) {
            usecases::ComparisonInput t = tokenize(*job.document, job.cuts, job.query);
            report.ids = std::move(t.ids);
            report.blocks = std::move(t.blocks);
            report.spans = std::move(t.spans);
        } else {
            report.ids = job.ids;
            report.blocks = job.blocks;
        }
        const auto n = static_cast<std::int64_t>(report.ids.size());
        report.blocks = engine::normalizeBlocks(report.blocks, n);
        engine::RunRequest req;
        req.ids = report.ids;
        req.blocks = report.blocks;
        req.mode = engine::AttentionMode::Full;
        req.logits = engine::LogitsWanted::None;
        req.attention.byBlock = job.byBlock;
        req.attention.layers = job.layers;
        if (req.attention.layers.empty()) {
            req.attention.layers.resize(static_cast<std::size_t>(model_->config().numLayers));
            std::iota(req.attention.layers.begin(), req.attention.layers.end(), 0);
        }
        if (!req.attention.byBlock &&
            engine::estimateAttentionCapture(model_->config(), n, static_cast<std::int64_t>(req.blocks.size()),
                                             static_cast<std::int64_t>(req.attention.layers.size()), false)
                    .keptBytes > job.tokenRowsBudget)
            req.attention.byBlock = true;
        Progress progress;
        progress.stop = stop;
        progress.report = [this, id, stop](std::int64_t done, std::int64_t total, std::string_view what) {
            if (stop.stop_requested())
                throw Cancelled{};
            const QString label = QString::fromUtf8(what.data(), static_cast<qsizetype>(what.size()));
            post([f = front_, id, done, total, label] {
                if (f && f->wanted(id))
                    Q_EMIT f->runProgress(id, done, total, label);
            });
        };
        report.contextWarning = contextWarning(n);
        report.mass = runner_->run(req, progress).attention;
        report.milliseconds = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        post([f = front_, id, report = std::move(report)] {
            if (f && f->finish(id))
                Q_EMIT f->attentionReady(id, report);
        });
    } catch (...) {
        postFailure(id, stop, std::current_exception());
    }
}

void InferenceBackend::sweep(quint64 id, const SweepJob& job, std::stop_token stop)
{
    if (remote_)
        return sweepRemote(id, job, stop);
    try {
        const usecases::ComparisonInput input = documentInput(job.document.get(), job.cuts, job.query, stop);
        usecases::ComparisonOptions options;
        options.maxNewTokens = 0; // the chart is the query block's KL: nothing to generate
        options.tokenizerHash = tokenizer_->contentHash();
        engine::RunRequest base = usecases::comparisonRequest(input, options);
        const std::vector<engine::AttentionVariant> family = engine::repairSweepFamily();
        // Settings done of all, plus the reference run first.
        const auto total = static_cast<std::int64_t>(family.size()) + 1;
        auto report = [this, id, stop, total](std::int64_t done, std::string_view what) {
            if (stop.stop_requested())
                throw Cancelled{};
            post([f = front_, id, done, total, w = QString::fromUtf8(what.data(), static_cast<qsizetype>(what.size()))] {
                if (f && f->wanted(id))
                    Q_EMIT f->runProgress(id, done, total, w);
            });
        };
        report(0, "full attention");
        engine::RunRequest fullReq = base;
        fullReq.mode = engine::AttentionMode::Full;
        Progress runProgress;
        runProgress.stop = stop;
        const engine::RunResult reference = runner_->run(fullReq, runProgress);
        report(1, "settings");
        Progress progress;
        progress.stop = stop;
        progress.report = [&report](std::int64_t done, std::int64_t, std::string_view what) { report(done + 1, what); };
        // Core's sweep, as `compare --sweep` runs it; one timed repeat (the chart plots FLOPs and KL).
        const std::vector<engine::RepairSweepRow> rows =
            engine::runRepairSweep(*runner_, base, reference, family, engine::TimingProtocol{.warmUps = 0, .repeats = 1}, progress);
        post([f = front_, id, out = sweepReport(job, input, rows)] {
            if (f && f->finish(id))
                Q_EMIT f->sweepReady(id, out);
        });
    } catch (...) {
        postFailure(id, stop, std::current_exception());
    }
}

SweepReport InferenceBackend::sweepReport(const SweepJob& job, const usecases::ComparisonInput& input,
                                          const std::vector<engine::RepairSweepRow>& rows)
{
    SweepReport out;
    out.document = job.document;
    out.tokens = static_cast<qint64>(input.ids.size());
    out.blocks = static_cast<qint64>(input.blocks.size());
    for (const engine::RepairSweepRow& row : rows) {
        SweepPoint p;
        p.variant = row.variant;
        p.name = QString::fromStdString(engine::variantName(row.variant));
        p.family = QString::fromStdString(engine::repairName(row.variant.repair)).section(QLatin1Char(':'), 0, 0);
        if (row.skipped) {
            p.skipped = QString::fromStdString(*row.skipped);
        } else {
            p.extraWarm = row.extraWarm;
            p.extraCold = row.extraCold;
            p.meanKl = row.comparison.meanKl;
            p.maxKl = row.comparison.maxKl;
            p.top1Agreement = row.comparison.top1Agreement;
            p.warmTtftMs = row.warmTtftMs;
        }
        out.points.push_back(std::move(p));
    }
    return out;
}

} // namespace blocklens::ui
