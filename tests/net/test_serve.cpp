// `blocklens-cli serve` on loopback, a real server process with the demo model (issue 22): remote
// numbers equal local ones, streams stream, a disconnect stops the work, tokens are checked, bad
// requests get JSON errors, and 8 clients at once get answers or 429 without the server growing.
#include "support/cli_capture.hpp"
#include "support/serve_process.hpp"
#include "support/temp_files.hpp"

#include "engine/model_bundle.hpp"
#include "engine/repair_sweep.hpp"
#include "net/client.hpp"
#include "usecases/comparison.hpp"
#include "util/error.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

using namespace blocklens;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kToken = "s3cret-token-for-tests";

std::filesystem::path demoModel()
{
    return test::sourceDir() / "resources/models/demo";
}

std::string readBytes(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The soak's length: 30 s as issue 22 asks, unless BLOCKLENS_SERVE_SOAK_SECONDS says otherwise (CI
// may pass less; see README, "Tests").
int soakSeconds()
{
    const QByteArray v = qgetenv("BLOCKLENS_SERVE_SOAK_SECONDS");
    return v.isEmpty() ? 30 : std::max(1, v.toInt());
}

} // namespace

class TestServe : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::filesystem::path tokenFile_;
    std::unique_ptr<test::ServeProcess> server_;
    std::optional<engine::ModelBundle> local_;

    net::RemoteClient client(const std::string& token = kToken) const { return net::RemoteClient({server_->url(), token}); }
    httplib::Client raw() const
    {
        httplib::Client c(server_->url());
        c.set_read_timeout(60);
        c.set_default_headers({{"Authorization", "Bearer " + kToken}});
        return c;
    }

    // Ids of a text with block starts every 12 tokens and the last block the query.
    std::pair<std::vector<std::int32_t>, std::vector<std::int64_t>> sampleInput() const
    {
        const std::string text = "The river rose in the night. By morning the bridge was gone, and the town on the far bank "
                                 "could be reached only by boat. The ferryman charged double. Where did the town get its bread?";
        auto ids = local_->tokenizer->encode(text).ids;
        std::vector<std::int64_t> blocks;
        for (std::int64_t s = 0; s < static_cast<std::int64_t>(ids.size()); s += 12)
            blocks.push_back(s);
        return {ids, blocks};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        tokenFile_ = test::writeFile(dir_, "token", kToken + "\n");
        server_ = std::make_unique<test::ServeProcess>(
            QStringList{"--model", QString::fromStdString(demoModel().string()), "--token-file", QString::fromStdString(tokenFile_.string()),
                        "--max-queue", "2", "--max-request-bytes", "65536", "--max-new-tokens", "1024"});
        QVERIFY2(server_->ok(), server_->error().c_str());
        local_ = engine::loadModelBundle(engine::readModelFiles(demoModel()));
    }

    void modelsDescribeTheServedModel()
    {
        const net::ServerInfo info = client().info();
        QVERIFY(info.blocklens);
        QCOMPARE(info.model.id, std::string("demo"));
        QCOMPARE(info.model.fingerprint, local_->model.fingerprint());
        QCOMPARE(info.model.tokenizerHash, local_->tokenizerHash());
    }

    // The same comparison in this process and on the server: the same logits bit for bit, the same
    // KL, top-1 agreement and continuations.
    void remoteComparisonEqualsLocal()
    {
        const auto [ids, blocks] = sampleInput();
        usecases::ComparisonInput input;
        input.ids = ids;
        input.blocks = engine::normalizeBlocks(blocks, static_cast<std::int64_t>(ids.size()));
        input.queryTokens = static_cast<std::int64_t>(ids.size()) - input.blocks.back();
        usecases::ComparisonOptions o;
        o.maxNewTokens = 12;
        o.stopToken = static_cast<std::int32_t>(*local_->config().eosTokenId);
        o.tokenizerHash = local_->tokenizerHash();
        const engine::Runner runner(local_->model);
        const usecases::ComparisonReport here = usecases::runComparison(runner, input, o);

        remote::CompareRequest r;
        r.prompt.ids = ids;
        r.prompt.blockStarts = blocks;
        r.maxNewTokens = 12;
        int tokens = 0;
        const remote::ComparisonResult there =
            client().compare(r, {.token = [&](usecases::ComparisonSide, std::int32_t, const std::string&) { ++tokens; }});
        QCOMPARE(there.input.ids, input.ids);
        QCOMPARE(there.input.blocks, input.blocks);
        QCOMPARE(there.report.reference.logits.values, here.reference.logits.values);
        QCOMPARE(there.report.compared.logits.values, here.compared.logits.values);
        QVERIFY(!here.compared.logits.values.empty());
        QCOMPARE(there.report.comparison.kl, here.comparison.kl);
        QCOMPARE(there.report.comparison.meanKl, here.comparison.meanKl);
        QCOMPARE(there.report.comparison.top1Agreement, here.comparison.top1Agreement);
        QCOMPARE(there.report.reference.generated, here.reference.generated);
        QCOMPARE(there.report.compared.generated, here.compared.generated);
        QCOMPARE(there.referenceText, local_->tokenizer->decode(here.reference.generated, true));
        QCOMPARE(there.comparedText, local_->tokenizer->decode(here.compared.generated, true));
        QCOMPARE(tokens, static_cast<int>(here.reference.generated.size() + here.compared.generated.size()));
    }

    // A sweep of repair settings on the server: each row as engine::runRepairSweep gives it here
    // (KL, top-1, FLOPs; a setting that does not fit skipped with the same words), streamed row by
    // row in the request's order before the whole arrives.
    void remoteSweepEqualsLocal()
    {
        const auto [ids, blocks] = sampleInput();
        const std::vector<engine::AttentionVariant> settings = {engine::parseAttentionVariant("block-cached+sink:4"),
                                                                engine::parseAttentionVariant("block-cached+recompute-first:16"),
                                                                engine::parseAttentionVariant("block-cached+sink:100000"),
                                                                engine::parseAttentionVariant("block-cached+recompute-frac:1")};
        usecases::ComparisonInput input;
        input.ids = ids;
        input.blocks = engine::normalizeBlocks(blocks, static_cast<std::int64_t>(ids.size()));
        usecases::ComparisonOptions o;
        o.maxNewTokens = 3;
        o.stopToken = static_cast<std::int32_t>(*local_->config().eosTokenId);
        o.tokenizerHash = local_->tokenizerHash();
        const engine::Runner runner(local_->model);
        const engine::RunRequest base = usecases::comparisonRequest(input, o);
        engine::RunRequest full = base;
        full.mode = engine::AttentionMode::Full;
        const engine::RunResult reference = runner.run(full);
        const auto here = engine::runRepairSweep(runner, base, reference, settings, engine::TimingProtocol{.warmUps = 0, .repeats = 1});

        remote::CompareRequest r;
        r.prompt.ids = ids;
        r.prompt.blockStarts = blocks;
        r.maxNewTokens = 3;
        r.sweep = settings;
        std::vector<std::size_t> streamed;
        const remote::SweepResult there = client().sweep(r, {.setting = [&](std::size_t index, std::size_t total, const engine::RepairSweepRow& row) {
            QCOMPARE(total, settings.size());
            QCOMPARE(engine::variantName(row.variant), engine::variantName(settings[index]));
            streamed.push_back(index);
        }});
        QCOMPARE(streamed, (std::vector<std::size_t>{0, 1, 2, 3}));
        QCOMPARE(there.input.ids, input.ids);
        QCOMPARE(there.referenceResult.generated, reference.generated);
        QCOMPARE(there.rows.size(), here.size());
        QVERIFY(here[2].skipped);
        for (std::size_t i = 0; i < here.size(); ++i) {
            const engine::RepairSweepRow &a = there.rows[i], &b = here[i];
            QCOMPARE(engine::variantName(a.variant), engine::variantName(b.variant));
            QCOMPARE(a.skipped, b.skipped);
            if (b.skipped)
                continue;
            QCOMPARE(a.comparison.kl, b.comparison.kl);
            QCOMPARE(a.comparison.meanKl, b.comparison.meanKl);
            QCOMPARE(a.comparison.top1Agreement, b.comparison.top1Agreement);
            QCOMPARE(a.comparison.firstDivergentToken, b.comparison.firstDivergentToken);
            QCOMPARE(a.extraWarm, b.extraWarm);
            QCOMPARE(a.extraCold, b.extraCold);
            QCOMPARE(a.result.stats.prefillFlops.total(), b.result.stats.prefillFlops.total());
            QCOMPARE(a.result.generated, b.result.generated);
            QCOMPARE(a.result.recomputed, b.result.recomputed);
        }
        QVERIFY(there.rows[3].comparison.meanKl < 1e-6); // recomputing every context token is full attention
        QVERIFY(there.rows[1].comparison.meanKl != there.rows[0].comparison.meanKl);
    }

    // The heatmap's budget for token rows: within it the capture has a row per token, past it a
    // row per block (decided on the server, on the real token count).
    void attentionKeepsTokenRowsWithinTheBudget()
    {
        const auto [ids, blocks] = sampleInput();
        remote::RunSpec spec;
        spec.prompt.ids = ids;
        spec.prompt.blockStarts = blocks;
        spec.attention.layers = {0, 1};
        spec.tokenRowsBudget = std::uint64_t{1} << 30;
        const remote::RunReply roomy = client().run(spec, true);
        QVERIFY(!roomy.result.attention.byBlock);
        QCOMPARE(roomy.result.attention.rows, static_cast<std::int64_t>(ids.size()));
        spec.tokenRowsBudget = 1024;
        const remote::RunReply tight = client().run(spec, true);
        QVERIFY(tight.result.attention.byBlock);
        QCOMPARE(tight.result.attention.rows, static_cast<std::int64_t>(blocks.size()));
    }

    // /blocklens/v1/tokenizer: the model's tokenizer.json byte for byte (its SHA-256 is the
    // model's tokenizer hash), behind the token like every other endpoint.
    void tokenizerIsServedByteForByte()
    {
        const std::optional<std::string> served = client().tokenizerJson();
        QVERIFY(served);
        QVERIFY(*served == readBytes(demoModel() / "tokenizer.json"));
        QCOMPARE(Tokenizer::fromJson(*served).contentHash(), client().info().model.tokenizerHash);
        auto c = raw();
        c.set_default_headers({});
        auto res = c.Get("/blocklens/v1/tokenizer");
        QVERIFY(res);
        QCOMPARE(res->status, 401);
    }

    // The CLI's compare and logits with --server print what they print with --model.
    void cliServerMatchesCliModel()
    {
        const auto [ids, blocks] = sampleInput();
        QStringList idList, blockList;
        for (auto i : ids)
            idList << QString::number(i);
        for (auto b : blocks)
            blockList << QString::number(b);
        const std::string idArg = idList.join(',').toStdString(), blockArg = blockList.join(',').toStdString();
        const std::string model = demoModel().string(), url = server_->url(), tokenFile = tokenFile_.string();

        const auto local = test::runCliCaptured({"compare", "--model", model, "--ids", idArg, "--block-starts", blockArg, "--max-new-tokens", "8", "--json"});
        QCOMPARE(local.code, 0);
        const auto remote = test::runCliCaptured({"compare", "--server", url, "--token-file", tokenFile, "--ids", idArg, "--block-starts", blockArg,
                                          "--max-new-tokens", "8", "--json"});
        QVERIFY2(remote.code == 0, remote.err.c_str());
        const auto a = nlohmann::json::parse(local.out), b = nlohmann::json::parse(remote.out);
        QCOMPARE(b["comparison"].dump(), a["comparison"].dump());
        QCOMPARE(b["reference"]["generated_text"].dump(), a["reference"]["generated_text"].dump());
        QCOMPARE(b["compared"]["generated_ids"].dump(), a["compared"]["generated_ids"].dump());
        QCOMPARE(b["fingerprint"].get<std::string>(), local_->model.fingerprint());

        // compare --sweep: the server's table of repair settings is the local one (timings aside).
        const auto sweepHere = test::runCliCaptured({"compare", "--model", model, "--ids", idArg, "--block-starts", blockArg, "--max-new-tokens", "4",
                                                     "--sweep", "--json"});
        QVERIFY2(sweepHere.code == 0, sweepHere.err.c_str());
        const auto sweepThere = test::runCliCaptured({"compare", "--server", url, "--token-file", tokenFile, "--ids", idArg, "--block-starts",
                                                      blockArg, "--max-new-tokens", "4", "--sweep", "--json"});
        QVERIFY2(sweepThere.code == 0, sweepThere.err.c_str());
        const auto sa = nlohmann::json::parse(sweepHere.out)["settings"], sb = nlohmann::json::parse(sweepThere.out)["settings"];
        QCOMPARE(sb.size(), engine::repairSweepFamily().size());
        QCOMPARE(sb.size(), sa.size());
        for (std::size_t i = 0; i < sa.size(); ++i)
            for (const char* field : {"mode", "skipped", "mean_kl", "max_kl", "top1_agreement", "extra_flops_share_warm", "extra_flops_share_cold",
                                      "first_divergent_generated_token", "recomputed_tokens"})
                QVERIFY2(sb[i].value(field, nlohmann::json()) == sa[i].value(field, nlohmann::json()),
                         (std::to_string(i) + " " + field + ": " + sb[i].value(field, nlohmann::json()).dump() + " vs " +
                          sa[i].value(field, nlohmann::json()).dump())
                             .c_str());

        const auto here = dir_.filePath("here.npy").toStdString(), there = dir_.filePath("there.npy").toStdString();
        QCOMPARE(test::runCliCaptured({"logits", "--model", model, "--ids", idArg, "--block-starts", blockArg, "--mode", "block-cached", "--out", here}).code, 0);
        const auto r = test::runCliCaptured({"logits", "--server", url, "--token-file", tokenFile, "--ids", idArg, "--block-starts", blockArg, "--mode",
                                     "block-cached", "--out", there});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY(readBytes(here).size() > 1000);
        QVERIFY(readBytes(here) == readBytes(there));
    }

    // The first token arrives while the rest is still being generated: the gap between the first
    // and the last piece of text is most of the server's decode time, not zero.
    void streamingDeliversFirstTokenBeforeLast()
    {
        remote::CompletionRequest r;
        r.ids = sampleInput().first;
        r.maxTokens = 96;
        r.temperature = 1;
        r.seed = 7;
        std::vector<Clock::time_point> arrivals;
        const net::CompletionResult c = client().complete(r, [&](const std::string&) { arrivals.push_back(Clock::now()); });
        QVERIFY(c.serverStats);
        QVERIFY2(arrivals.size() >= 8, std::to_string(arrivals.size()).c_str());
        const double gapMs = std::chrono::duration<double, std::milli>(arrivals.back() - arrivals.front()).count();
        QVERIFY2(gapMs > 0.5 * c.serverStats->decodeMs,
                 (std::to_string(gapMs) + " ms between first and last piece, decode " + std::to_string(c.serverStats->decodeMs) + " ms").c_str());
        QVERIFY(c.ttftMs > 0 && c.ttftMs < c.totalMs);
        QCOMPARE(c.completionTokens, static_cast<std::int64_t>(c.generatedIds.size()));
    }

    // Closing the connection after the first token stops the generation on the server.
    void clientDisconnectStopsTheWork()
    {
        const net::RemoteClient cl = client();
        const nlohmann::ordered_json before = cl.health();
        remote::CompletionRequest r;
        r.ids = sampleInput().first;
        r.maxTokens = 1000;
        r.temperature = 1;
        r.seed = 11;
        std::stop_source stop;
        bool cancelled = false;
        try {
            cl.complete(r, [&](const std::string&) { stop.request_stop(); }, stop.get_token());
        } catch (const Error& e) {
            cancelled = std::string(e.what()).find("cancelled") != std::string::npos;
        }
        QVERIFY(cancelled);
        nlohmann::ordered_json after;
        QTRY_VERIFY_WITH_TIMEOUT((after = cl.health(), !after["queue"]["running"].get<bool>()), 10000);
        QCOMPARE(after["queue"]["cancelled"].get<int>(), before["queue"]["cancelled"].get<int>() + 1);
        const auto generated = after["generated_tokens"].get<std::int64_t>() - before["generated_tokens"].get<std::int64_t>();
        QVERIFY2(generated < 500, std::to_string(generated).c_str());
    }

    void wrongOrMissingTokenGets401AndTheServerKeepsServing()
    {
        for (const std::string& token : {std::string(), std::string("wrong"), kToken + "x"}) {
            try {
                client(token).info();
                QFAIL("no error without the right token");
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find("HTTP 401") != std::string::npos, e.what());
            }
        }
        auto c = raw();
        c.set_default_headers({});
        auto res = c.Post("/v1/completions", R"({"prompt": [5, 6], "max_tokens": 1})", "application/json");
        QVERIFY(res);
        QCOMPARE(res->status, 401);
        QVERIFY(nlohmann::json::parse(res->body)["error"]["message"].is_string());
        QVERIFY(client().info().blocklens);
    }

    void badRequestsGetJsonErrors_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("not JSON") << "/v1/completions" << QByteArray("{\"prompt\": [1, 2") << 400 << "not valid JSON";
        QTest::newRow("too deep") << "/v1/completions" << QByteArray(40, '[') << 400 << "nests deeper";
        QTest::newRow("negative max_tokens") << "/v1/completions" << QByteArray(R"({"prompt": [1, 2], "max_tokens": -3})") << 400 << "max_tokens";
        QTest::newRow("too many new tokens") << "/v1/completions" << QByteArray(R"({"prompt": [1, 2], "max_tokens": 5000})") << 400 << "max_tokens";
        QTest::newRow("id beyond vocabulary") << "/v1/completions" << QByteArray(R"({"prompt": [1, 99999]})") << 400 << "prompt";
        QTest::newRow("no prompt") << "/v1/completions" << QByteArray(R"({"max_tokens": 3})") << 400 << "prompt";
        QTest::newRow("bad attention") << "/v1/completions" << QByteArray(R"({"prompt": [1, 2], "attention": "sideways"})") << 400 << "attention";
        QTest::newRow("bad block start") << "/blocklens/v1/compare" << QByteArray(R"({"ids": [1, 2, 3], "block_starts": [0, 7]})") << 400 << "block_starts";
        QTest::newRow("ids and text") << "/blocklens/v1/compare" << QByteArray(R"({"ids": [1], "text": "a"})") << 400 << "either";
        QTest::newRow("empty sweep") << "/blocklens/v1/compare" << QByteArray(R"({"ids": [1, 2], "sweep": []})") << 400 << "'sweep'";
        QTest::newRow("bad sweep setting") << "/blocklens/v1/compare" << QByteArray(R"({"ids": [1, 2], "sweep": ["block-cached", "sideways"]})") << 400
                                           << "'sweep[1]'";
        QTest::newRow("oversized") << "/v1/completions" << QByteArray(70000, ' ') << 413 << "larger than";
        QTest::newRow("no such endpoint") << "/v1/chat/nothing" << QByteArray("{}") << 404 << "no such endpoint";
    }

    void badRequestsGetJsonErrors()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, mentions);
        auto c = raw();
        auto res = c.Post(path.toStdString(), body.toStdString(), "application/json");
        QVERIFY(res);
        QCOMPARE(res->status, status);
        const auto j = nlohmann::json::parse(res->body);
        const std::string message = j["error"]["message"].get<std::string>();
        QVERIFY2(message.find(mentions.toStdString()) != std::string::npos, message.c_str());
        QVERIFY(client().info().blocklens); // still serving
    }

    void cacheStatsAndFlush()
    {
        const net::RemoteClient c = client();
        remote::CompletionRequest r;
        r.ids = sampleInput().first;
        r.blockStarts = sampleInput().second;
        r.variant = engine::parseAttentionVariant("block-cached");
        r.maxTokens = 1;
        c.complete(r);
        QVERIFY(c.cacheStats().entries > 0);
        QCOMPARE(c.flushCache().entries, std::int64_t{0});
        QCOMPARE(c.cacheStats().entries, std::int64_t{0});
    }

    // 8 clients in a loop: each request completes or is refused with 429 (the queue holds 2);
    // nothing else, the server stays up, and its memory does not grow.
    void eightConcurrentClients()
    {
        const auto seconds = soakSeconds();
        std::atomic<int> ok{0}, busy{0}, other{0};
        std::atomic<bool> warm{false};
        long rssWarm = 0;
        const auto ids = sampleInput().first;
        std::string prompt = "[";
        for (std::size_t i = 0; i < ids.size(); ++i)
            prompt += (i ? "," : "") + std::to_string(ids[i]);
        prompt += "]";
        const auto end = Clock::now() + std::chrono::seconds(seconds);
        std::vector<std::thread> clients;
        for (int k = 0; k < 8; ++k)
            clients.emplace_back([&, k] {
                auto c = raw();
                for (int i = 0; Clock::now() < end; ++i) {
                    const bool stream = (i + k) % 2 == 0;
                    const std::string body = R"({"prompt": )" + prompt + R"(, "max_tokens": 8, "temperature": 0, "stream": )" +
                                             (stream ? "true" : "false") + "}";
                    auto res = c.Post("/v1/completions", body, "application/json");
                    if (res && res->status == 200 && res->body.find(stream ? "[DONE]" : "text_completion") != std::string::npos)
                        ++ok;
                    else if (res && res->status == 429)
                        ++busy, std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    else
                        ++other;
                }
            });
        // Memory is compared from a quarter of the way in (allocator pools and caches filled) to the end.
        std::this_thread::sleep_for(std::chrono::milliseconds(seconds * 250));
        rssWarm = server_->rssKb();
        warm = true;
        for (auto& t : clients)
            t.join();
        const long rssEnd = server_->rssKb();
        QVERIFY(server_->running());
        QCOMPARE(other.load(), 0);
        QVERIFY(ok.load() > 0);
        QVERIFY2(busy.load() > 0, "8 clients against a queue of 2 never saw 429: the bound is not applied");
        QVERIFY2(rssWarm > 0 && rssEnd <= rssWarm * 11 / 10,
                 (std::to_string(rssWarm) + " kB after warm-up, " + std::to_string(rssEnd) + " kB at the end").c_str());
        qInfo("%d s: %d answered, %d refused with 429; RSS %ld -> %ld kB", seconds, ok.load(), busy.load(), rssWarm, rssEnd);
        QVERIFY(client().info().blocklens);
    }

    void nonLoopbackWithoutTokenRefusesToStart()
    {
        const auto r = test::runCliCaptured({"serve", "--model", demoModel().string(), "--host", "0.0.0.0", "--port", "0"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.find("--token-file") != std::string::npos, r.err.c_str());
    }

    // --no-extensions: a plain OpenAI server (completions only; what the app falls back to).
    void noExtensionsActsAsPlainOpenAi()
    {
        test::ServeProcess plain({"--model", QString::fromStdString(demoModel().string()), "--no-extensions"});
        QVERIFY2(plain.ok(), plain.error().c_str());
        const net::RemoteClient c({plain.url(), ""});
        const net::ServerInfo info = c.info();
        QVERIFY(!info.blocklens);
        QVERIFY(info.model.fingerprint.empty());
        remote::CompletionRequest r;
        r.text = "Once upon a time";
        r.maxTokens = 5;
        r.temperature = 0;
        const net::CompletionResult out = c.complete(r);
        QVERIFY(!out.serverStats);
        QVERIFY(out.completionTokens > 0);
        httplib::Client h(plain.url());
        auto res = h.Post("/blocklens/v1/compare", R"({"ids": [1, 2]})", "application/json");
        QVERIFY(res);
        QCOMPARE(res->status, 404);
        QVERIFY(!c.tokenizerJson()); // nothing to fetch: the app measures blocks in approx-tokens
    }
};

QTEST_GUILESS_MAIN(TestServe)
#include "test_serve.moc"
