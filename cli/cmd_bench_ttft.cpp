// blocklens-cli bench-ttft: time to first token of full attention vs block-cached attention, with
// an empty cache (cold: every block encoded, all in one pass) and with every block already cached
// (warm), per input length (the block-attention paper's Table 3 protocol:
// blocks of context, then a short question as the last, global block).
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "cli/engine_args.hpp"
#include "engine/fair_timing.hpp"
#include "engine/memory.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

// "2k,4k,32768" -> token counts.
std::vector<std::int64_t> parseLengths(const std::string& text)
{
    std::vector<std::int64_t> out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t j = text.find(',', i);
        if (j == std::string::npos)
            j = text.size();
        std::string item = text.substr(i, j - i);
        std::int64_t scale = 1;
        if (!item.empty() && (item.back() == 'k' || item.back() == 'K')) {
            scale = 1024;
            item.pop_back();
        }
        std::int64_t v = 0;
        const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (ec == std::errc::result_out_of_range || (ec == std::errc{} && ptr == item.data() + item.size() && v > engine::kMaxRunTokens / scale))
            throw UsageError{"--lengths: '" + text.substr(i, j - i) + "' is more than the " + std::to_string(engine::kMaxRunTokens) +
                             " tokens a run can hold"};
        if (ec != std::errc{} || ptr != item.data() + item.size() || v < 1)
            throw UsageError{"--lengths: '" + text.substr(i, j - i) + "' is not a length (e.g. 2k or 2048)"};
        out.push_back(v * scale);
        i = j + 1;
    }
    if (out.empty())
        throw UsageError{"--lengths needs at least one length"};
    return out;
}

} // namespace

