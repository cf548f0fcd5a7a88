#pragma once
// A client of `blocklens-cli serve` (issue 22), and of any OpenAI-compatible server for what such
// a server can do (completions): used by `compare --server`, `logits --server` and the app's
// remote backend. Blocking calls; each takes a std::stop_token, and a stop closes the connection,
// which the server takes as the signal to stop the work. Streams are read as they come, so the
// hooks see tokens as the server generates them.
//
//   net::RemoteClient client({"http://gpu-box:8080", token});
//   auto info = client.info();                          // the model, and whether it is BlockLens
//   auto result = client.compare(request, {.token = ...});
//
// Every failure is an Error naming the server: unreachable, an HTTP error (with the server's
// message), or an answer that is not what the protocol says.
#include "remote/protocol.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::net {

struct ServerEndpoint {
    std::string url;   // "http://host:port" (https too); a trailing slash is allowed
    std::string token; // bearer token; empty: none
};

struct ServerInfo {
    remote::ModelDescription model; // the first (BlockLens: the only) model served
    bool blocklens = false;         // the BlockLens extensions answer (/blocklens/v1/health)
};

// What a comparison shows while it runs; each may be empty. Called on the calling thread.
struct CompareHooks {
    std::function<void(const usecases::ComparisonInput&, const std::string& segmenter)> input;
    std::function<void(usecases::ComparisonSide, std::int64_t done, std::int64_t total, const std::string& what)> progress;
    std::function<void(usecases::ComparisonSide, std::int32_t token, const std::string& textSoFar)> token;
    std::function<void(usecases::ComparisonSide, const engine::RunStats&)> finished;
    // A sweep's setting (RemoteClient::sweep) as the server finishes it: `index` of `total`.
    std::function<void(std::size_t index, std::size_t total, const engine::RepairSweepRow&)> setting;
};

// A completion as a client sees it: the text, and its own clock's time to the first token.
struct CompletionResult {
    std::string text;
    std::string finishReason;
    std::vector<std::int32_t> generatedIds; // from the BlockLens extension; empty from another server
    std::int64_t promptTokens = 0, completionTokens = 0;
    double ttftMs = 0;  // request sent -> first non-empty text received (0 when none came)
    double totalMs = 0; // request sent -> the stream's end
    std::optional<engine::RunStats> serverStats; // the BlockLens extension's
};

class RemoteClient {
public:
    explicit RemoteClient(ServerEndpoint endpoint); // Error for a URL that is not http(s)://host[:port]
    ~RemoteClient();
    RemoteClient(RemoteClient&&) noexcept;
    RemoteClient& operator=(RemoteClient&&) noexcept;

    const std::string& url() const;

    ServerInfo info() const;
    // POST /blocklens/v1/compare, streamed.
    remote::ComparisonResult compare(const remote::CompareRequest& request, const CompareHooks& hooks = {},
                                     std::stop_token stop = {}) const;
    // POST /blocklens/v1/compare with the request's "sweep" settings (engine::repairSweepFamily()
    // when it names none), streamed: hooks.setting sees each row as the server finishes it.
    remote::SweepResult sweep(const remote::CompareRequest& request, const CompareHooks& hooks = {}, std::stop_token stop = {}) const;
    // POST /blocklens/v1/run, or /blocklens/v1/attention when `attention`; streamed (cancellable).
    remote::RunReply run(const remote::RunSpec& spec, bool attention = false, std::stop_token stop = {}) const;
    // POST /v1/completions with stream: true; onText gets each piece of text as it arrives.
    CompletionResult complete(const remote::CompletionRequest& request, const std::function<void(const std::string&)>& onText = {},
                              std::stop_token stop = {}) const;
    // GET /blocklens/v1/health: the queue's counters, tokens generated, the cache (BlockLens only).
    remote::Json health() const;
    // GET /blocklens/v1/tokenizer: the served model's tokenizer.json, byte for byte (its SHA-256 is
    // ModelDescription::tokenizerHash); nullopt where the server has none to give (no tokenizer,
    // or a server without the endpoint).
    std::optional<std::string> tokenizerJson() const;
    engine::BlockKvCacheStats cacheStats() const;
    engine::BlockKvCacheStats flushCache() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace blocklens::net
