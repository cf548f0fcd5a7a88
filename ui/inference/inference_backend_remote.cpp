// InferenceBackend's requests on a model server (issue 22): `blocklens-cli serve` runs the side by
// side, the heatmap's capture and the repair chart's sweep as they would run here (net/client.hpp
// streams the tokens, progress and settings back, a cancel closes the connection and stops the
// server's work); an OpenAI-compatible server that is not BlockLens runs only the full-attention
// column, and the report says why. The server's tokenizer.json is fetched once into the app's
// cache, so that blocks are measured in the model's own tokens here too.
#include "inference/inference_backend.hpp"
#include "inference/inference_backend_post.hpp"

#include "engine/fair_timing.hpp"
#include "engine/repair_sweep.hpp"
#include "net/client.hpp"
#include "util/error.hpp"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

namespace blocklens::ui {
namespace {

std::string utf8(const QString& s) { return s.toStdString(); }
QString qs(const std::string& s) { return QString::fromStdString(s); }

// Each generated token's share of the text, from the text after each token (a token that
// completes a multi-byte character carries it, as InferenceBackend::pieces does locally).
void addPiece(std::vector<QString>& pieces, QString& before, const QString& now)
{
    pieces.push_back(now.startsWith(before) ? now.mid(before.size()) : now);
    before = now;
}

// The document cut at `cuts` plus the query, for the server to encode with its tokenizer.
remote::PromptSpec documentPrompt(const Document& document, const std::vector<std::size_t>& cuts, const QString& query)
{
    remote::PromptSpec p;
    p.text = document.text();
    p.cuts = cuts;
    p.query = query.trimmed().isEmpty() ? std::string() : utf8(query); // white space only is no query
    return p;
}

struct FetchedTokenizer {
    Tokenizer tokenizer;
    QString file; // in the app's cache; empty when it could not be written there
};

// The server model's tokenizer.json, whose SHA-256 is `hash`: from the app's cache (files named
// by that hash) or fetched from the server into it. nullopt where the server has none to give.
std::optional<FetchedTokenizer> serverTokenizer(const net::RemoteClient& client, const std::string& hash)
{
    if (hash.empty())
        return std::nullopt;
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/server-tokenizers");
    const QString path = dir + QLatin1Char('/') + qs(hash) + QStringLiteral(".json");
    if (QFileInfo::exists(path)) {
        try {
            Tokenizer cached = Tokenizer::fromFile(utf8(path));
            if (cached.contentHash() == hash)
                return FetchedTokenizer{std::move(cached), path};
        } catch (const Error&) {
            // A damaged cache file: fetched again below, and replaced.
        }
    }
    const std::optional<std::string> bytes = client.tokenizerJson();
    if (!bytes)
        return std::nullopt;
    Tokenizer fetched = Tokenizer::fromJson(*bytes, client.url() + "/blocklens/v1/tokenizer");
    if (fetched.contentHash() != hash)
        throw Error(client.url() + ": the tokenizer.json it serves is not its model's (SHA-256 " + fetched.contentHash() + ", the model names " +
                    hash + ")");
    QSaveFile file(path);
    const bool saved = QDir().mkpath(dir) && file.open(QIODevice::WriteOnly) &&
                       file.write(bytes->data(), static_cast<qint64>(bytes->size())) == static_cast<qint64>(bytes->size()) && file.commit();
    // Without the cache file the tokenizer still names the query's tokens; blocks stay in approx-tokens.
    return FetchedTokenizer{std::move(fetched), saved ? path : QString()};
}

} // namespace

void InferenceBackend::loadRemote(quint64 id, const LoadJob& job, std::stop_token stop)
{
    QElapsedTimer timer;
    timer.start();
    try {
        auto client = std::make_unique<net::RemoteClient>(net::ServerEndpoint{utf8(job.server), utf8(job.token)});
        auto info = std::make_unique<net::ServerInfo>(client->info());
        std::optional<FetchedTokenizer> tokenizer;
        if (info->blocklens)
            tokenizer = serverTokenizer(*client, info->model.tokenizerHash);
        if (stop.stop_requested())
            throw Error("cancelled");
        // Swap only now: a server that cannot be reached keeps the previous model.
        runner_.reset();
        model_.reset();
        tokenizer_.reset();
        tokens_.reset();
        cache_->clear();
        remote_ = std::move(client);
        remoteInfo_ = std::move(info);

        const remote::ModelDescription& m = remoteInfo_->model;
        ModelInfo out;
        out.server = qs(remote_->url());
        out.blockAttention = remoteInfo_->blocklens;
        out.directory = out.server;
        out.name = qs(m.id);
        out.architecture = m.architecture.empty() ? QStringLiteral("unknown") : qs(m.architecture);
        out.device = m.device.empty() ? QStringLiteral("server") : qs(m.device);
        out.dtype = qs(m.dtype);
        out.fingerprint = qs(m.fingerprint);
        out.tokenizerHash = qs(m.tokenizerHash);
        if (tokenizer) {
            tokenizer_ = std::move(tokenizer->tokenizer);
            out.tokenizerDescription = qs(tokenizer_->describe()) + QStringLiteral(" (the server's)");
            out.tokenizerFile = tokenizer->file;
        } else {
            out.tokenizerDescription = remoteInfo_->blocklens ? QStringLiteral("the server's") : QString();
        }
        out.config.vocabSize = m.vocabSize;
        out.config.numLayers = m.layers;
        out.config.maxPositions = m.maxPositions;
        if (m.heads > 0) // the heatmap sizes its capture with it
            out.config.numHeads = m.heads;
        if (m.eosToken)
            out.config.eosTokenId = *m.eosToken;
        out.loadMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        info_ = out;
        post([f = front_, id, out] {
            if (!f)
                return;
            f->model_ = out;
            if (f->finish(id))
                Q_EMIT f->modelLoaded(id, out);
        });
    } catch (...) {
        postFailure(id, stop, std::current_exception());
    }
}

void InferenceBackend::compareRemote(quint64 id, const CompareJob& job, std::stop_token stop)
{
    try {
        if (!job.document)
            throw Error("no document is open");
        const QString query = job.query.trimmed().isEmpty() ? QString() : job.query;
        CompareReport report;
        std::vector<QString> pieces[2];
        QString before[2];
        auto columnOf = [](usecases::ComparisonSide side) {
            return side == usecases::ComparisonSide::Reference ? CompareColumn::Full : CompareColumn::Block;
        };

        if (!remoteInfo_->blocklens) {
            // Another engine: its continuation under full attention, TTFT from this side of the stream.
            report.blockVariant = QString::fromStdString(engine::variantName(job.variant));
            report.blockUnavailable = QStringLiteral("Block attention needs a BlockLens server (blocklens-cli serve): %1 answers only the "
                                         "OpenAI API, so only the full-attention column ran there.")
                                          .arg(info_.server);
            post([f = front_, id] {
                if (f && f->wanted(id))
                    Q_EMIT f->compareStarted(id, CompareInput{});
            });
            remote::CompletionRequest r;
            r.text = job.document->text() + utf8(query);
            r.maxTokens = job.maxNewTokens;
            r.temperature = 0;
            QString text;
            const net::CompletionResult c = remote_->complete(
                r,
                [&](const std::string& piece) {
                    text += qs(piece);
                    addPiece(pieces[0], before[0], text);
                    post([f = front_, id, text] {
                        if (f && f->wanted(id))
                            Q_EMIT f->tokenStreamed(id, CompareColumn::Full, -1, text);
                    });
                },
                stop);
            report.full.stats.ttftMs = c.ttftMs;
            report.full.stats.tokens = c.promptTokens;
            report.full.stats.generatedTokens = c.completionTokens;
            report.full.stats.decodeMs = c.totalMs - c.ttftMs;
            report.fullText = qs(c.text);
            report.fullPieces = pieces[0];
            report.timing = QStringLiteral("TTFT as this app measured it: request sent to the first text received");
            post([f = front_, id, stats = report.full.stats] {
                if (f && f->wanted(id))
                    Q_EMIT f->runFinished(id, CompareColumn::Full, stats);
            });
            post([f = front_, id, report = std::move(report)] {
                if (f && f->finish(id))
                    Q_EMIT f->comparisonReady(id, report);
            });
            return;
        }

        if (job.variant.mode != engine::AttentionMode::BlockCached)
            throw Error("the block column runs block-cached or one of its repairs, not " + engine::variantName(job.variant));
        remote::CompareRequest r;
        r.prompt = documentPrompt(*job.document, job.cuts, job.query);
        r.compared = job.variant;
        r.maxNewTokens = job.maxNewTokens;
        r.coldCache = job.coldCache;
        net::CompareHooks hooks;
        hooks.input = [&](const usecases::ComparisonInput& in, const std::string&) {
            report.input = {in.ids, in.blocks, in.spans, in.queryTokens};
            report.input.contextWarning = contextWarning(static_cast<std::int64_t>(in.ids.size()) + job.maxNewTokens);
            post([f = front_, id, input = report.input] {
                if (f && f->wanted(id))
                    Q_EMIT f->compareStarted(id, input);
            });
        };
        hooks.progress = [&](usecases::ComparisonSide side, std::int64_t done, std::int64_t total, const std::string& what) {
            const QString label = (side == usecases::ComparisonSide::Reference ? QStringLiteral("full: ") : QStringLiteral("block: ")) + qs(what);
            post([f = front_, id, done, total, label] {
                if (f && f->wanted(id))
                    Q_EMIT f->runProgress(id, done, total, label);
            });
        };
        hooks.token = [&](usecases::ComparisonSide side, std::int32_t token, const std::string& textSoFar) {
            const CompareColumn column = columnOf(side);
            const int k = column == CompareColumn::Full ? 0 : 1;
            const QString text = qs(textSoFar);
            addPiece(pieces[k], before[k], text);
            post([f = front_, id, column, token, text] {
                if (f && f->wanted(id))
                    Q_EMIT f->tokenStreamed(id, column, token, text);
            });
        };
        hooks.finished = [&](usecases::ComparisonSide side, const engine::RunStats& stats) {
            post([f = front_, id, column = columnOf(side), stats] {
                if (f && f->wanted(id))
                    Q_EMIT f->runFinished(id, column, stats);
            });
        };
        const remote::ComparisonResult result = remote_->compare(r, hooks, stop);
        report.input = {result.input.ids, result.input.blocks, result.input.spans, result.input.queryTokens};
        report.blockVariant = QString::fromStdString(engine::variantName(result.compared));
        if (result.report.contextWarning)
            report.contextWarning = qs(*result.report.contextWarning);
        report.timing = qs(engine::describeTiming(result.report.timing));
        report.full = result.report.reference;
        report.block = result.report.compared;
        if (result.report.comparedWarm)
            report.blockWarm = *result.report.comparedWarm;
        report.comparison = result.report.comparison;
        report.fullText = qs(result.referenceText);
        report.blockText = qs(result.comparedText);
        report.fullPieces = pieces[0];
        report.blockPieces = pieces[1];
        // The query's tokens one by one, in the server's tokenizer when it gave it; else the
        // sparkline labels them by position.
        const std::int64_t queryStart = report.input.blocks.back();
        for (std::int64_t i = queryStart; i < static_cast<std::int64_t>(report.input.ids.size()); ++i)
            report.queryTokenText.push_back(tokenizer_ ? decode({report.input.ids[static_cast<std::size_t>(i)]})
                                                       : QStringLiteral("query token %1").arg(i - queryStart + 1));
        report.cache = remote_->cacheStats();

        usecases::ComparisonOptions options;
        options.compared = job.variant.mode;
        options.comparedRepair = job.variant.repair;
        options.maxNewTokens = job.maxNewTokens;
        record(result.report, options, job, report, nullptr, nullptr);
        post([f = front_, id, report = std::move(report)] {
            if (f && f->finish(id))
                Q_EMIT f->comparisonReady(id, report);
        });
    } catch (...) {
        postFailure(id, stop, std::current_exception());
    }
}

void InferenceBackend::attentionRemote(quint64 id, const AttentionJob& job, std::stop_token stop)
{
    try {
        if (!remoteInfo_->blocklens)
            throw Error("the attention heatmap needs a BlockLens server (blocklens-cli serve): " + remote_->url() +
                        " answers only the OpenAI API");
        remote::RunSpec spec;
        if (job.document) {
            spec.prompt = documentPrompt(*job.document, job.cuts, job.query);
        } else {
            spec.prompt.ids = job.ids;
            spec.prompt.blockStarts = job.blocks;
        }
        spec.logits = engine::LogitsWanted::None;
        spec.attention.layers = job.layers;
        spec.attention.byBlock = job.byBlock;
        spec.tokenRowsBudget = job.tokenRowsBudget; // the server decides on the real token count, as a local run does
        const remote::RunReply reply = remote_->run(spec, true, stop);
        AttentionReport report;
        report.ids = reply.input.ids;
        report.blocks = reply.input.blocks;
        if (job.document)
            report.spans = reply.input.spans;
        report.mass = reply.result.attention;
        report.milliseconds = reply.milliseconds;
        if (reply.contextWarning)
            report.contextWarning = qs(*reply.contextWarning);
        post([f = front_, id, report = std::move(report)] {
            if (f && f->finish(id))
                Q_EMIT f->attentionReady(id, report);
        });
    } catch (...) {
        postFailure(id, stop, std::current_exception());
    }
}

void InferenceBackend::sweepRemote(quint64 id, const SweepJob& job, std::stop_token stop)
{
    try {
        if (!remoteInfo_->blocklens)
            throw Error("the repair chart needs a BlockLens server (blocklens-cli serve): " + remote_->url() + " answers only the OpenAI API");
        if (!job.document)
            throw Error("no document is open");
        // As the local sweep: full attention as the reference, every setting of the family, no
        // generated tokens (the chart is the query block's KL), one timed repeat.
        remote::CompareRequest r;
        r.prompt = documentPrompt(*job.document, job.cuts, job.query);
        r.maxNewTokens = 0;
        r.repeats = 1;
        r.sweep = engine::repairSweepFamily();
        // Settings done of all, plus the reference run first (as the local sweep counts).
        const auto total = static_cast<std::int64_t>(r.sweep->size()) + 1;
        auto report = [this, id, total](std::int64_t done, const QString& what) {
            post([f = front_, id, done, total, what] {
                if (f && f->wanted(id))
                    Q_EMIT f->runProgress(id, done, total, what);
            });
        };
        report(0, QStringLiteral("full attention"));
        net::CompareHooks hooks;
        hooks.finished = [&](usecases::ComparisonSide, const engine::RunStats&) { report(1, QStringLiteral("settings")); };
        hooks.setting = [&](std::size_t index, std::size_t, const engine::RepairSweepRow& row) {
            report(static_cast<std::int64_t>(index) + 2, qs(engine::variantName(row.variant)));
        };
        const remote::SweepResult result = remote_->sweep(r, hooks, stop);
        post([f = front_, id, out = sweepReport(job, result.input, result.rows)] {
            if (f && f->finish(id))
                Q_EMIT f->sweepReady(id, out);
        });
    } catch (...) {
        postFailure(id, stop, std::current_exception());
    }
}

} // namespace blocklens::ui
