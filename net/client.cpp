#include "net/client.hpp"

#include "util/error.hpp"

#include <httplib.h>

#include <chrono>
#include <functional>

namespace blocklens::net {
namespace {

using remote::Json;
using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Server-sent events as they arrive, split into (event name, data) at each blank line.
class SseParser {
public:
    template <class OnEvent> void feed(const char* data, std::size_t n, OnEvent&& onEvent)
    {
        for (std::size_t i = 0; i < n; ++i)
            if (data[i] != '\r')
                buffer_ += data[i];
        std::size_t end;
        while ((end = buffer_.find("\n\n")) != std::string::npos) {
            const std::string block = buffer_.substr(0, end);
            buffer_.erase(0, end + 2);
            std::string event, payload;
            std::size_t at = 0;
            while (at <= block.size()) {
                std::size_t eol = block.find('\n', at);
                if (eol == std::string::npos)
                    eol = block.size();
                const std::string_view line(block.data() + at, eol - at);
                at = eol + 1;
                auto value = [&](std::size_t skip) {
                    std::string_view v = line.substr(skip);
                    if (v.starts_with(' '))
                        v.remove_prefix(1);
                    return std::string(v);
                };
                if (line.starts_with("event:"))
                    event = value(6);
                else if (line.starts_with("data:")) {
                    if (!payload.empty())
                        payload += '\n'; // a multi-line data field
                    payload += value(5);
                }
            }
            if (!event.empty() || !payload.empty())
                onEvent(event, payload);
        }
    }

private:
    std::string buffer_;
};

} // namespace

struct RemoteClient::Impl {
    std::string url;
    std::string token;
    std::unique_ptr<httplib::Client> http;

    [[noreturn]] void fail(const std::string& message) const { throw Error(url + ": " + message); }

    httplib::Headers headers() const
    {
        httplib::Headers h;
        if (!token.empty())
            h.emplace("Authorization", "Bearer " + token);
        return h;
    }

    [[noreturn]] void httpFailure(int status, const std::string& body) const
    {
        std::string message = body.substr(0, 300);
        try {
            const Json j = Json::parse(body);
            if (j.contains("error") && j["error"].is_object() && j["error"].contains("message"))
                message = j["error"]["message"].get<std::string>();
            else if (j.contains("error") && j["error"].is_string())
                message = j["error"].get<std::string>();
        } catch (const nlohmann::json::exception&) {
        }
        fail("HTTP " + std::to_string(status) + (message.empty() ? std::string() : ": " + message));
    }

    [[noreturn]] void transportFailure(httplib::Error e, bool stopped) const
    {
        if (stopped)
            throw Error("cancelled");
        fail("cannot reach the server (" + httplib::to_string(e) + ")");
    }

    Json getJson(const std::string& path, int* statusOut = nullptr) const
    {
        auto res = http->Get(path, headers());
        if (!res)
            transportFailure(res.error(), false);
        if (statusOut) {
            *statusOut = res->status;
            if (res->status != 200)
                return Json();
        }
        if (res->status != 200)
            httpFailure(res->status, res->body);
        return parse(res->body, path);
    }

    Json postJson(const std::string& path, const Json& body) const
    {
        auto res = http->Post(path, headers(), body.dump(), "application/json");
        if (!res)
            transportFailure(res.error(), false);
        if (res->status != 200)
            httpFailure(res->status, res->body);
        return parse(res->body, path);
    }

    Json parse(const std::string& text, const std::string& where) const
    {
        try {
            return Json::parse(text);
        } catch (const nlohmann::json::exception& e) {
            fail(where + " answered something that is not JSON (" + std::string(e.what()) + ")");
        }
    }

    // /blocklens/v1/compare, a comparison or a sweep (below).
    void streamComparison(const remote::CompareRequest& request, const CompareHooks& hooks, std::stop_token stop, const std::string& last,
                          const std::function<void(const Json&)>& onLast) const;

    // POSTs `body` and hands each server-sent event to `onEvent` as it arrives; a stop closes the
    // connection. HTTP errors (before the stream starts) become Error with the server's message.
    template <class OnEvent> void postStream(const std::string& path, const Json& body, std::stop_token stop, OnEvent&& onEvent) const
    {
        httplib::Request req;
        req.method = "POST";
        req.path = path;
        req.headers = headers();
        req.set_header("Content-Type", "application/json");
        req.set_header("Accept", "text/event-stream");
        req.body = body.dump();
        int status = 0;
        std::string errorBody;
        SseParser sse;
        std::exception_ptr thrown;
        req.response_handler = [&](const httplib::Response& r) {
            status = r.status;
            return true;
        };
        req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
            if (stop.stop_requested())
                return false;
            if (status != 200) {
                errorBody.append(data, std::min<std::size_t>(n, 1 << 16));
                return true;
            }
            try {
                sse.feed(data, n, [&](const std::string& event, const std::string& payload) { onEvent(event, payload); });
            } catch (...) {
                thrown = std::current_exception();
                return false;
            }
            return true;
        };
        httplib::Response res;
        httplib::Error err = httplib::Error::Success;
        const bool ok = http->send(req, res, err);
        if (thrown)
            std::rethrow_exception(thrown);
        if (!ok)
            transportFailure(err, stop.stop_requested());
        if (status != 200)
            httpFailure(status, errorBody);
    }
};

