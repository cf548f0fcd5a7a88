// blocklens-cli logits: float32 logits of every position under full or block attention (.npy).
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "cli/engine_args.hpp"
#include "cli/variant_args.hpp"
#include "engine/memory.hpp"
#include "engine/npy.hpp"
#if BLOCKLENS_HAVE_NET
#include "net/client.hpp"
#include "net/server.hpp"
#endif
#include "util/error.hpp"

#include <ostream>

namespace blocklens::cli {

Command logitsCommand()
{
    ArgSpec spec("logits (--model DIR | --server URL) --ids 1,2,3,... [--block-starts 0,17,40] [--mode full|block|block-cached[+REPAIR]] "
                 "[--device cpu|cuda] [--dtype f32|bf16] --out FILE.npy [--json]",
                 "Logits of every position of a token sequence, under full or block attention, as float32 .npy [n_tokens, vocab].");
    spec.option("model", "DIR", "Hugging Face model directory: config.json + model.safetensors (or shards + index)")
        .option("ids", "LIST", "token ids, comma-separated")
        .option("block-starts", "LIST", "token index where each block starts; the last block is the global one (default: one block)")
        .option("blocks", "LIST", "old name of --block-starts (a list; segment and compare take --blocks N, a count)")
        .option("mode", "MODE", "one of " + engine::attentionVariantSyntax() + "; repairs: README, engine/repair.hpp", "full")
        .option("out", "FILE", "where to write the logits (.npy, float32, [n_tokens, vocab])")
        .option("runs", "N", "run N times sharing the block KV cache and report the last run (warm cache)", "1")
        .option("attention-layers", "LIST", "also capture where these layers' attention goes, per block")
        .option("attention-out", "FILE", "with --attention-layers: float32 .npy [layers, heads, tokens, blocks] of attention mass")
        .flag("attention-by-block", "with --attention-layers: rows are query blocks (mean over their tokens)");
    spec.option("server", "URL", "run on `blocklens-cli serve` at URL (http://HOST:PORT) instead of loading --model here")
        .option("token-file", "F", "with --server: file holding the server's bearer token");
    addDeviceOptions(spec).flag("json", "print the run's statistics as JSON");
    return {"logits", spec, [](const ArgSpec::Parsed& a, Io& io) {
                for (const char* required : {"ids", "out"})
                    if (!a.has(required))
                        throw UsageError{std::string("--") + required + " is required"};
                if (a.has("model") == a.has("server"))
                    throw UsageError{"give either --model DIR or --server URL"};
                const engine::AttentionVariant variant = variantOption(a.value("mode"), "mode");
                const std::int64_t runs = a.integer("runs");
                if (runs < 1)
                    throw UsageError{"--runs must be at least 1"};
                engine::RunRequest req;
                req.ids = parseTokenIds(a.value("ids"), "ids");
                if (a.has("blocks") && a.has("block-starts"))
                    throw UsageError{"give --block-starts only (--blocks is its old name)"};
                // `--blocks N` is a count for segment and compare: a lone number here would be
                // read as one start, so it is refused with the name that means starts.
                if (a.has("blocks") && a.value("blocks").find(',') == std::string::npos)
                    throw UsageError{"--blocks " + a.value("blocks") + " is ambiguous here: give where blocks start with --block-starts LIST"};
                if (a.has("block-starts") || a.has("blocks")) {
                    const std::string name = a.has("block-starts") ? "block-starts" : "blocks";
                    req.blocks = parseIntegerList(a.value(name), name);
                }
                req.mode = variant.mode;
                req.repair = variant.repair;
                req.logits = engine::LogitsWanted::All;
                if (a.has("attention-layers") != a.has("attention-out"))
                    throw UsageError{"--attention-layers and --attention-out go together"};
                if (a.has("attention-layers")) {
                    req.attention.layers = parseIntegerList(a.value("attention-layers"), "attention-layers");
                    req.attention.byBlock = a.flag("attention-by-block");
                }
                const auto n = static_cast<std::int64_t>(req.ids.size());

                engine::RunResult r;
                std::string device, dtype;
                if (a.has("server")) { // the same run on `blocklens-cli serve` (issue 22)
#if !BLOCKLENS_HAVE_NET
                    throw UsageError{kNoHttpInThisBuild};
#else
                    const net::RemoteClient client(
                        {a.value("server"), a.has("token-file") ? net::readTokenFile(a.value("token-file")) : std::string()});
                    const net::ServerInfo info = client.info();
                    if (!info.blocklens)
                        throw Error(client.url() + " answers the OpenAI API but is not a BlockLens server: logits need `blocklens-cli serve`");
                    remote::RunSpec spec;
                    spec.prompt.ids = req.ids;
                    spec.prompt.blockStarts = req.blocks;
                    spec.variant = variant;
                    spec.logits = req.logits;
                    spec.attention = req.attention;
                    spec.runs = static_cast<int>(runs);
                    r = client.run(spec).result;
                    device = info.model.device;
                    dtype = info.model.dtype;
#endif
                } else {
                    // Every position's logits are kept: [n, vocab] floats count in the memory check.
                    auto load = readLoadOptions(a, n);
                    load.logitRows = n;
                    const auto model = engine::Model::load(a.value("model"), load);
                    const engine::Runner runner(model);
                    for (std::int64_t i = 0; i < runs; ++i)
                        r = runner.run(req);
                    device = model.device();
                    dtype = std::string(engine::toString(model.dtype()));
                }
                const std::vector<std::int64_t> shape = {r.logits.rows, r.logits.vocab};
                engine::writeNpy(a.value("out"), r.logits.values, shape);
                if (a.has("attention-out")) {
                    const auto& m = r.attention;
                    const std::vector<std::int64_t> mshape = {static_cast<std::int64_t>(m.layers.size()), m.heads, m.rows, m.blocks};
                    engine::writeNpy(a.value("attention-out"), m.values, mshape);
                }

                if (a.flag("json")) {
                    nlohmann::ordered_json j;
                    j["out"] = a.value("out");
                    j["shape"] = shape;
                    j["mode"] = engine::variantName(variant);
                    if (variant.repair.active())
                        j["recomputed_slots"] = r.recomputed;
                    j["model"] = a.has("server") ? a.value("server") : a.value("model");
                    j["device"] = device;
                    j["dtype"] = dtype;
                    j["stats"] = runStatsJson(r.stats);
                    io.out << jsonText(j) << "\n";
                    return 0;
                }
                char line[256];
                std::snprintf(line, sizeof line, "%s: float32 [%lld, %lld], mode %s, %lld block(s), %s %s; TTFT %.2f ms, prefill %.3g FLOPs",
                              a.value("out").c_str(), static_cast<long long>(shape[0]), static_cast<long long>(shape[1]),
                              engine::variantName(variant).c_str(), static_cast<long long>(r.stats.blocks),
                              device.c_str(), dtype.c_str(), r.stats.ttftMs,
                              r.stats.prefillFlops.total());
                io.out << line;
                if (variant.mode == engine::AttentionMode::BlockCached)
                    io.out << ", cache hits " << r.stats.cacheHits << "/" << (r.stats.cacheHits + r.stats.cacheMisses);
                io.out << "\n";
                return 0;
            }};
}

} // namespace blocklens::cli
