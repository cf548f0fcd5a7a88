// blocklens-cli serve: the model kept loaded behind an HTTP server (issue 22). What the server
// does is net/server.hpp's; this file parses the options, prints where it listens and waits for
// Ctrl+C.
#include "cli/command.hpp"
#include "net/server.hpp"
#include "util/error.hpp"
#include "util/signals.hpp"

#include <csignal>
#include <ostream>
#include <thread>

namespace blocklens::cli {
namespace {

std::int64_t bounded(const ArgSpec::Parsed& a, const std::string& name, std::int64_t lo, std::int64_t hi)
{
    const std::int64_t v = a.integer(name);
    if (v < lo || v > hi)
        throw UsageError{"--" + name + " must be from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " + a.value(name)};
    return v;
}

} // namespace

Command serveCommand()
{
    ArgSpec spec("serve --model DIR [--device cpu|cuda] [--dtype f32|bf16|f16] [--host 127.0.0.1] [--port N] [--token-file F] "
                 "[--no-extensions] [--max-queue N]",
                 "Keep a model loaded (and its block KV cache warm) behind an HTTP server: OpenAI-compatible GET /v1/models and "
                 "POST /v1/completions, plus BlockLens's /blocklens/v1/ endpoints (compare, run, attention, cache, health; see README). "
                 "Listens on loopback only unless --host says otherwise; a host that is not loopback needs --token-file. Prints "
                 "'listening on http://HOST:PORT' once ready; Ctrl+C stops it.");
    spec.option("model", "DIR", "Hugging Face model directory (config.json, safetensors, tokenizer.json)")
        .option("device", "DEVICE", "cpu, cuda or cuda:N", "cpu")
        .option("dtype", "DTYPE", "compute dtype: f32, bf16 or f16 (default: f32 on CPU, the checkpoint's on CUDA)")
        .option("host", "ADDR", "address to listen on; anything but loopback needs --token-file", "127.0.0.1")
        .option("port", "N", "port to listen on; 0 picks a free one (printed)", "8080")
        .option("token-file", "F", "file holding the bearer token clients must send (Authorization: Bearer TOKEN)")
        .flag("no-extensions", "act as a plain OpenAI-compatible server: no /blocklens/ endpoints, no block attention")
        .option("max-queue", "N", "requests that may wait for the model behind the running one; more get HTTP 429", "4")
        .option("max-request-bytes", "N", "largest request body accepted (HTTP 413 beyond)", "8388608")
        .option("max-prompt-tokens", "N", "longest prompt accepted, in tokens", "16384")
        .option("max-new-tokens", "N", "most tokens one request may generate", "1024")
        .option("http-threads", "N", "connections served at once", "16");
    return {"serve", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (!a.has("model"))
                    throw UsageError{"--model DIR is required"};
                net::ServeOptions o;
                o.model = a.value("model");
                o.device = a.value("device");
                if (a.has("dtype"))
                    o.dtype = a.value("dtype");
                o.host = a.value("host");
                o.port = static_cast<int>(bounded(a, "port", 0, 65535));
                if (a.has("token-file"))
                    o.token = net::readTokenFile(a.value("token-file"));
                o.extensions = !a.flag("no-extensions");
                o.maxWaiting = static_cast<std::size_t>(bounded(a, "max-queue", 0, 10000));
                o.maxRequestBytes = static_cast<std::size_t>(bounded(a, "max-request-bytes", 1024, std::int64_t{1} << 32));
                o.limits.maxPromptTokens = bounded(a, "max-prompt-tokens", 1, std::int64_t{1} << 30);
                o.limits.maxNewTokens = bounded(a, "max-new-tokens", 0, std::int64_t{1} << 30);
                o.httpThreads = static_cast<int>(bounded(a, "http-threads", 2, 1024));
                std::signal(SIGPIPE, SIG_IGN); // a client gone mid-write is an error return, not the end of the server
                net::Server server(o);
                const int port = server.bind();
                const std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
                io.out << "listening on http://" << host << ":" << port << " (model " << server.model().id << ", "
                       << server.model().device << " " << server.model().dtype << (o.extensions ? ", BlockLens extensions" : ", OpenAI API only")
                       << (o.token.empty() ? "" : ", bearer token required") << ")" << std::endl;
                const InterruptScope interrupt;
                std::jthread watcher([&server](std::stop_token stop) {
                    while (!stop.stop_requested() && !interruptRequested())
                        std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    server.stop();
                });
                server.serve();
                io.err << "stopped\n";
                return 0;
            }};
}

} // namespace blocklens::cli