RemoteClient::RemoteClient(ServerEndpoint endpoint) : impl_(std::make_unique<Impl>())
{
    std::string url = std::move(endpoint.url);
    while (url.ends_with('/'))
        url.pop_back();
    const auto scheme = url.find("://");
    if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0) ||
        url.size() == scheme + 3 || url.find('/', scheme + 3) != std::string::npos)
        throw Error("'" + url + "' is not a server address: give http://HOST:PORT (or https://...)", {.item = "--server"});
    impl_->url = url;
    impl_->token = std::move(endpoint.token);
    impl_->http = std::make_unique<httplib::Client>(url);
    if (!impl_->http->is_valid())
        throw Error("'" + url + "' is not a server address: give http://HOST:PORT (or https://...)", {.item = "--server"});
    impl_->http->set_connection_timeout(5);
    // Streams send a keep-alive line every 250 ms; plain answers (models, cache) come at once.
    impl_->http->set_read_timeout(60);
    impl_->http->set_write_timeout(60);
}

RemoteClient::~RemoteClient() = default;
RemoteClient::RemoteClient(RemoteClient&&) noexcept = default;
RemoteClient& RemoteClient::operator=(RemoteClient&&) noexcept = default;

const std::string& RemoteClient::url() const
{
    return impl_->url;
}

ServerInfo RemoteClient::info() const
{
    ServerInfo info;
    const Json models = impl_->getJson("/v1/models");
    try {
        const Json& data = models.at("data");
        if (!data.is_array() || data.empty())
            impl_->fail("the server serves no model (/v1/models lists none)");
        info.model = remote::modelDescriptionFromJson(data.at(0));
    } catch (const nlohmann::json::exception& e) {
        impl_->fail("/v1/models answered JSON of another shape (" + std::string(e.what()) + ")");
    }
    int status = 0;
    impl_->getJson("/blocklens/v1/health", &status);
    if (status == 401)
        impl_->fail("HTTP 401: missing or wrong bearer token");
    info.blocklens = status == 200 && !info.model.fingerprint.empty();
    return info;
}

// The events of /blocklens/v1/compare, a comparison's or a sweep's, handed to `hooks`; the final
// one (`last`: "report" or "sweep") to `onLast`; Error when it does not come.
void RemoteClient::Impl::streamComparison(const remote::CompareRequest& request, const CompareHooks& hooks, std::stop_token stop,
                                          const std::string& last, const std::function<void(const Json&)>& onLast) const
{
    remote::CompareRequest r = request;
    r.stream = true;
    bool ended = false;
    auto side = [](const Json& j) {
        return j.at("side").get<std::string>() == "reference" ? usecases::ComparisonSide::Reference : usecases::ComparisonSide::Compared;
    };
    postStream("/blocklens/v1/compare", remote::toJson(r), stop, [&](const std::string& event, const std::string& payload) {
        const Json j = parse(payload, "/blocklens/v1/compare");
        try {
            if (event == "input" && hooks.input)
                hooks.input(remote::comparisonInputFromJson(j.at("input")), j.at("segmenter").get<std::string>());
            else if (event == "progress" && hooks.progress)
                hooks.progress(side(j), j.at("done").get<std::int64_t>(), j.at("total").get<std::int64_t>(), j.at("what").get<std::string>());
            else if (event == "token" && hooks.token)
                hooks.token(side(j), j.at("token").get<std::int32_t>(), j.at("text").get<std::string>());
            else if (event == "side_finished" && hooks.finished)
                hooks.finished(side(j), remote::runStatsFromJson(j.at("stats")));
            else if (event == "setting" && hooks.setting)
                hooks.setting(j.at("index").get<std::size_t>(), j.at("total").get<std::size_t>(), remote::sweepRowFromJson(j.at("row")));
            else if (event == last) {
                onLast(j);
                ended = true;
            } else if (event == "error")
                fail(j.at("error").at("message").get<std::string>());
        } catch (const nlohmann::json::exception& e) {
            fail("the comparison's '" + event + "' event has another shape (" + std::string(e.what()) + ")");
        }
    });
    if (!ended)
        fail(stop.stop_requested() ? std::string("cancelled") : "the comparison stream ended without its '" + last + "' event");
}

