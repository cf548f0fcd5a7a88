// The HTTP side of `blocklens-cli serve`: routes, authentication, limits, the bounded model queue,
// server-sent events and cancellation on disconnect. What a request means is core's
// (remote/protocol.hpp parses it, usecases/comparison.hpp runs it); this file only carries it.
#include "net/server.hpp"

#include "net/event_channel.hpp"
#include "net/job_queue.hpp"
#include "net/peer.hpp"

#include "engine/block_kv_cache.hpp"
#include "engine/memory.hpp"
#include "engine/model_bundle.hpp"
#include "engine/repair_sweep.hpp"
#include "engine/trained_context.hpp"
#include "segment/token_blocks.hpp"
#include "usecases/segmenters.hpp"
#include "util/error.hpp"
#include "util/json_input.hpp"
#include "util/sha256.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <tuple>

namespace blocklens::net {
namespace {

using remote::Json;
using namespace std::chrono_literals;

// How often a waiting handler checks its client, and how long a stream may stay silent before a
// comment line keeps the connection (and the client's cancel check) alive.
constexpr auto kPollInterval = 50ms;
constexpr auto kKeepAliveEvery = 250ms;
// Request bodies nest a few levels; deeper is refused before parsing (util/json_input.hpp).
constexpr std::size_t kMaxRequestNesting = 16;

std::string dumpJson(const Json& j)
{
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string sseEvent(std::string_view name, const Json& data)
{
    return "event: " + std::string(name) + "\ndata: " + dumpJson(data) + "\n\n";
}

std::string sseData(const Json& data)
{
    return "data: " + dumpJson(data) + "\n\n";
}

// An answer other than 200, thrown by a handler before any work is queued.
struct HttpError {
    int status;
    std::string message;
    std::string type = "invalid_request_error";
};

void sendJson(httplib::Response& res, int status, const Json& body)
{
    res.status = status;
    res.set_content(dumpJson(body), "application/json");
}

void sendError(httplib::Response& res, int status, const std::string& message, const std::string& type)
{
    sendJson(res, status, remote::errorJson(message, type, status));
}

Json parseBody(const httplib::Request& req)
{
    if (const auto at = findExcessiveJsonNesting(req.body, kMaxRequestNesting))
        throw HttpError{400, "the request body nests deeper than " + std::to_string(kMaxRequestNesting) + " levels (byte " +
                                 std::to_string(*at) + ")"};
    try {
        return Json::parse(req.body);
    } catch (const nlohmann::json::exception& e) {
        throw HttpError{400, "the request body is not valid JSON: " + jsonErrorText(e)};
    }
}

// Equal strings in a time that does not depend on where they first differ: both are hashed first,
// so neither their contents nor their lengths show in the comparison's timing.
bool constantTimeEquals(std::string_view a, std::string_view b)
{
    Sha256 ha, hb;
    ha.update(a);
    hb.update(b);
    const auto da = ha.finish(), db = hb.finish();
    unsigned diff = 0;
    for (std::size_t i = 0; i < da.size(); ++i)
        diff |= static_cast<unsigned>(da[i] ^ db[i]);
    return diff == 0;
}

// The text of generated tokens as it becomes safe to send: a token that ends inside a multi-byte
// character decodes to U+FFFD until the next one completes it, so such a tail is held back.
class TextStream {
public:
    explicit TextStream(const Tokenizer* tokenizer) : tokenizer_(tokenizer) {}
    std::string add(std::int32_t token)
    {
        ids_.push_back(token);
        if (!tokenizer_)
            return {};
        const std::string text = tokenizer_->decode(ids_, true);
        if (text.ends_with("\xEF\xBF\xBD") || text.size() < sent_.size() || text.compare(0, sent_.size(), sent_) != 0)
            return {};
        std::string delta = text.substr(sent_.size());
        sent_ = text;
        return delta;
    }
    // What is left once generation ends.
    std::string rest()
    {
        if (!tokenizer_)
            return {};
        const std::string text = tokenizer_->decode(ids_, true);
        if (text.size() < sent_.size() || text.compare(0, sent_.size(), sent_) != 0)
            return {};
        std::string delta = text.substr(sent_.size());
        sent_ = text;
        return delta;
    }
    std::string all() const { return tokenizer_ ? tokenizer_->decode(ids_, true) : std::string(); }

private:
    const Tokenizer* tokenizer_;
    std::vector<std::int32_t> ids_;
    std::string sent_;
};

// A request's work on the model thread, and how it reaches the client.
struct Job {
    EventChannel channel;
    std::stop_source stop;
    bool stream = false;
    void event(std::string sse)
    {
        if (stream)
            channel.push(std::move(sse));
    }
};

const char* sideName(usecases::ComparisonSide side)
{
    return side == usecases::ComparisonSide::Reference ? "reference" : "compared";
}

} // namespace

bool isLoopbackHost(std::string_view host)
{
    return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

std::string readTokenFile(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw Error("cannot read the token file", {.file = file.string()});
    std::ostringstream s;
    s << in.rdbuf();
    std::string token = s.str();
    const auto first = token.find_first_not_of(" \t\r\n");
    if (first == std::string::npos)
        throw Error("the token file holds no token (it is empty or only whitespace)", {.file = file.string()});
    token = token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
    if (token.find_first_of(" \t\r\n") != std::string::npos)
        throw Error("the token file must hold one token on one line (no spaces inside)", {.file = file.string()});
    return token;
}

struct Server::Impl {
    ServeOptions options;
    engine::ModelBundle bundle;
    engine::BlockKvCache cache;
    engine::Runner runner;
    remote::ModelDescription description;
    JobQueue jobs;
    httplib::Server http;
    std::atomic<std::int64_t> generatedTokens{0}; // by every run, for /blocklens/v1/health
    std::atomic<std::uint64_t> nextId{1};
    // The bytes of the model's tokenizer.json, for clients that segment in its tokens
    // (/blocklens/v1/tokenizer); empty without one.
    std::string tokenizerJson;

    Impl(ServeOptions o, engine::ModelBundle b)
        : options(std::move(o)), bundle(std::move(b)), runner(bundle.model, &cache), jobs(options.maxWaiting)
    {
        const engine::Model& m = bundle.model;
        description.id = options.model.filename().string();
        if (description.id.empty())
            description.id = options.model.parent_path().filename().string();
        description.fingerprint = m.fingerprint();
        description.architecture = std::string(engine::toString(m.config().arch));
        description.device = m.device();
        description.dtype = std::string(engine::toString(m.dtype()));
        description.tokenizerHash = bundle.tokenizerHash();
        description.vocabSize = m.config().vocabSize;
        description.layers = m.config().numLayers;
        description.maxPositions = m.config().maxPositions;
        description.heads = m.config().numHeads;
        if (m.config().eosTokenId)
            description.eosToken = static_cast<std::int32_t>(*m.config().eosTokenId);
        options.limits.vocabSize = m.config().vocabSize;
        tokenizerJson = servedTokenizerBytes();
        routes();
    }

    const Tokenizer* tokenizer() const { return bundle.tokenizer ? &*bundle.tokenizer : nullptr; }

    // The tokenizer file as loaded: read again, and served only while its bytes are the ones the
    // model's tokenizer hash names (a file replaced since loading is not the model's).
    std::string servedTokenizerBytes() const
    {
        if (!bundle.tokenizer)
            return {};
        std::ifstream in(bundle.tokenizerFile, std::ios::binary);
        std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        return in && Sha256::hex(bytes) == description.tokenizerHash ? bytes : std::string();
    }

    // ---- Inputs (on the HTTP thread, before anything is queued) ------------------------------

    void checkPromptLength(std::size_t tokens, std::int64_t newTokens) const
    {
        if (static_cast<std::int64_t>(tokens) > options.limits.maxPromptTokens)
            throw HttpError{400, "the prompt has " + std::to_string(tokens) + " tokens, more than the " +
                                     std::to_string(options.limits.maxPromptTokens) + " this server accepts"};
        if (tokens == 0)
            throw HttpError{400, "the prompt encodes to no tokens"};
        (void)newTokens;
    }

    const Tokenizer& requireTokenizer() const
    {
        if (!bundle.tokenizer)
            throw HttpError{400, "the served model has no tokenizer.json: give token ids instead of text"};
        return *bundle.tokenizer;
    }

    // Ids, blocks and spans of a prompt; the segmenter (or "given", "cuts") that chose the blocks.
    std::pair<usecases::ComparisonInput, std::string> prepare(const remote::PromptSpec& p) const
    {
        usecases::ComparisonInput in;
        std::string segmenter;
        if (!p.text) {
            in.ids = p.ids;
            in.blocks = engine::normalizeBlocks(p.blockStarts.empty() ? std::vector<std::int64_t>{0} : p.blockStarts,
                                                static_cast<std::int64_t>(in.ids.size()));
            in.queryTokens = static_cast<std::int64_t>(in.ids.size()) - in.blocks.back();
            segmenter = p.blockStarts.empty() ? "one block" : "given";
        } else {
            const Tokenizer& tok = requireTokenizer();
            const Document doc(*p.text);
            const usecases::DocumentTokens tokens(tok, doc);
            checkPromptLength(tokens.encoding().ids.size() + 1, 0);
            std::vector<std::int64_t> blocks;
            if (p.cuts) {
                blocks = segment::tokenBlockStarts(tokens.grid(), *p.cuts);
                segmenter = "cuts";
            } else {
                const auto& seg = segment::findSegmenter(p.segmenter.empty() ? std::string(segment::kDefaultSegmenter) : p.segmenter);
                segment::SegmentOptions so;
                so.granularity = p.granularity;
                blocks = segment::tokenBlockStarts(seg.segment(doc, tokens.grid(), so));
                segmenter = seg.name();
            }
            in = usecases::comparisonInput(tokens, std::move(blocks), tok, p.query);
        }
        checkPromptLength(in.ids.size(), 0);
        return {std::move(in), segmenter};
    }

    // ---- Running on the model thread and answering -------------------------------------------

    // Queues `work` and answers from what it leaves in the job's channel: events as they come when
    // `stream`, else the final body. A client gone while waiting stops the job.
    void runOnModel(const httplib::Request& req, httplib::Response& res, bool stream, std::function<void(Job&, std::stop_token)> work)
    {
        auto job = std::make_shared<Job>();
        job->stream = stream;
        const auto admission = jobs.submit(
            [job, work = std::move(work)](std::stop_token stop) {
                try {
                    work(*job, stop);
                } catch (const Error& e) {
                    // After a stop the client is gone; otherwise the input was the engine's to refuse.
                    const int status = stop.stop_requested() ? 499 : 400;
                    const Json err = remote::errorJson(e.what(), stop.stop_requested() ? "cancelled" : "invalid_request_error", status);
                    job->channel.finish(status, job->stream ? sseEvent("error", err) : dumpJson(err));
                } catch (const std::exception& e) {
                    const Json err = remote::errorJson(std::string("internal error: ") + e.what(), "server_error", 500);
                    job->channel.finish(500, job->stream ? sseEvent("error", err) : dumpJson(err));
                }
            },
            [job] {
                const Json err = remote::errorJson("cancelled before it started", "cancelled", 499);
                job->channel.finish(499, job->stream ? sseEvent("error", err) : dumpJson(err));
            },
            job->stop);
        if (admission == JobQueue::Admission::Full) {
            res.set_header("Retry-After", "1");
            throw HttpError{429, "the server is busy: " + std::to_string(options.maxWaiting) +
                                     " requests are already waiting for the model; try again shortly",
                            "rate_limit_error"};
        }
        if (admission == JobQueue::Admission::Closed)
            throw HttpError{503, "the server is shutting down", "server_error"};

        auto peer = std::make_shared<PeerWatch>(req.remote_addr, req.remote_port, req.local_port);
        if (!stream) {
            for (;;) {
                EventChannel::Batch b = job->channel.take(kPollInterval);
                if (b.finished) {
                    res.status = b.status == 499 ? 500 : b.status;
                    res.set_content(b.body, "application/json");
                    return;
                }
                if (peer->gone()) {
                    job->stop.request_stop();
                    res.status = 500; // nobody reads it
                    return;
                }
            }
        }
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider(
            "text/event-stream",
            [job, peer](std::size_t, httplib::DataSink& sink) {
                auto quiet = std::chrono::steady_clock::now();
                for (;;) {
                    EventChannel::Batch b = job->channel.take(kPollInterval);
                    bool ok = true;
                    for (const std::string& e : b.events)
                        ok = ok && sink.write(e.data(), e.size());
                    if (ok && b.finished) {
                        if (sink.write(b.body.data(), b.body.size()))
                            sink.done();
                        return true;
                    }
                    const auto now = std::chrono::steady_clock::now();
                    if (!b.events.empty())
                        quiet = now;
                    else if (now - quiet >= kKeepAliveEvery) {
                        ok = ok && sink.write(": keep-alive\n\n", 14);
                        quiet = now;
                    }
                    if (!ok || peer->gone()) {
                        job->stop.request_stop();
                        return false;
                    }
                }
            },
            [job](bool success) {
                if (!success)
                    job->stop.request_stop();
            });
    }

    Progress progressFor(const std::stop_token& stop) const { return Progress{{}, stop}; }

    // ---- Endpoints -----------------------------------------------------------------------------

    void models(httplib::Response& res) const
    {
        Json entry = remote::toJson(description);
        if (!options.extensions)
            entry.erase("blocklens");
        sendJson(res, 200, Json{{"object", "list"}, {"data", Json::array({entry})}});
    }

    void completions(const httplib::Request& req, httplib::Response& res)
    {
        const Json body = parseBody(req);
        remote::CompletionRequest cr;
        try {
            cr = remote::completionRequestFromJson(body, options.limits, options.extensions);
        } catch (const Error& e) {
            throw HttpError{400, e.what()};
        }
        engine::RunRequest run;
        if (!cr.promptBlocks.empty()) {
            const Tokenizer& tok = requireTokenizer();
            for (const std::string& text : cr.promptBlocks) {
                const Encoding e = tok.encode(text);
                if (e.ids.empty())
                    throw HttpError{400, "request field 'prompt_blocks' has a block that encodes to no tokens"};
                run.blocks.push_back(static_cast<std::int64_t>(run.ids.size()));
                run.ids.insert(run.ids.end(), e.ids.begin(), e.ids.end());
                checkPromptLength(run.ids.size(), cr.maxTokens);
            }
        } else if (cr.text) {
            run.ids = requireTokenizer().encode(*cr.text).ids;
            run.blocks = cr.blockStarts;
        } else {
            run.ids = cr.ids;
            run.blocks = cr.blockStarts;
        }
        checkPromptLength(run.ids.size(), cr.maxTokens);
        try {
            run.blocks = engine::normalizeBlocks(std::move(run.blocks), static_cast<std::int64_t>(run.ids.size()));
        } catch (const Error& e) {
            throw HttpError{400, std::string("request field 'block_starts': ") + e.what()};
        }
        run.mode = cr.variant.mode;
        run.repair = cr.variant.repair;
        run.logits = engine::LogitsWanted::None;
        run.maxNewTokens = cr.maxTokens;
        run.temperature = cr.temperature;
        run.seed = cr.seed;
        run.stopToken = description.eosToken;
        run.tokenizerHash = description.tokenizerHash;

        const std::string id = "cmpl-" + std::to_string(nextId++);
        const auto created = static_cast<std::int64_t>(std::time(nullptr));
        const bool extensions = options.extensions;
        const std::string variant = engine::variantName(cr.variant);
        auto chunk = [id, created, model = description.id](const std::string& text, const Json& finish) {
            return Json{{"id", id},
                        {"object", "text_completion"},
                        {"created", created},
                        {"model", model},
                        {"choices", Json::array({Json{{"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish}}})}};
        };
        runOnModel(req, res, cr.stream, [this, run, chunk, extensions, variant, maxTokens = cr.maxTokens](Job& job, std::stop_token stop) mutable {
            TextStream text(tokenizer());
            run.onToken = [&](std::int32_t token) {
                ++generatedTokens;
                const std::string delta = text.add(token);
                if (!delta.empty())
                    job.event(sseData(chunk(delta, nullptr)));
            };
            const engine::RunResult r = runner.run(run, progressFor(stop));
            const auto generated = static_cast<std::int64_t>(r.generated.size());
            const std::string finish = generated < maxTokens ? "stop" : "length";
            Json usage{{"prompt_tokens", run.ids.size()}, {"completion_tokens", generated}, {"total_tokens", static_cast<std::int64_t>(run.ids.size()) + generated}};
            Json ext{{"attention", variant}, {"block_starts", run.blocks}, {"generated_ids", r.generated}, {"stats", remote::toJson(r.stats)}};
            if (job.stream) {
                Json last = chunk(text.rest(), finish);
                last["usage"] = usage;
                if (extensions)
                    last["blocklens"] = ext;
                job.channel.finish(200, sseData(last) + "data: [DONE]\n\n");
                return;
            }
            Json answer = chunk(text.all(), finish);
            answer["usage"] = usage;
            if (extensions)
                answer["blocklens"] = ext;
            job.channel.finish(200, dumpJson(answer));
        });
    }

    void compare(const httplib::Request& req, httplib::Response& res)
    {
        const Json body = parseBody(req);
        remote::CompareRequest cr;
        std::pair<usecases::ComparisonInput, std::string> prepared;
        try {
            cr = remote::compareRequestFromJson(body, options.limits);
            prepared = prepare(cr.prompt);
        } catch (const Error& e) {
            throw HttpError{400, e.what()};
        }
        usecases::ComparisonOptions o = remote::comparisonOptions(cr);
        o.stopToken = description.eosToken;
        o.tokenizerHash = description.tokenizerHash;
        if (cr.sweep)
            return sweep(req, res, cr, o, std::move(prepared));
        runOnModel(req, res, cr.stream, [this, cr, o, prepared](Job& job, std::stop_token stop) {
            const auto& [input, segmenter] = prepared;
            job.event(sseEvent("input", Json{{"input", remote::toJson(input)}, {"segmenter", segmenter}}));
            TextStream texts[2] = {TextStream(tokenizer()), TextStream(tokenizer())};
            usecases::ComparisonHooks hooks;
            hooks.warmUp = progressFor(stop);
            hooks.progress = [&](usecases::ComparisonSide side) {
                Progress p = progressFor(stop);
                p.report = [&job, side, last = std::chrono::steady_clock::time_point{}](std::int64_t done, std::int64_t total, std::string_view what) mutable {
                    const auto now = std::chrono::steady_clock::now();
                    if (now - last < 50ms && done != total)
                        return; // progress is for eyes: a few updates a second are plenty
                    last = now;
                    job.event(sseEvent("progress", Json{{"side", sideName(side)}, {"done", done}, {"total", total}, {"what", std::string(what)}}));
                };
                return p;
            };
            hooks.onToken = [&](usecases::ComparisonSide side, std::int32_t token) {
                ++generatedTokens;
                TextStream& t = texts[side == usecases::ComparisonSide::Reference ? 0 : 1];
                t.add(token);
                job.event(sseEvent("token", Json{{"side", sideName(side)}, {"token", token}, {"text", t.all()}}));
            };
            hooks.finished = [&](usecases::ComparisonSide side, const engine::RunResult& r) {
                job.event(sseEvent("side_finished", Json{{"side", sideName(side)}, {"stats", remote::toJson(r.stats)}}));
            };
            remote::ComparisonResult result;
            result.input = input;
            result.segmenter = segmenter;
            result.reference = cr.reference;
            result.compared = cr.compared;
            result.report = usecases::runComparison(runner, input, o, hooks);
            if (const Tokenizer* tok = tokenizer()) {
                result.referenceText = tok->decode(result.report.reference.generated, true);
                result.comparedText = tok->decode(result.report.compared.generated, true);
            }
            const Json answer = remote::toJson(result);
            job.channel.finish(200, job.stream ? sseEvent("report", answer) : dumpJson(answer));
        });
    }

    // A compare request with "sweep": the reference, then each setting as engine::runRepairSweep
    // runs it (from an empty block cache, against the same reference), each streamed as a
    // "setting" event when it finishes, then the whole as "sweep".
    void sweep(const httplib::Request& req, httplib::Response& res, const remote::CompareRequest& cr, const usecases::ComparisonOptions& o,
               std::pair<usecases::ComparisonInput, std::string> prepared)
    {
        runOnModel(req, res, cr.stream, [this, cr, o, prepared = std::move(prepared)](Job& job, std::stop_token stop) {
            remote::SweepResult result;
            std::tie(result.input, result.segmenter) = prepared;
            result.reference = cr.reference;
            job.event(sseEvent("input", Json{{"input", remote::toJson(result.input)}, {"segmenter", result.segmenter}}));
            const engine::RunRequest base = usecases::comparisonRequest(result.input, o);
            engine::RunRequest referenceRequest = base;
            referenceRequest.mode = cr.reference.mode;
            referenceRequest.repair = cr.reference.repair;
            result.referenceResult = runner.run(referenceRequest, progressFor(stop));
            job.event(sseEvent("side_finished", Json{{"side", "reference"}, {"stats", remote::toJson(result.referenceResult.stats)}}));
            const std::vector<engine::AttentionVariant>& settings = *cr.sweep;
            for (std::size_t i = 0; i < settings.size(); ++i) {
                // One setting per call: the same rows as one call over them all (each starts from
                // an empty cache), but each can go out as soon as it is done.
                std::vector<engine::RepairSweepRow> row =
                    engine::runRepairSweep(runner, base, result.referenceResult, {settings[i]}, o.timing, progressFor(stop));
                job.event(sseEvent("setting", Json{{"index", i}, {"total", settings.size()}, {"row", remote::toJson(row.front())}}));
                result.rows.push_back(std::move(row.front()));
            }
            const Json answer = remote::toJson(result);
            job.channel.finish(200, job.stream ? sseEvent("sweep", answer) : dumpJson(answer));
        });
    }

    // /blocklens/v1/run (logits of one variant) and /blocklens/v1/attention (block-mass capture).
    void run(const httplib::Request& req, httplib::Response& res, bool attention)
    {
        Json body = parseBody(req);
        remote::RunSpec spec;
        std::pair<usecases::ComparisonInput, std::string> prepared;
        bool stream = false;
        try {
            if (attention && body.is_object() && !body.contains("logits"))
                body["logits"] = "none";
            spec = remote::runSpecFromJson(body, options.limits);
            stream = body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
            prepared = prepare(spec.prompt);
        } catch (const Error& e) {
            throw HttpError{400, e.what()};
        }
        if (attention && spec.attention.layers.empty())
            for (std::int64_t l = 0; l < description.layers; ++l)
                spec.attention.layers.push_back(l);
        for (const std::int64_t l : spec.attention.layers)
            if (l >= description.layers)
                throw HttpError{400, "request field 'attention_layers' names layer " + std::to_string(l) + "; the model has " +
                                         std::to_string(description.layers)};
        // Token rows while they fit the client's budget, else a row per block (as the app decides
        // for a model of its own, on the real token count).
        const auto tokens = static_cast<std::int64_t>(prepared.first.ids.size());
        if (!spec.attention.byBlock && spec.tokenRowsBudget &&
            engine::estimateAttentionCapture(bundle.model.config(), tokens, static_cast<std::int64_t>(prepared.first.blocks.size()),
                                             static_cast<std::int64_t>(spec.attention.layers.size()), false)
                    .keptBytes > *spec.tokenRowsBudget)
            spec.attention.byBlock = true;
        runOnModel(req, res, stream, [this, spec, prepared](Job& job, std::stop_token stop) {
            const engine::RunRequest r{.ids = prepared.first.ids, .blocks = prepared.first.blocks, .mode = spec.variant.mode,
                                       .repair = spec.variant.repair, .logits = spec.logits,
                                       .tokenizerHash = description.tokenizerHash, .attention = spec.attention};
            remote::RunReply reply;
            reply.input = prepared.first;
            for (int i = 0; i < spec.runs; ++i) {
                const auto t0 = std::chrono::steady_clock::now();
                reply.result = runner.run(r, progressFor(stop));
                reply.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            }
            reply.contextWarning = engine::trainedContextWarning(bundle.model.config(), static_cast<std::int64_t>(r.ids.size()));
            const Json answer = remote::toJson(reply);
            job.channel.finish(200, job.stream ? sseEvent("result", answer) : dumpJson(answer));
        });
    }

    Json health() const
    {
        const JobQueue::Stats q = jobs.stats();
        return Json{{"status", "ok"},
                    {"model", description.id},
                    {"fingerprint", description.fingerprint},
                    {"queue",
                     {{"running", q.running},
                      {"waiting", q.waiting},
                      {"max_waiting", q.maxWaiting},
                      {"completed", q.completed},
                      {"cancelled", q.cancelled},
                      {"rejected", q.rejected}}},
                    {"generated_tokens", generatedTokens.load()},
                    {"cache", remote::toJson(cache.stats())}};
    }

    // Handlers throw HttpError (or Error: a bad request) and this answers with the JSON error.
    template <class Fn> httplib::Server::Handler guarded(Fn fn)
    {
        return [fn](const httplib::Request& req, httplib::Response& res) {
            try {
                fn(req, res);
            } catch (const HttpError& e) {
                sendError(res, e.status, e.message, e.type);
            } catch (const Error& e) {
                sendError(res, 400, e.what(), "invalid_request_error");
            }
        };
    }

    void routes()
    {
        http.new_task_queue = [n = options.httpThreads] { return new httplib::ThreadPool(static_cast<std::size_t>(n)); };
        http.set_payload_max_length(options.maxRequestBytes);
        http.set_keep_alive_timeout(2);
        http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (options.token.empty() || req.path == "/health")
                return httplib::Server::HandlerResponse::Unhandled;
            const std::string header = req.get_header_value("Authorization");
            const std::string_view prefix = "Bearer ";
            const bool ok = header.size() > prefix.size() && header.compare(0, prefix.size(), prefix) == 0 &&
                            constantTimeEquals(std::string_view(header).substr(prefix.size()), options.token);
            if (ok)
                return httplib::Server::HandlerResponse::Unhandled;
            res.set_header("WWW-Authenticate", "Bearer");
            sendError(res, 401, header.empty() ? "this server needs a bearer token (Authorization: Bearer TOKEN)" : "wrong bearer token",
                      "authentication_error");
            return httplib::Server::HandlerResponse::Handled;
        });
        http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty())
                return httplib::Server::HandlerResponse::Unhandled;
            std::string message;
            switch (res.status) {
            case 404:
                message = "no such endpoint: " + req.method + " " + req.path;
                break;
            case 413:
                message = "the request body is larger than the " + std::to_string(options.maxRequestBytes) + " bytes this server accepts";
                break;
            default:
                message = res.status == 400 ? "malformed HTTP request" : "HTTP status " + std::to_string(res.status);
            }
            sendError(res, res.status, message, "invalid_request_error");
            return httplib::Server::HandlerResponse::Handled;
        }));
        http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            sendError(res, 500, "internal error: " + what, "server_error");
        });

        http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
            sendJson(res, 200, Json{{"status", "ok"}, {"model", description.id}});
        });
        http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) { models(res); });
        http.Post("/v1/completions", guarded([this](const httplib::Request& req, httplib::Response& res) { completions(req, res); }));
        if (!options.extensions)
            return;
        http.Get("/blocklens/v1/health", [this](const httplib::Request&, httplib::Response& res) { sendJson(res, 200, health()); });
        http.Post("/blocklens/v1/compare", guarded([this](const httplib::Request& req, httplib::Response& res) { compare(req, res); }));
        http.Post("/blocklens/v1/run", guarded([this](const httplib::Request& req, httplib::Response& res) { run(req, res, false); }));
        http.Post("/blocklens/v1/attention", guarded([this](const httplib::Request& req, httplib::Response& res) { run(req, res, true); }));
        http.Get("/blocklens/v1/tokenizer", [this](const httplib::Request&, httplib::Response& res) {
            if (tokenizerJson.empty())
                return sendError(res, 404, "the served model has no tokenizer.json (or it changed on disk since the model was loaded)",
                                 "not_found_error");
            res.set_header("X-BlockLens-Tokenizer-Hash", description.tokenizerHash);
            res.set_content(tokenizerJson, "application/json");
        });
        http.Get("/blocklens/v1/cache", [this](const httplib::Request&, httplib::Response& res) {
            sendJson(res, 200, remote::toJson(cache.stats()));
        });
        http.Post("/blocklens/v1/cache/flush", [this](const httplib::Request&, httplib::Response& res) {
            cache.clear();
            sendJson(res, 200, remote::toJson(cache.stats()));
        });
    }
};

