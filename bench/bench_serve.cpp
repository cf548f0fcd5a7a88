// bench_serve (issue 22): what the HTTP round trip of `blocklens-cli serve` adds to TTFT on
// loopback. The same prompt (the demo model by default) is run in this process (Runner::run, one
// generated token, full attention) and through the server, started in this process on a free
// loopback port and reached with net::RemoteClient over a real socket (a streamed completion of one
// token; TTFT as the client's clock sees the first text arrive). The server also reports its own
// TTFT, so overhead = client TTFT - server TTFT. Medians of --reps runs after two warm-ups.
//
//   bench_serve [--model DIR] [--tokens N] [--reps N]
#include "engine/model_bundle.hpp"
#include "net/client.hpp"
#include "net/server.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>

using namespace blocklens;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    std::string model = std::string(BLOCKLENS_SOURCE_DIR) + "/resources/models/demo";
    std::int64_t tokens = 512;
    int reps = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--model"))
            model = argv[i + 1];
        else if (!std::strcmp(argv[i], "--tokens"))
            tokens = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--reps"))
            reps = std::atoi(argv[i + 1]);
    }
    try {
        const engine::ModelBundle bundle = engine::loadModelBundle(engine::readModelFiles(model));
        std::vector<std::int32_t> ids;
        for (std::int64_t i = 0; i < tokens; ++i)
            ids.push_back(static_cast<std::int32_t>(2 + (i * 7919) % (bundle.config().vocabSize - 2)));

        const engine::Runner runner(bundle.model);
        engine::RunRequest req;
        req.ids = ids;
        req.logits = engine::LogitsWanted::None;
        req.maxNewTokens = 1;
        std::vector<double> local;
        for (int r = 0; r < reps + 2; ++r) {
            const double t = runner.run(req).stats.ttftMs;
            if (r >= 2)
                local.push_back(t);
        }

        net::ServeOptions o;
        o.model = model;
        o.port = 0;
        net::Server server(o);
        const int port = server.bind();
        std::thread serving([&] { server.serve(); });
        const net::RemoteClient client({"http://127.0.0.1:" + std::to_string(port), ""});
        remote::CompletionRequest c;
        c.ids = ids;
        c.maxTokens = 1;
        c.temperature = 0;
        std::vector<double> clientTtft, serverTtft, overhead;
        for (int r = 0; r < reps + 2; ++r) {
            const net::CompletionResult res = client.complete(c);
            if (r < 2)
                continue;
            clientTtft.push_back(res.ttftMs);
            serverTtft.push_back(res.serverStats->ttftMs);
            overhead.push_back(res.ttftMs - res.serverStats->ttftMs);
        }
        server.stop();
        serving.join();

        std::printf("model %s, %lld prompt tokens, full attention, 1 generated token, median of %d runs\n", model.c_str(),
                    static_cast<long long>(tokens), reps);
        std::printf("%-44s %10s\n", "", "TTFT ms");
        std::printf("%-44s %10.2f\n", "in process (Runner::run)", median(local));
        std::printf("%-44s %10.2f\n", "server's own TTFT (its RunStats)", median(serverTtft));
        std::printf("%-44s %10.2f\n", "client over HTTP on loopback (first text)", median(clientTtft));
        std::printf("%-44s %10.2f\n", "HTTP overhead (client - server, per run)", median(overhead));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_serve: %s\n", e.what());
        return 1;
    }
}
