// InferenceBackend's requests on a model server (issue 22): `blocklens-cli serve` runs the side by
// side and the heatmap's capture as it would here (net/client.hpp streams the tokens and
// progress back, a cancel closes the connection and stops the server's work); an OpenAI-compatible
// server that is not BlockLens runs only the full-attention column, and the report says why.
#include "inference/inference_backend.hpp"
#include "inference/inference_backend_post.hpp"

#include "engine/fair_timing.hpp"
#include "net/client.hpp"
#include "util/error.hpp"

#include <QElapsedTimer>

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

} // namespace

void InferenceBackend::loadRemote(quint64 id, const LoadJob& job, std::stop_token stop)
{
    QElapsedTimer timer;
    timer.start();
    try {
        auto client = std::make_unique<net::RemoteClient>(net::ServerEndpoint{utf8(job.server), utf8(job.token)});
        auto info = std::make_unique<net::ServerInfo>(client->info());
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
        out.tokenizerDescription = remoteInfo_->blocklens ? QStringLiteral("the server's") : QString();
        out.config.vocabSize = m.vocabSize;
        out.config.numLayers = m.layers;
        out.config.maxPositions = m.maxPositions;
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
        r.prompt.text = job.document->text();
        r.prompt.cuts = job.cuts;
        r.prompt.query = utf8(query);
        r.compared = job.variant;
        r.maxNewTokens = job.maxNewTokens;
        r.coldCache = job.coldCache;
        net::CompareHooks hooks;
        hooks.input = [&](const usecases::ComparisonInput& in, const std::string&) {
            report.input = {in.ids, in.blocks, in.spans, in.queryTokens};
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
        // The query's tokens one by one would need the tokenizer, which stays on the server: the
        // sparkline labels them by position.
        for (std::int64_t i = 0; i < result.input.queryTokens; ++i)
            report.queryTokenText.push_back(QStringLiteral("query token %1").arg(i + 1));
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
            spec.prompt.text = job.document->text();
            spec.prompt.cuts = job.cuts;
            spec.prompt.query = job.query.trimmed().isEmpty() ? std::string() : utf8(job.query);
        } else {
            spec.prompt.ids = job.ids;
            spec.prompt.blockStarts = job.blocks;
        }
        spec.logits = engine::LogitsWanted::None;
        spec.attention.layers = job.layers;
        spec.attention.byBlock = job.byBlock;
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

} // namespace blocklens::ui