Server::Server(ServeOptions options, const Progress& loading)
{
    if (!isLoopbackHost(options.host) && options.token.empty())
        throw Error("--host " + options.host + " is not a loopback address: give --token-file FILE (a bearer token), so that only "
                    "clients who know it can run the model");
    if (options.port < 0 || options.port > 65535)
        throw Error("--port must be from 0 to 65535, got " + std::to_string(options.port));
    engine::LoadOptions load;
    load.device = options.device;
    if (options.dtype) {
        const auto d = engine::parseDType(*options.dtype);
        if (!d)
            throw Error("--dtype must be f32, bf16 or f16, got '" + *options.dtype + "'");
        load.dtype = *d;
    }
    load.maxTokens = options.limits.maxPromptTokens + options.limits.maxNewTokens;
    engine::ModelBundle bundle = engine::loadModelBundle(engine::readModelFiles(options.model), load, loading);
    impl_ = std::make_unique<Impl>(std::move(options), std::move(bundle));
}

Server::~Server()
{
    stop();
}

int Server::bind()
{
    const ServeOptions& o = impl_->options;
    const int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
    if (port < 0)
        throw Error("cannot listen on " + o.host + ":" + std::to_string(o.port) + " (in use, or not an address of this machine)");
    return port;
}

void Server::serve()
{
    impl_->http.listen_after_bind();
}

void Server::stop()
{
    impl_->jobs.close();
    impl_->http.stop();
}

const remote::ModelDescription& Server::model() const
{
    return impl_->description;
}

} // namespace blocklens::net
