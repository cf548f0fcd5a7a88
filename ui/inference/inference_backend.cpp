#include "inference/inference_backend.hpp"

#include "engine/block_kv_cache.hpp"
#include "engine/fair_timing.hpp"
#include "engine/memory.hpp"
#include "engine/model.hpp"
#include "engine/run_record.hpp"
#include "engine/runner.hpp"
#include "engine/safetensors.hpp"
#include "engine/trained_context.hpp"
#include "inference/inference_worker.hpp"
#include "segment/token_blocks.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QMetaObject>

#include <filesystem>
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

template <class Fn> void InferenceBackend::post(Fn&& fn)
{
    if (InferenceWorker* f = front_.data())
        QMetaObject::invokeMethod(f, std::forward<Fn>(fn), Qt::QueuedConnection);
}

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
        // The tokenizer first: a model without a usable one can still run ids, but a broken or
        // mismatched tokenizer.json is an error the user should see now.
        std::optional<Tokenizer> tokenizer;
        // error_code overloads: a symbolic link loop is a one-line Error, not a filesystem_error.
        engine::requireModelDirectory(dir);
        std::error_code ec;
        auto present = [&](const char* name) {
            return std::filesystem::symlink_status(dir / name, ec).type() != std::filesystem::file_type::not_found;
        };
        if (!present("config.json"))
            throw Error("no config.json in the model directory", {.file = dir.string()});
        const auto config = engine::ModelConfig::fromFile(dir / "config.json");
        if (present("tokenizer.json")) {
            tokenizer = Tokenizer::fromFile(dir / "tokenizer.json");
            if (static_cast<std::int64_t>(tokenizer->vocabSize()) > config.vocabSize)
                throw Error("the tokenizer has " + std::to_string(tokenizer->vocabSize()) + " tokens but the model's vocabulary has only " +
                                std::to_string(config.vocabSize) + ": they do not belong together",
                            {.file = (dir / "tokenizer.json").string()});
        }
        auto model = std::make_unique<engine::Model>(engine::Model::load(dir, options, progress));
        if (stop.stop_requested())
            throw Cancelled{};

        // Swap in the new model only now: a failed or cancelled load keeps the previous one.
        runner_.reset();
        cache_->clear();
        model_ = std::move(model);
        runner_ = std::make_unique<engine::Runner>(*model_, cache_.get());
        tokenizer_ = std::move(tokenizer);
        encodedHash_.clear();

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
    runner_.reset();
    model_.reset();
    tokenizer_.reset();
    encodedHash_.clear();
    cache_->clear();
    post([f = front_] {
        if (f) {
            f->model_.reset();
            Q_EMIT f->modelUnloaded();
        }
    });
}

void InferenceBackend::setWorkspace(const QString& path)
{
    if (path != workspace_)
        store_.reset();
    workspace_ = path;
}