remote::ComparisonResult RemoteClient::compare(const remote::CompareRequest& request, const CompareHooks& hooks, std::stop_token stop) const
{
    remote::CompareRequest r = request;
    r.sweep.reset();
    remote::ComparisonResult result;
    impl_->streamComparison(r, hooks, stop, "report", [&](const Json& j) { result = remote::comparisonResultFromJson(j); });
    return result;
}

remote::SweepResult RemoteClient::sweep(const remote::CompareRequest& request, const CompareHooks& hooks, std::stop_token stop) const
{
    remote::CompareRequest r = request;
    if (!r.sweep)
        r.sweep = engine::repairSweepFamily();
    remote::SweepResult result;
    impl_->streamComparison(r, hooks, stop, "sweep", [&](const Json& j) { result = remote::sweepResultFromJson(j); });
    return result;
}

remote::RunReply RemoteClient::run(const remote::RunSpec& spec, bool attention, std::stop_token stop) const
{
    Json body = remote::toJson(spec);
    body["stream"] = true;
    const std::string path = attention ? "/blocklens/v1/attention" : "/blocklens/v1/run";
    std::optional<remote::RunReply> reply;
    impl_->postStream(path, body, stop, [&](const std::string& event, const std::string& payload) {
        const Json j = impl_->parse(payload, path);
        try {
            if (event == "result")
                reply = remote::runReplyFromJson(j);
            else if (event == "error")
                impl_->fail(j.at("error").at("message").get<std::string>());
        } catch (const nlohmann::json::exception& e) {
            impl_->fail(path + " answered JSON of another shape (" + std::string(e.what()) + ")");
        }
    });
    if (!reply)
        impl_->fail(path + "'s stream ended without a result");
    return std::move(*reply);
}

CompletionResult RemoteClient::complete(const remote::CompletionRequest& request, const std::function<void(const std::string&)>& onText,
                                        std::stop_token stop) const
{
    remote::CompletionRequest r = request;
    r.stream = true;
    CompletionResult out;
    bool done = false;
    const auto t0 = Clock::now();
    impl_->postStream("/v1/completions", remote::toJson(r), stop, [&](const std::string&, const std::string& payload) {
        if (payload == "[DONE]") {
            done = true;
            out.totalMs = msSince(t0);
            return;
        }
        const Json j = impl_->parse(payload, "/v1/completions");
        try {
            if (j.contains("error"))
                impl_->fail(j["error"].is_object() ? j["error"].at("message").get<std::string>() : j["error"].dump());
            const Json& choice = j.at("choices").at(0);
            const std::string text = choice.value("text", std::string());
            if (!text.empty()) {
                if (out.text.empty())
                    out.ttftMs = msSince(t0);
                out.text += text;
                if (onText)
                    onText(text);
            }
            if (choice.contains("finish_reason") && choice["finish_reason"].is_string())
                out.finishReason = choice["finish_reason"].get<std::string>();
            if (j.contains("usage") && j["usage"].is_object()) {
                out.promptTokens = j["usage"].value("prompt_tokens", std::int64_t{0});
                out.completionTokens = j["usage"].value("completion_tokens", std::int64_t{0});
            }
            if (j.contains("blocklens")) {
                out.generatedIds = j["blocklens"].at("generated_ids").get<std::vector<std::int32_t>>();
                out.serverStats = remote::runStatsFromJson(j["blocklens"].at("stats"));
            }
        } catch (const nlohmann::json::exception& e) {
            impl_->fail("/v1/completions streamed a chunk of another shape (" + std::string(e.what()) + ")");
        }
    });
    if (!done)
        impl_->fail("the completion stream ended without [DONE]");
    return out;
}

remote::Json RemoteClient::health() const
{
    return impl_->getJson("/blocklens/v1/health");
}

std::optional<std::string> RemoteClient::tokenizerJson() const
{
    auto res = impl_->http->Get("/blocklens/v1/tokenizer", impl_->headers());
    if (!res)
        impl_->transportFailure(res.error(), false);
    if (res->status == 404)
        return std::nullopt;
    if (res->status != 200)
        impl_->httpFailure(res->status, res->body);
    return std::move(res->body);
}

engine::BlockKvCacheStats RemoteClient::cacheStats() const
{
    return remote::cacheStatsFromJson(impl_->getJson("/blocklens/v1/cache"));
}

engine::BlockKvCacheStats RemoteClient::flushCache() const
{
    return remote::cacheStatsFromJson(impl_->postJson("/blocklens/v1/cache/flush", Json::object()));
}

} // namespace blocklens::net
