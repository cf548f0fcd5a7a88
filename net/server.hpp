#pragma once
// `blocklens-cli serve` (issue 22): one model kept loaded, with its block KV cache warm, behind an
// HTTP server that speaks the OpenAI completions API and BlockLens's extensions (README.md, "serve").
//
//   net::ServeOptions o;  o.model = "resources/models/demo";  o.port = 0;
//   net::Server server(o);          // loads the model; Error for an unsafe setup
//   int port = server.bind();       // the port really bound (o.port 0: a free one)
//   server.serve();                 // until stop(), from another thread or a signal watcher
//
// Safe by default: loopback only unless `host` says otherwise, and a host that is not loopback
// needs a bearer token; bodies, prompts and generations are bounded; requests that run the model
// wait in a bounded queue (net/job_queue.hpp), refused with 429 when it is full; a client that
// disconnects stops its work.
#include "remote/protocol.hpp"
#include "util/progress.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace blocklens::net {

struct ServeOptions {
    std::filesystem::path model;          // a model directory (config.json, weights, tokenizer.json)
    std::string device = "cpu";
    std::optional<std::string> dtype;     // "f32", "bf16", "f16"; default: the engine's for the device
    std::string host = "127.0.0.1";
    int port = 8080;                      // 0: any free port (bind() says which)
    std::string token;                    // bearer token; empty: none (then loopback only)
    bool extensions = true;               // false: a plain OpenAI server (no /blocklens/ endpoints)
    std::size_t maxWaiting = 4;           // model requests queued behind the running one
    std::size_t maxRequestBytes = 8u << 20;
    remote::RequestLimits limits;         // vocabSize is taken from the model
    int httpThreads = 16;                 // connections served at once (health, queue answers)
};

// "127.0.0.1" (any 127.x), "::1", "localhost".
bool isLoopbackHost(std::string_view host);

// A token file's contents without surrounding whitespace; Error naming the file when it cannot be
// read or holds no token.
std::string readTokenFile(const std::filesystem::path& file);

class Server {
public:
    // Checks the options (Error: a host that is not loopback without a token), then loads the model.
    explicit Server(ServeOptions options, const Progress& loading = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    int bind();   // Error when the address cannot be bound
    void serve(); // blocks until stop()
    void stop();  // any thread

    const remote::ModelDescription& model() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace blocklens::net