Command benchTtftCommand()
{
    ArgSpec spec("bench-ttft --model DIR --lengths 2k,4k,...,32k [--block-size N] [--question N] [--repeats N] "
                 "[--device cuda] [--dtype bf16] [--json]",
                 "Time to first token per input length: full attention, block-cached with an empty cache (cold) and with every block cached (warm).");
    spec.option("model", "DIR", "Hugging Face model directory (e.g. one from make-model)")
        .option("lengths", "LIST", "context lengths in tokens, 'k' = 1024", "2k,4k,8k,16k,32k")
        .option("block-size", "N", "tokens per context block", "512")
        .option("question", "N", "tokens of the question (the last, global block)", "50")
        .option("repeats", "N", "timed runs per point after one warm-up; the median is reported", "3")
        .option("cache-gb", "G", "block KV cache budget on the device (and the host)", "16")
        .option("seed", "S", "seed of the random token ids", "1");
    addDeviceOptions(spec).flag("skip-full", "time only block-cached").flag("json", "print JSON");
    return {"bench-ttft", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (!a.has("model"))
                    throw UsageError{"--model DIR is required"};
                const auto lengths = parseLengths(a.value("lengths"));
                const std::int64_t blockSize = a.integer("block-size"), question = a.integer("question"), repeats = a.integer("repeats");
                if (blockSize < 1 || question < 1 || repeats < 1)
                    throw UsageError{"--block-size, --question and --repeats must be at least 1"};
                const std::int64_t longestContext = *std::max_element(lengths.begin(), lengths.end());
                if (question > engine::kMaxRunTokens - longestContext)
                    throw UsageError{"--lengths and --question: " + std::to_string(longestContext) + " + " + std::to_string(question) +
                                     " tokens are more than the " + std::to_string(engine::kMaxRunTokens) + " tokens a run can hold"};
                const double cacheGb = a.number("cache-gb");
                if (!std::isfinite(cacheGb) || cacheGb < 0 || cacheGb > 1e9)
                    throw UsageError{"--cache-gb must be a finite number of GiB, 0 or more, got '" + a.value("cache-gb") + "'"};
                const std::int64_t longest = longestContext + question;
                const auto model = engine::Model::load(a.value("model"), readLoadOptions(a, longest));
                const auto cacheBytes = static_cast<std::uint64_t>(cacheGb * double(1ull << 30));
                engine::BlockKvCache cache({.hostBytes = cacheBytes, .deviceBytes = cacheBytes});
                const engine::Runner runner(model, &cache);
                const std::int64_t vocab = model.config().vocabSize;

                json rows = json::array();
                std::uint64_t state = static_cast<std::uint64_t>(a.integer("seed")) * 0x9E3779B97F4A7C15ull + 1;
                auto nextId = [&] {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    return static_cast<std::int32_t>(3 + state % static_cast<std::uint64_t>(std::max<std::int64_t>(vocab - 3, 1)));
                };
                for (const std::int64_t length : lengths) {
                    engine::RunRequest req;
                    for (std::int64_t i = 0; i < length + question; ++i)
                        req.ids.push_back(nextId());
                    for (std::int64_t s = 0; s < length; s += blockSize)
                        req.blocks.push_back(s);
                    req.blocks.push_back(length); // the question
                    req.logits = engine::LogitsWanted::LastToken;
                    auto timeMode = [&](engine::AttentionMode mode) {
                        req.mode = mode;
                        (void)runner.run(req); // warm-up; fills the block cache
                        std::vector<double> ttft;
                        engine::RunStats last;
                        for (std::int64_t r = 0; r < repeats; ++r) {
                            last = runner.run(req).stats;
                            ttft.push_back(last.ttftMs);
                        }
                        return std::pair{engine::medianOf(ttft), last};
                    };
                    json row;
                    row["length"] = length;
                    row["tokens"] = length + question;
                    row["blocks"] = req.blocks.size();
                    // Cold: the cache emptied before every run, so every context block is encoded
                    // (all of them in one pass) before the question. The last cold run leaves the
                    // cache full for the warm timing below.
                    req.mode = engine::AttentionMode::BlockCached;
                    std::vector<double> coldTtft;
                    engine::RunStats cold;
                    for (std::int64_t r = 0; r <= repeats; ++r) { // run 0: warm-up
                        cache.clear();
                        cold = runner.run(req).stats;
                        if (r > 0)
                            coldTtft.push_back(cold.ttftMs);
                    }
                    const double coldMs = engine::medianOf(coldTtft);
                    row["block_cached_cold_ttft_ms"] = coldMs;
                    row["cold_cache_misses"] = cold.cacheMisses;
                    const auto [cachedMs, cached] = timeMode(engine::AttentionMode::BlockCached);
                    row["block_cached_ttft_ms"] = cachedMs;
                    row["block_cached_assemble_ms"] = cached.assembleMs; // of the last timed run
                    row["blocks_in_place"] = cached.blocksInPlace;       // found placed by the run before (CUDA)
                    row["block_cached_flops"] = cached.prefillFlops.total();
                    row["cache_hits"] = cached.cacheHits;
                    row["cache_misses"] = cached.cacheMisses;
                    row["full_flops"] = cached.fullFlops.total();
                    if (!a.flag("skip-full")) {
                        const auto [fullMs, full] = timeMode(engine::AttentionMode::Full);
                        row["full_ttft_ms"] = fullMs;
                        row["speedup"] = fullMs / cachedMs;
                        row["cold_over_full"] = coldMs / fullMs;
                    }
                    rows.push_back(row);
                    if (!a.flag("json")) {
                        char buf[320];
                        std::snprintf(buf, sizeof buf,
                                      "%7lld tokens  full %10s ms  block-cached cold %9.2f ms  warm %8.2f ms  %s  hits %lld/%lld  FLOPs %.3g vs %.3g\n",
                                      static_cast<long long>(length + question),
                                      row.contains("full_ttft_ms") ? std::to_string(row["full_ttft_ms"].get<double>()).substr(0, 9).c_str() : "-",
                                      coldMs, cachedMs, row.contains("speedup") ? ("x" + std::to_string(row["speedup"].get<double>()).substr(0, 6)).c_str() : "",
                                      static_cast<long long>(cached.cacheHits), static_cast<long long>(cached.cacheHits + cached.cacheMisses),
                                      cached.fullFlops.total(), cached.prefillFlops.total());
                        io.out << buf << std::flush;
                    }
                }
                if (a.flag("json")) {
                    json j;
                    j["model"] = a.value("model");
                    j["device"] = model.device();
                    j["dtype"] = std::string(engine::toString(model.dtype()));
                    j["libtorch"] = engine::torchVersion();
                    j["block_size"] = blockSize;
                    j["question"] = question;
                    j["repeats"] = repeats;
                    j["rows"] = rows;
                    j["cache"] = {{"hits", cache.stats().hits}, {"bytes", cache.stats().bytes()}, {"evictions", cache.stats().evictions}};
                    io.out << jsonText(j) << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