InferenceBackend::Tokenized InferenceBackend::tokenize(const Document& doc, const std::vector<std::size_t>& cuts, const QString& query)
{
    if (!tokenizer_)
        throw Error("the model directory has no tokenizer.json, so text cannot be turned into tokens",
                    {.file = model_->directory().string()});
    if (encodedHash_ != doc.contentHash()) {
        encoding_ = tokenizer_->encode(doc.text());
        grid_ = segment::TokenGrid::fromEncoding(encoding_, doc.length(), tokenizer_->describe());
        encodedHash_ = doc.contentHash();
    }
    Tokenized t;
    t.ids = encoding_.ids;
    t.spans = encoding_.spans;
    t.blocks = segment::tokenBlockStarts(grid_, cuts);
    if (!query.trimmed().isEmpty()) {
        const Encoding q = tokenizer_->encode(query.toStdString());
        segment::appendQueryBlock(t.ids, t.blocks, q.ids);
        t.queryTokens = static_cast<std::int64_t>(q.ids.size());
    } else if (!t.ids.empty()) {
        t.queryTokens = static_cast<std::int64_t>(t.ids.size()) - t.blocks.back();
    }
    if (t.ids.empty())
        throw Error("the document and the query encode to no tokens");
    return t;
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

void InferenceBackend::compare(quint64 id, const CompareJob& job, std::stop_token stop)
{
    try {
        if (stop.stop_requested())
            throw Cancelled{};
        if (!runner_)
            throw Error("no model is loaded: choose one in the Model panel");
        if (!job.document)
            throw Error("no document is open");
        Tokenized t = tokenize(*job.document, job.cuts, job.query);
        CompareReport report;
        report.input.ids = t.ids;
        report.input.blocks = engine::normalizeBlocks(t.blocks, static_cast<std::int64_t>(t.ids.size()));
        report.input.spans = t.spans;
        report.input.queryTokens = t.queryTokens;
        post([f = front_, id, input = report.input] {
            if (f && f->wanted(id))
                Q_EMIT f->compareStarted(id, input);
        });

        engine::RunRequest req;
        req.ids = report.input.ids;
        req.blocks = report.input.blocks;
        req.logits = engine::LogitsWanted::LastBlock;
        req.maxNewTokens = job.maxNewTokens;
        if (model_->config().eosTokenId)
            req.stopToken = static_cast<std::int32_t>(*model_->config().eosTokenId);
        req.tokenizerHash = tokenizer_->contentHash();
        // Both modes are timed after the same untimed warm-up (engine/fair_timing.hpp): otherwise
        // the first comparison after loading charges the model's start-up to full attention. One
        // timed run each: the text streams as it is generated.
        const engine::TimingProtocol timing{.warmUps = 1, .repeats = 1};
        auto progressFor = [&](CompareColumn column) {
            Progress p;
            p.stop = stop;
            p.report = [this, id, stop, column](std::int64_t done, std::int64_t total, std::string_view what) {
                if (stop.stop_requested())
                    throw Cancelled{};
                const QString label = (column == CompareColumn::Full ? QStringLiteral("full: ") : QStringLiteral("block: ")) +
                                      QString::fromUtf8(what.data(), static_cast<qsizetype>(what.size()));
                post([f = front_, id, done, total, label] {
                    if (f && f->wanted(id))
                        Q_EMIT f->runProgress(id, done, total, label);
                });
            };
            return p;
        };
        auto runColumn = [&](CompareColumn column, engine::AttentionMode mode) {
            req.mode = mode;
            auto generated = std::make_shared<std::vector<std::int32_t>>();
            req.onToken = [this, id, column, generated, stop](std::int32_t token) {
                if (stop.stop_requested())
                    throw Cancelled{};
                generated->push_back(token);
                const QString text = decode(*generated);
                post([f = front_, id, column, token, text] {
                    if (f && f->wanted(id))
                        Q_EMIT f->tokenStreamed(id, column, token, text);
                });
            };
            engine::RunResult r = engine::runTimed(*runner_, req, timing, {}, progressFor(column));
            post([f = front_, id, column, stats = r.stats] {
                if (f && f->wanted(id))
                    Q_EMIT f->runFinished(id, column, stats);
            });
            return r;
        };

        if (const auto warning = engine::trainedContextWarning(model_->config(), static_cast<std::int64_t>(req.ids.size()) + req.maxNewTokens))
            report.contextWarning = QString::fromStdString(*warning);
        Progress warmUpProgress; // no progress to show for it, but cancellable
        warmUpProgress.stop = stop;
        engine::warmUp(*runner_, req, timing, warmUpProgress);
        report.timing = QString::fromStdString(engine::describeTiming(timing));
        report.full = runColumn(CompareColumn::Full, engine::AttentionMode::Full);
        if (job.coldCache)
            cache_->clear();
        report.block = runColumn(CompareColumn::Block, engine::AttentionMode::BlockCached);
        // Every block is cached now: the TTFT block attention is built for.
        req.onToken = nullptr;
        req.maxNewTokens = 0;
        req.logits = engine::LogitsWanted::None;
        report.blockWarm = runner_->run(req, progressFor(CompareColumn::Block)).stats;

        report.comparison = engine::compareRuns(report.full, report.block, report.input.ids, report.input.blocks.back());
        report.fullText = decode(report.full.generated);
        report.blockText = decode(report.block.generated);
        report.fullPieces = pieces(report.full.generated);
        report.blockPieces = pieces(report.block.generated);
        for (std::int64_t i = report.input.blocks.back(); i < static_cast<std::int64_t>(report.input.ids.size()); ++i)
            report.queryTokenText.push_back(decode({report.input.ids[static_cast<std::size_t>(i)]}));
        report.cache = cache_->stats();
        if (!workspace_.isEmpty()) {
            try {
                record(job, report);
                report.recorded = true;
            } catch (const std::exception& e) {
                report.recordError = messageOf(e);
            }
        }
        post([f = front_, id, report = std::move(report)] {
            if (f && f->finish(id))
                Q_EMIT f->comparisonReady(id, report);
        });
    } catch (...) {
        postFailure(id, stop, std::current_exception());
    }
}

void InferenceBackend::record(const CompareJob& job, const CompareReport& report)
{
    if (!store_)
        store_ = std::make_unique<store::Store>(store::Store::open(utf8(workspace_)));
    engine::RunContext context;
    context.documentId = store_->addDocument(*job.document);
    context.tokenizerHash = tokenizer_->contentHash();
    context.segmenter = utf8(job.segmenter);
    store_->recordRun(engine::makeRunRecord(*model_, engine::AttentionMode::Full, report.full, context));
    store_->recordRun(engine::makeRunRecord(*model_, engine::AttentionMode::BlockCached, report.block, context, &report.comparison));
}

void InferenceBackend::attention(quint64 id, const AttentionJob& job, std::stop_token stop)
{
    try {
        if (stop.stop_requested())
            throw Cancelled{};
        if (!runner_)
            throw Error("no model is loaded: choose one in the Model panel");
        QElapsedTimer timer;
        timer.start();
        AttentionReport report;
        if (job.document) {
            Tokenized t = tokenize(*job.document, job.cuts, job.query);
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
        if (const auto warning = engine::trainedContextWarning(model_->config(), n))
            report.contextWarning = QString::fromStdString(*warning);
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

} // namespace blocklens::ui
