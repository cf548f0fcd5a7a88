#include "cli/engine_args.hpp"

#include <charconv>

namespace blocklens::cli {

std::vector<std::int64_t> parseIntegerList(const std::string& text, const std::string& option)
{
    std::vector<std::int64_t> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == ','))
            ++i;
        if (i >= text.size())
            break;
        std::size_t j = i;
        while (j < text.size() && text[j] != ',' && text[j] != ' ')
            ++j;
        std::int64_t v = 0;
        const auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + j, v);
        if (ec != std::errc{} || ptr != text.data() + j)
            throw UsageError{"--" + option + ": '" + text.substr(i, j - i) + "' is not an integer"};
        out.push_back(v);
        i = j;
    }
    return out;
}

std::vector<std::int32_t> parseTokenIds(const std::string& text, const std::string& option)
{
    std::vector<std::int32_t> ids;
    for (const auto v : parseIntegerList(text, option)) {
        if (v < 0 || v > INT32_MAX)
            throw UsageError{"--" + option + ": token id " + std::to_string(v) + " is out of range"};
        ids.push_back(static_cast<std::int32_t>(v));
    }
    if (ids.empty())
        throw UsageError{"--" + option + " needs at least one token id"};
    return ids;
}

ArgSpec& addDeviceOptions(ArgSpec& spec)
{
    return spec.option("device", "DEVICE", "cpu, cuda or cuda:N", "cpu")
        .option("dtype", "DTYPE", "compute dtype: f32, bf16 or f16 (default: f32 on CPU, the checkpoint's on CUDA)");
}

engine::LoadOptions readLoadOptions(const ArgSpec::Parsed& a, std::int64_t maxTokens)
{
    engine::LoadOptions o;
    o.device = a.value("device");
    if (a.has("dtype")) {
        const auto d = engine::parseDType(a.value("dtype"));
        if (!d)
            throw UsageError{"--dtype must be f32, bf16 or f16, got '" + a.value("dtype") + "'"};
        o.dtype = *d;
    }
    o.maxTokens = maxTokens;
    return o;
}

nlohmann::ordered_json runStatsJson(const engine::RunStats& s)
{
    nlohmann::ordered_json j;
    j["tokens"] = s.tokens;
    j["blocks"] = s.blocks;
    j["ttft_ms"] = s.ttftMs;
    j["prefill_ms"] = s.prefillMs;
    j["assemble_ms"] = s.assembleMs;
    j["decode_ms"] = s.decodeMs;
    j["prefill_flops"] = s.prefillFlops.total();
    j["saved_flops"] = s.savedFlops.total();
    j["full_prefill_flops"] = s.fullFlops.total();
    j["repair_flops"] = s.repairFlops.total(); // of prefill_flops: the repair's own work (issue 18)
    j["kv_bytes"] = s.kvBytes;
    j["cache_hits"] = s.cacheHits;
    j["cache_misses"] = s.cacheMisses;
    j["generated_tokens"] = s.generatedTokens;
    return j;
}

} // namespace blocklens::cli
