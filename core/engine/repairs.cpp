#include "engine/repairs.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace blocklens::engine {
namespace {

Error badMode(const std::string& message) { return Error(message, {.item = "mode"}); }

std::int64_t parseCount(std::string_view text, const std::string& setting)
{
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size())
        throw badMode(setting + ": '" + std::string(text) + "' is not a whole number of tokens");
    if (v < 0)
        throw badMode(setting + ": the number of tokens must not be negative, got " + std::string(text));
    return v;
}

double parseFraction(std::string_view text, const std::string& setting)
{
    const std::string s(text);
    char* end = nullptr;
    const double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
        throw badMode(setting + ": '" + s + "' is not a number");
    if (v < 0 || v > 1)
        throw badMode(setting + ": the fraction must be between 0 and 1, got " + s);
    return v;
}

std::string shortNumber(double v)
{
    std::ostringstream o;
    o << v; // 0.15, 1, 0.05
    return o.str();
}

} // namespace

std::string attentionVariantSyntax()
{
    return "full, block, block-cached, block-cached+sink:N|bos, block-cached+recompute-first:K, block-cached+recompute-frac:R "
           "(R in [0, 1])";
}

AttentionVariant parseAttentionVariant(std::string_view text)
{
    AttentionVariant v;
    const auto plus = text.find('+');
    const std::string_view modeName = text.substr(0, plus);
    const auto mode = parseAttentionMode(modeName);
    if (!mode)
        throw badMode("unknown attention mode '" + std::string(text) + "' (known: " + attentionVariantSyntax() + ")");
    v.mode = *mode;
    if (plus == std::string_view::npos)
        return v;
    const std::string_view repair = text.substr(plus + 1);
    if (v.mode != AttentionMode::BlockCached)
        throw badMode("the repair '" + std::string(repair) + "' is a variant of block-cached, not of " + std::string(modeName));
    const auto colon = repair.find(':');
    const std::string name(repair.substr(0, colon));
    if (colon == std::string_view::npos)
        throw badMode("the repair '" + name + "' needs its setting after a colon (e.g. recompute-first:16)");
    const std::string_view value = repair.substr(colon + 1);
    const std::string setting = "block-cached+" + std::string(repair);
    if (name == "sink") {
        v.repair.kind = RepairKind::Sink;
        if (value == "bos")
            v.repair.sinkBos = true;
        else
            v.repair.sinkTokens = parseCount(value, setting);
    } else if (name == "recompute-first") {
        v.repair.kind = RepairKind::RecomputeFirst;
        v.repair.firstTokens = parseCount(value, setting);
    } else if (name == "recompute-frac") {
        v.repair.kind = RepairKind::RecomputeFrac;
        v.repair.fraction = parseFraction(value, setting);
    } else {
        throw badMode("unknown repair '" + name + "' in '" + std::string(text) + "' (known: sink, recompute-first, recompute-frac)");
    }
    return v;
}

std::string repairName(const Repair& r)
{
    switch (r.kind) {
    case RepairKind::None: return {};
    case RepairKind::Sink: return r.sinkBos ? "sink:bos" : "sink:" + std::to_string(r.sinkTokens);
    case RepairKind::RecomputeFirst: return "recompute-first:" + std::to_string(r.firstTokens);
    case RepairKind::RecomputeFrac: return "recompute-frac:" + shortNumber(r.fraction);
    }
    return {};
}

std::string variantName(const AttentionVariant& v)
{
    std::string name(toString(v.mode));
    if (v.repair.active())
        name += "+" + repairName(v.repair);
    return name;
}

RepairPlan planRepair(const Repair& repair, AttentionMode mode, std::span<const std::int32_t> ids,
                      const std::vector<std::int64_t>& blocks, const ModelConfig& config)
{
    RepairPlan plan;
    if (!repair.active())
        return plan;
    const std::string name = "block-cached+" + repairName(repair);
    if (mode != AttentionMode::BlockCached)
        throw badMode(name + " is a variant of block-cached, not of " + std::string(toString(mode)));
    if (repair.sinkTokens < 0 || repair.firstTokens < 0)
        throw badMode(name + ": the number of tokens must not be negative");
    if (!(repair.fraction >= 0 && repair.fraction <= 1))
        throw badMode(name + ": the fraction must be between 0 and 1");
    const auto n = static_cast<std::int64_t>(ids.size());
    const std::int64_t context = blocks.back(); // tokens before the query block
    const std::int64_t firstBlock = blocks.size() > 1 ? blocks[1] : n;
    switch (repair.kind) {
    case RepairKind::None: break;
    case RepairKind::Sink: {
        if (repair.sinkBos) {
            if (!config.bosTokenId)
                throw badMode(name + ": the model's config.json names no bos_token_id; give sink:N (the first N tokens)");
            if (ids.empty() || ids[0] != *config.bosTokenId)
                throw badMode(name + ": the input does not start with the model's BOS token (id " + std::to_string(*config.bosTokenId) +
                              "); give sink:N (the first N tokens)");
            plan.sinkTokens = 1;
        } else {
            plan.sinkTokens = repair.sinkTokens;
        }
        if (plan.sinkTokens > context)
            throw badMode(name + ": the sink is longer than the context (" + std::to_string(context) + " tokens before the query block)");
        if (plan.sinkTokens > firstBlock)
            throw badMode(name + ": the sink is longer than the first block (" + std::to_string(firstBlock) +
                          " tokens), which holds the sink tokens");
        break;
    }
    case RepairKind::RecomputeFirst:
        for (std::size_t b = 1; b + 1 < blocks.size(); ++b)
            for (std::int64_t s = blocks[b]; s < std::min(blocks[b] + repair.firstTokens, blocks[b + 1]); ++s)
                plan.recompute.push_back(s);
        break;
    case RepairKind::RecomputeFrac:
        for (std::int64_t s = firstBlock; s < context; ++s)
            plan.candidates.push_back(s);
        plan.select = std::llround(repair.fraction * static_cast<double>(plan.candidates.size()));
        break;
    }
    return plan;
}

std::vector<AttentionVariant> repairSweepFamily()
{
    std::vector<AttentionVariant> out;
    auto add = [&](Repair r) { out.push_back({AttentionMode::BlockCached, r}); };
    for (const std::int64_t n : {0, 1, 4, 16})
        add({.kind = RepairKind::Sink, .sinkTokens = n});
    for (const std::int64_t k : {0, 1, 4, 16, 64})
        add({.kind = RepairKind::RecomputeFirst, .firstTokens = k});
    for (const double r : {0.0, 0.05, 0.15, 0.3, 1.0})
        add({.kind = RepairKind::RecomputeFrac, .fraction = r});
    return out;
}

} // namespace blocklens::engine
