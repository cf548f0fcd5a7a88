#include "remote/protocol.hpp"

#include "util/base64.hpp"
#include "util/error.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace blocklens::remote {
namespace {

static_assert(std::endian::native == std::endian::little, "the wire format's float32 arrays are little-endian");

// ---- Reading a request: every rule broken is one line naming the field ----------------------------

[[noreturn]] void badField(const std::string& name, const std::string& rule)
{
    throw Error("request field '" + name + "' " + rule);
}

std::int64_t intField(const Json& body, const std::string& name, std::int64_t fallback, std::int64_t lo, std::int64_t hi)
{
    if (!body.contains(name) || body[name].is_null())
        return fallback;
    const Json& v = body[name];
    if (!v.is_number_integer())
        badField(name, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
        badField(name, "must be at most " + std::to_string(hi) + ", got " + v.dump());
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > hi)
        badField(name, "must be from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " + std::to_string(x));
    return x;
}

double numberField(const Json& body, const std::string& name, double fallback, double lo, double hi)
{
    if (!body.contains(name) || body[name].is_null())
        return fallback;
    const Json& v = body[name];
    if (!v.is_number())
        badField(name, "must be a number");
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi)
        badField(name, "must be a finite number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return x;
}

bool boolField(const Json& body, const std::string& name, bool fallback)
{
    if (!body.contains(name) || body[name].is_null())
        return fallback;
    if (!body[name].is_boolean())
        badField(name, "must be true or false");
    return body[name].get<bool>();
}

std::optional<std::string> stringField(const Json& body, const std::string& name)
{
    if (!body.contains(name) || body[name].is_null())
        return std::nullopt;
    if (!body[name].is_string())
        badField(name, "must be a string");
    return body[name].get<std::string>();
}

std::vector<std::int64_t> intListField(const Json& body, const std::string& name, std::int64_t lo, std::int64_t hi, std::size_t maxLength)
{
    std::vector<std::int64_t> out;
    if (!body.contains(name) || body[name].is_null())
        return out;
    const Json& v = body[name];
    if (!v.is_array())
        badField(name, "must be an array of integers");
    if (v.size() > maxLength)
        badField(name, "has " + std::to_string(v.size()) + " entries, more than the " + std::to_string(maxLength) + " allowed");
    for (std::size_t i = 0; i < v.size(); ++i) {
        const Json& e = v[i];
        if (!e.is_number_integer() || (e.is_number_unsigned() && e.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) ||
            e.get<std::int64_t>() < lo || e.get<std::int64_t>() > hi)
            badField(name, "entry " + std::to_string(i) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                               ", got " + e.dump());
        out.push_back(e.get<std::int64_t>());
    }
    return out;
}

std::vector<std::int32_t> tokenIds(const Json& body, const std::string& name, const RequestLimits& limits)
{
    const std::int64_t top = limits.vocabSize > 0 ? limits.vocabSize - 1 : std::numeric_limits<std::int32_t>::max();
    const auto list = intListField(body, name, 0, top, static_cast<std::size_t>(limits.maxPromptTokens));
    return {list.begin(), list.end()};
}

engine::AttentionVariant variantField(const Json& body, const std::string& name, engine::AttentionVariant fallback)
{
    const auto text = stringField(body, name);
    if (!text)
        return fallback;
    try {
        return engine::parseAttentionVariant(*text);
    } catch (const Error& e) {
        badField(name, "is not an attention variant (" + engine::attentionVariantSyntax() + "): " + e.message());
    }
}

// ---- Float arrays ------------------------------------------------------------------------------

std::string floatsBase64(const std::vector<float>& values)
{
    return base64Encode(std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

std::vector<float> floatsFromBase64(const Json& j, std::size_t expected, const char* what)
{
    const auto bytes = base64Decode(j.get<std::string>());
    if (!bytes || bytes->size() != expected * sizeof(float))
        throw Error(std::string("the server's ") + what + " are not " + std::to_string(expected) + " base64 float32 values");
    std::vector<float> out(expected);
    if (expected > 0)
        std::memcpy(out.data(), bytes->data(), bytes->size());
    return out;
}

Json flopsJson(const engine::FlopCount& f)
{
    return Json{{"linear", f.linear}, {"attention", f.attention}, {"lm_head", f.lmHead}};
}

engine::FlopCount flopsFromJson(const Json& j)
{
    return {j.at("linear").get<double>(), j.at("attention").get<double>(), j.at("lm_head").get<double>()};
}

template <class T> Json optionalJson(const std::optional<T>& v)
{
    return v ? Json(*v) : Json(nullptr);
}

template <class T> std::optional<T> optionalFrom(const Json& j, const char* name)
{
    if (!j.contains(name) || j[name].is_null())
        return std::nullopt;
    return j[name].get<T>();
}

Json timingJson(const engine::TimingProtocol& t)
{
    return Json{{"warm_ups", t.warmUps}, {"repeats", t.repeats}, {"note", engine::describeTiming(t)}};
}

Json granularityJson(const segment::Granularity& g)
{
    Json j = Json::object();
    switch (g.mode) {
    case segment::GranularityMode::Default:
        break;
    case segment::GranularityMode::TargetTokens:
        j["target_tokens"] = g.targetTokens;
        break;
    case segment::GranularityMode::Blocks:
        j["blocks"] = g.blocks;
        break;
    case segment::GranularityMode::Threshold:
        j["threshold"] = g.threshold;
        j["depth"] = g.depth;
        break;
    }
    if (g.minTokens)
        j["min_tokens"] = *g.minTokens;
    if (g.maxTokens)
        j["max_tokens"] = *g.maxTokens;
    return j;
}

segment::Granularity granularityFromJson(const Json& body)
{
    segment::Granularity g;
    if (!body.contains("granularity") || body["granularity"].is_null())
        return g;
    const Json& j = body["granularity"];
    if (!j.is_object())
        badField("granularity", "must be an object with one of target_tokens, blocks, threshold (+ depth)");
    const int controls = int(j.contains("target_tokens")) + int(j.contains("blocks")) + int(j.contains("threshold"));
    if (controls > 1)
        badField("granularity", "takes only one of target_tokens, blocks and threshold");
    constexpr std::int64_t kMax = 1 << 24;
    if (j.contains("target_tokens"))
        g = segment::Granularity::target(static_cast<std::size_t>(intField(j, "target_tokens", 1, 1, kMax)));
    else if (j.contains("blocks"))
        g = segment::Granularity::exactBlocks(static_cast<std::size_t>(intField(j, "blocks", 1, 1, kMax)));
    else if (j.contains("threshold"))
        g = segment::Granularity::thresholdDepth(numberField(j, "threshold", 0, -1e9, 1e9), static_cast<int>(intField(j, "depth", 0, 0, 64)));
    else if (j.contains("depth"))
        badField("granularity.depth", "goes with threshold");
    if (j.contains("min_tokens"))
        g.minTokens = static_cast<std::size_t>(intField(j, "min_tokens", 1, 1, kMax));
    if (j.contains("max_tokens"))
        g.maxTokens = static_cast<std::size_t>(intField(j, "max_tokens", 1, 1, kMax));
    return g;
}

engine::LogitsWanted logitsFromName(const std::string& name)
{
    if (name == "none")
        return engine::LogitsWanted::None;
    if (name == "last-token")
        return engine::LogitsWanted::LastToken;
    if (name == "last-block")
        return engine::LogitsWanted::LastBlock;
    if (name == "all")
        return engine::LogitsWanted::All;
    badField("logits", "must be none, last-token, last-block or all, got '" + name + "'");
}

const char* logitsName(engine::LogitsWanted w)
{
    switch (w) {
    case engine::LogitsWanted::None:
        return "none";
    case engine::LogitsWanted::LastToken:
        return "last-token";
    case engine::LogitsWanted::LastBlock:
        return "last-block";
    case engine::LogitsWanted::All:
        break;
    }
    return "all";
}

} // namespace

// ---- Values ------------------------------------------------------------------------------------

Json toJson(const engine::RunStats& s)
{
    return Json{{"ttft_ms", s.ttftMs},
                {"prefill_ms", s.prefillMs},
                {"assemble_ms", s.assembleMs},
                {"decode_ms", s.decodeMs},
                {"prefill_flops", flopsJson(s.prefillFlops)},
                {"saved_flops", flopsJson(s.savedFlops)},
                {"full_flops", flopsJson(s.fullFlops)},
                {"repair_flops", flopsJson(s.repairFlops)},
                {"kv_bytes", s.kvBytes},
                {"tokens", s.tokens},
                {"blocks", s.blocks},
                {"cache_hits", s.cacheHits},
                {"cache_misses", s.cacheMisses},
                {"generated_tokens", s.generatedTokens}};
}

engine::RunStats runStatsFromJson(const Json& j)
{
    engine::RunStats s;
    s.ttftMs = j.at("ttft_ms").get<double>();
    s.prefillMs = j.at("prefill_ms").get<double>();
    s.assembleMs = j.at("assemble_ms").get<double>();
    s.decodeMs = j.at("decode_ms").get<double>();
    s.prefillFlops = flopsFromJson(j.at("prefill_flops"));
    s.savedFlops = flopsFromJson(j.at("saved_flops"));
    s.fullFlops = flopsFromJson(j.at("full_flops"));
    s.repairFlops = flopsFromJson(j.at("repair_flops"));
    s.kvBytes = j.at("kv_bytes").get<std::uint64_t>();
    s.tokens = j.at("tokens").get<std::int64_t>();
    s.blocks = j.at("blocks").get<std::int64_t>();
    s.cacheHits = j.at("cache_hits").get<std::int64_t>();
    s.cacheMisses = j.at("cache_misses").get<std::int64_t>();
    s.generatedTokens = j.at("generated_tokens").get<std::int64_t>();
    return s;
}

Json toJson(const engine::AttentionMass& m)
{
    return Json{{"layers", m.layers},   {"heads", m.heads},       {"rows", m.rows},
                {"blocks", m.blocks},   {"by_block", m.byBlock},  {"values_b64", floatsBase64(m.values)}};
}

engine::AttentionMass attentionMassFromJson(const Json& j)
{
    engine::AttentionMass m;
    m.layers = j.at("layers").get<std::vector<std::int64_t>>();
    m.heads = j.at("heads").get<std::int64_t>();
    m.rows = j.at("rows").get<std::int64_t>();
    m.blocks = j.at("blocks").get<std::int64_t>();
    m.byBlock = j.at("by_block").get<bool>();
    const auto n = static_cast<std::size_t>(m.layers.size()) * static_cast<std::size_t>(m.heads * m.rows * m.blocks);
    m.values = floatsFromBase64(j.at("values_b64"), n, "attention mass values");
    return m;
}

Json toJson(const engine::RunResult& r)
{
    Json j;
    j["logits"] = Json{{"first_row", r.logits.firstRow},
                       {"rows", r.logits.rows},
                       {"vocab", r.logits.vocab},
                       {"values_b64", floatsBase64(r.logits.values)}};
    j["generated"] = r.generated;
    j["recomputed"] = r.recomputed;
    j["stats"] = toJson(r.stats);
    if (!r.attention.layers.empty())
        j["attention"] = toJson(r.attention);
    return j;
}

engine::RunResult runResultFromJson(const Json& j)
{
    engine::RunResult r;
    const Json& l = j.at("logits");
    r.logits.firstRow = l.at("first_row").get<std::int64_t>();
    r.logits.rows = l.at("rows").get<std::int64_t>();
    r.logits.vocab = l.at("vocab").get<std::int64_t>();
    r.logits.values = floatsFromBase64(l.at("values_b64"), static_cast<std::size_t>(r.logits.rows * r.logits.vocab), "logits");
    r.generated = j.at("generated").get<std::vector<std::int32_t>>();
    r.recomputed = j.at("recomputed").get<std::vector<std::int64_t>>();
    r.stats = runStatsFromJson(j.at("stats"));
    if (j.contains("attention"))
        r.attention = attentionMassFromJson(j["attention"]);
    return r;
}

Json toJson(const engine::ModeComparison& c)
{
    return Json{{"first_row", c.firstRow},
                {"kl", c.kl},
                {"mean_kl", c.meanKl},
                {"max_kl", c.maxKl},
                {"top1_agreement", c.top1Agreement},
                {"perplexity_reference", optionalJson(c.perplexityA)},
                {"perplexity_compared", optionalJson(c.perplexityB)},
                {"first_divergent_generated_token", optionalJson(c.firstDivergentToken)},
                {"compared_generated", c.comparedGenerated}};
}

engine::ModeComparison modeComparisonFromJson(const Json& j)
{
    engine::ModeComparison c;
    c.firstRow = j.at("first_row").get<std::int64_t>();
    c.kl = j.at("kl").get<std::vector<double>>();
    c.meanKl = j.at("mean_kl").get<double>();
    c.maxKl = j.at("max_kl").get<double>();
    c.top1Agreement = j.at("top1_agreement").get<double>();
    c.perplexityA = optionalFrom<double>(j, "perplexity_reference");
    c.perplexityB = optionalFrom<double>(j, "perplexity_compared");
    c.firstDivergentToken = optionalFrom<std::int64_t>(j, "first_divergent_generated_token");
    c.comparedGenerated = j.at("compared_generated").get<std::int64_t>();
    return c;
}

Json toJson(const engine::BlockKvCacheStats& s)
{
    return Json{{"hits", s.hits},           {"host_hits", s.hostHits},   {"misses", s.misses},
                {"insertions", s.insertions}, {"evictions", s.evictions}, {"demotions", s.demotions},
                {"rejected", s.rejected},   {"entries", s.entries},      {"host_bytes", s.hostBytes},
                {"device_bytes", s.deviceBytes}};
}

engine::BlockKvCacheStats cacheStatsFromJson(const Json& j)
{
    engine::BlockKvCacheStats s;
    s.hits = j.at("hits").get<std::int64_t>();
    s.hostHits = j.at("host_hits").get<std::int64_t>();
    s.misses = j.at("misses").get<std::int64_t>();
    s.insertions = j.at("insertions").get<std::int64_t>();
    s.evictions = j.at("evictions").get<std::int64_t>();
    s.demotions = j.at("demotions").get<std::int64_t>();
    s.rejected = j.at("rejected").get<std::int64_t>();
    s.entries = j.at("entries").get<std::int64_t>();
    s.hostBytes = j.at("host_bytes").get<std::uint64_t>();
    s.deviceBytes = j.at("device_bytes").get<std::uint64_t>();
    return s;
}

Json toJson(const usecases::ComparisonInput& in)
{
    Json spans = Json::array();
    for (const TokenSpan& s : in.spans)
        spans.push_back(Json::array({s.begin, s.end}));
    return Json{{"ids", in.ids}, {"block_starts", in.blocks}, {"spans", spans}, {"query_tokens", in.queryTokens}};
}

usecases::ComparisonInput comparisonInputFromJson(const Json& j)
{
    usecases::ComparisonInput in;
    in.ids = j.at("ids").get<std::vector<std::int32_t>>();
    in.blocks = j.at("block_starts").get<std::vector<std::int64_t>>();
    for (const Json& s : j.at("spans"))
        in.spans.push_back({s.at(0).get<std::size_t>(), s.at(1).get<std::size_t>()});
    in.queryTokens = j.at("query_tokens").get<std::int64_t>();
    return in;
}

// ---- Prompts -----------------------------------------------------------------------------------

Json toJson(const PromptSpec& p)
{
    Json j = Json::object();
    if (p.text) {
        j["text"] = *p.text;
        if (p.cuts)
            j["cuts"] = *p.cuts;
        else {
            if (!p.segmenter.empty())
                j["segmenter"] = p.segmenter;
            const Json g = granularityJson(p.granularity);
            if (!g.empty())
                j["granularity"] = g;
        }
        if (!p.query.empty())
            j["query"] = p.query;
    } else {
        j["ids"] = p.ids;
        if (!p.blockStarts.empty())
            j["block_starts"] = p.blockStarts;
    }
    return j;
}

PromptSpec promptSpecFromJson(const Json& body, const RequestLimits& limits)
{
    if (!body.is_object())
        throw Error("the request body must be a JSON object");
    PromptSpec p;
    const bool hasIds = body.contains("ids"), hasText = body.contains("text");
    if (hasIds == hasText)
        throw Error("give either 'ids' (token ids, with 'block_starts') or 'text' (encoded with the model's tokenizer)");
    if (hasIds) {
        for (const char* textOnly : {"cuts", "segmenter", "granularity", "query"})
            if (body.contains(textOnly))
                badField(textOnly, "goes with 'text', not with 'ids'");
        p.ids = tokenIds(body, "ids", limits);
        if (p.ids.empty())
            badField("ids", "needs at least one token id");
        p.blockStarts = intListField(body, "block_starts", 0, static_cast<std::int64_t>(p.ids.size()) - 1, p.ids.size());
        return p;
    }
    if (body.contains("block_starts"))
        badField("block_starts", "goes with 'ids'; with 'text' give 'cuts' (code points) or a segmenter");
    p.text = stringField(body, "text");
    // A code point takes at least one byte: a text longer than the prompt bound in bytes may still
    // fit in tokens, so the real check is on the encoded tokens (the server's); this bounds the work.
    if (p.text->size() > static_cast<std::size_t>(limits.maxPromptTokens) * 64)
        badField("text", "is longer than the server accepts (" + std::to_string(limits.maxPromptTokens) + " tokens)");
    if (body.contains("cuts")) {
        if (body.contains("segmenter") || body.contains("granularity"))
            badField("cuts", "goes without 'segmenter' and 'granularity'");
        const auto cuts = intListField(body, "cuts", 0, static_cast<std::int64_t>(p.text->size()), p.text->size() + 1);
        p.cuts = std::vector<std::size_t>(cuts.begin(), cuts.end());
    } else {
        p.segmenter = stringField(body, "segmenter").value_or("");
        p.granularity = granularityFromJson(body);
    }
    p.query = stringField(body, "query").value_or("");
    return p;
}

// ---- Compare -----------------------------------------------------------------------------------

Json toJson(const CompareRequest& r)
{
    Json j = toJson(r.prompt);
    j["modes"] = Json::array({engine::variantName(r.reference), engine::variantName(r.compared)});
    j["max_new_tokens"] = r.maxNewTokens;
    j["temperature"] = r.temperature;
    j["seed"] = r.seed;
    j["repeats"] = r.repeats;
    j["cold_cache"] = r.coldCache;
    j["stream"] = r.stream;
    if (r.sweep) {
        Json settings = Json::array();
        for (const engine::AttentionVariant& v : *r.sweep)
            settings.push_back(engine::variantName(v));
        j["sweep"] = settings;
    }
    return j;
}

CompareRequest compareRequestFromJson(const Json& body, const RequestLimits& limits)
{
    CompareRequest r;
    r.prompt = promptSpecFromJson(body, limits);
    if (body.contains("modes")) {
        const Json& m = body["modes"];
        if (!m.is_array() || m.size() != 2 || !m[0].is_string() || !m[1].is_string())
            badField("modes", "must be two attention variants, e.g. [\"full\", \"block-cached\"]");
        const Json pair{{"reference", m[0]}, {"compared", m[1]}};
        r.reference = variantField(pair, "reference", r.reference);
        r.compared = variantField(pair, "compared", r.compared);
    }
    r.maxNewTokens = intField(body, "max_new_tokens", r.maxNewTokens, 0, limits.maxNewTokens);
    r.temperature = numberField(body, "temperature", 0, 0, 100);
    r.seed = static_cast<std::uint64_t>(intField(body, "seed", 0, 0, std::numeric_limits<std::int64_t>::max()));
    r.repeats = static_cast<int>(intField(body, "repeats", 1, 1, limits.maxRepeats));
    r.coldCache = boolField(body, "cold_cache", true);
    r.stream = boolField(body, "stream", false);
    if (body.contains("sweep") && !body["sweep"].is_null()) {
        const Json& s = body["sweep"];
        constexpr std::size_t kMaxSettings = 64;
        if (s.is_boolean()) {
            if (s.get<bool>())
                r.sweep = engine::repairSweepFamily();
        } else if (!s.is_array() || s.empty() || s.size() > kMaxSettings) {
            badField("sweep", "must be true (every repair setting) or a list of 1 to " + std::to_string(kMaxSettings) +
                                  " attention variants, e.g. [\"block-cached+sink:4\"]");
        } else {
            r.sweep.emplace();
            for (std::size_t i = 0; i < s.size(); ++i) {
                const std::string name = "sweep[" + std::to_string(i) + "]";
                if (!s[i].is_string())
                    badField(name, "must be an attention variant (" + engine::attentionVariantSyntax() + ")");
                r.sweep->push_back(variantField(Json{{name, s[i]}}, name, r.compared));
            }
        }
    }
    return r;
}

usecases::ComparisonOptions comparisonOptions(const CompareRequest& r)
{
    return usecases::ComparisonOptions{.reference = r.reference.mode, .compared = r.compared.mode,
                                       .referenceRepair = r.reference.repair, .comparedRepair = r.compared.repair,
                                       .maxNewTokens = r.maxNewTokens, .temperature = r.temperature, .seed = r.seed,
                                       .timing = engine::TimingProtocol{.warmUps = 1, .repeats = r.repeats}, .coldCache = r.coldCache};
}

Json toJson(const ComparisonResult& r)
{
    Json j;
    j["input"] = toJson(r.input);
    j["segmenter"] = r.segmenter;
    j["reference"] = Json{{"mode", engine::variantName(r.reference)}, {"result", toJson(r.report.reference)}, {"text", r.referenceText}};
    j["compared"] = Json{{"mode", engine::variantName(r.compared)}, {"result", toJson(r.report.compared)}, {"text", r.comparedText}};
    j["compared_warm"] = r.report.comparedWarm ? toJson(*r.report.comparedWarm) : Json(nullptr);
    j["comparison"] = toJson(r.report.comparison);
    j["context_warning"] = optionalJson(r.report.contextWarning);
    j["timing"] = timingJson(r.report.timing);
    return j;
}

ComparisonResult comparisonResultFromJson(const Json& j)
{
    ComparisonResult r;
    r.input = comparisonInputFromJson(j.at("input"));
    r.segmenter = j.at("segmenter").get<std::string>();
    r.reference = engine::parseAttentionVariant(j.at("reference").at("mode").get<std::string>());
    r.compared = engine::parseAttentionVariant(j.at("compared").at("mode").get<std::string>());
    r.report.reference = runResultFromJson(j.at("reference").at("result"));
    r.report.compared = runResultFromJson(j.at("compared").at("result"));
    r.referenceText = j.at("reference").at("text").get<std::string>();
    r.comparedText = j.at("compared").at("text").get<std::string>();
    if (!j.at("compared_warm").is_null())
        r.report.comparedWarm = runStatsFromJson(j["compared_warm"]);
    r.report.comparison = modeComparisonFromJson(j.at("comparison"));
    r.report.contextWarning = optionalFrom<std::string>(j, "context_warning");
    r.report.timing.warmUps = j.at("timing").at("warm_ups").get<int>();
    r.report.timing.repeats = j.at("timing").at("repeats").get<int>();
    return r;
}

// ---- Sweep -------------------------------------------------------------------------------------

namespace {

// A run's result without its logits: what a sweep's rows need (stats, generated and recomputed
// tokens), a small part of what the logits would weigh.
Json withoutLogits(engine::RunResult r)
{
    r.logits = {};
    return toJson(r);
}

} // namespace

Json toJson(const engine::RepairSweepRow& row)
{
    Json j{{"mode", engine::variantName(row.variant)}};
    if (row.skipped) {
        j["skipped"] = *row.skipped;
        return j;
    }
    j["result"] = withoutLogits(row.result);
    j["comparison"] = toJson(row.comparison);
    j["ttft_warm_ms"] = row.warmTtftMs;
    j["extra_flops_share_warm"] = row.extraWarm;
    j["extra_flops_share_cold"] = row.extraCold;
    return j;
}

engine::RepairSweepRow sweepRowFromJson(const Json& j)
{
    engine::RepairSweepRow row;
    row.variant = engine::parseAttentionVariant(j.at("mode").get<std::string>());
    if (j.contains("skipped")) {
        row.skipped = j["skipped"].get<std::string>();
        return row;
    }
    row.result = runResultFromJson(j.at("result"));
    row.comparison = modeComparisonFromJson(j.at("comparison"));
    row.warmTtftMs = j.at("ttft_warm_ms").get<double>();
    row.extraWarm = j.at("extra_flops_share_warm").get<double>();
    row.extraCold = j.at("extra_flops_share_cold").get<double>();
    return row;
}

Json toJson(const SweepResult& r)
{
    Json rows = Json::array();
    for (const engine::RepairSweepRow& row : r.rows)
        rows.push_back(toJson(row));
    return Json{{"input", toJson(r.input)},
                {"segmenter", r.segmenter},
                {"reference", {{"mode", engine::variantName(r.reference)}, {"result", withoutLogits(r.referenceResult)}}},
                {"settings", rows}};
}

SweepResult sweepResultFromJson(const Json& j)
{
    SweepResult r;
    r.input = comparisonInputFromJson(j.at("input"));
    r.segmenter = j.at("segmenter").get<std::string>();
    r.reference = engine::parseAttentionVariant(j.at("reference").at("mode").get<std::string>());
    r.referenceResult = runResultFromJson(j.at("reference").at("result"));
    for (const Json& row : j.at("settings"))
        r.rows.push_back(sweepRowFromJson(row));
    return r;
}

// ---- Run / attention ---------------------------------------------------------------------------

Json toJson(const RunSpec& s)
{
    Json j = toJson(s.prompt);
    j["mode"] = engine::variantName(s.variant);
    j["logits"] = logitsName(s.logits);
    if (!s.attention.layers.empty()) {
        j["attention_layers"] = s.attention.layers;
        j["attention_by_block"] = s.attention.byBlock;
    }
    if (s.tokenRowsBudget)
        j["attention_token_rows_budget"] = *s.tokenRowsBudget;
    j["runs"] = s.runs;
    return j;
}

RunSpec runSpecFromJson(const Json& body, const RequestLimits& limits)
{
    RunSpec s;
    s.prompt = promptSpecFromJson(body, limits);
    s.variant = variantField(body, "mode", s.variant);
    if (const auto name = stringField(body, "logits"))
        s.logits = logitsFromName(*name);
    s.attention.layers = intListField(body, "attention_layers", 0, 4096, 4096);
    s.attention.byBlock = boolField(body, "attention_by_block", false);
    if (body.contains("attention_token_rows_budget") && !body["attention_token_rows_budget"].is_null())
        s.tokenRowsBudget = static_cast<std::uint64_t>(
            intField(body, "attention_token_rows_budget", 0, 0, std::numeric_limits<std::int64_t>::max()));
    s.runs = static_cast<int>(intField(body, "runs", 1, 1, limits.maxRepeats));
    return s;
}

Json toJson(const RunReply& r)
{
    return Json{{"input", toJson(r.input)},
                {"result", toJson(r.result)},
                {"milliseconds", r.milliseconds},
                {"context_warning", optionalJson(r.contextWarning)}};
}

RunReply runReplyFromJson(const Json& j)
{
    RunReply r;
    r.input = comparisonInputFromJson(j.at("input"));
    r.result = runResultFromJson(j.at("result"));
    r.milliseconds = j.at("milliseconds").get<double>();
    r.contextWarning = optionalFrom<std::string>(j, "context_warning");
    return r;
}

// ---- Completions -------------------------------------------------------------------------------

Json toJson(const CompletionRequest& r)
{
    Json j;
    if (!r.promptBlocks.empty())
        j["prompt_blocks"] = r.promptBlocks;
    else if (r.text)
        j["prompt"] = *r.text;
    else
        j["prompt"] = r.ids;
    j["max_tokens"] = r.maxTokens;
    j["temperature"] = r.temperature;
    j["seed"] = r.seed;
    j["stream"] = r.stream;
    if (!r.blockStarts.empty())
        j["block_starts"] = r.blockStarts;
    if (r.variant.mode != engine::AttentionMode::Full)
        j["attention"] = engine::variantName(r.variant);
    return j;
}

CompletionRequest completionRequestFromJson(const Json& body, const RequestLimits& limits, bool extensions)
{
    if (!body.is_object())
        throw Error("the request body must be a JSON object");
    CompletionRequest r;
    if (intField(body, "n", 1, 1, 1) != 1)
        badField("n", "must be 1");
    const bool blocks = extensions && body.contains("prompt_blocks");
    if (blocks == body.contains("prompt"))
        throw Error(extensions ? "give either 'prompt' (text or token ids) or 'prompt_blocks' (texts, one block each)"
                               : "request field 'prompt' is required (text or token ids)");
    if (blocks) {
        const Json& b = body["prompt_blocks"];
        if (!b.is_array() || b.empty())
            badField("prompt_blocks", "must be a non-empty array of strings");
        for (const Json& e : b) {
            if (!e.is_string())
                badField("prompt_blocks", "must be a non-empty array of strings");
            r.promptBlocks.push_back(e.get<std::string>());
        }
    } else {
        Json prompt = body["prompt"];
        // OpenAI also takes a batch ([text] or [[ids]]); one prompt per request here.
        if (prompt.is_array() && prompt.size() == 1 && (prompt[0].is_string() || prompt[0].is_array()))
            prompt = prompt[0];
        if (prompt.is_string())
            r.text = prompt.get<std::string>();
        else if (prompt.is_array()) {
            const Json wrapped{{"prompt", prompt}};
            r.ids = tokenIds(wrapped, "prompt", limits);
            if (r.ids.empty())
                badField("prompt", "needs at least one token");
        } else
            badField("prompt", "must be a string or an array of token ids (one prompt per request)");
    }
    r.maxTokens = intField(body, "max_tokens", r.maxTokens, 0, limits.maxNewTokens);
    r.temperature = numberField(body, "temperature", 1, 0, 100);
    r.seed = static_cast<std::uint64_t>(intField(body, "seed", 0, 0, std::numeric_limits<std::int64_t>::max()));
    r.stream = boolField(body, "stream", false);
    if (extensions) {
        r.blockStarts = intListField(body, "block_starts", 0, limits.maxPromptTokens, static_cast<std::size_t>(limits.maxPromptTokens));
        if (!r.blockStarts.empty() && !r.promptBlocks.empty())
            badField("block_starts", "goes without 'prompt_blocks' (each of those is a block)");
        r.variant = variantField(body, "attention", r.variant);
    }
    return r;
}

// ---- Models and errors -------------------------------------------------------------------------

Json toJson(const ModelDescription& m)
{
    return Json{{"id", m.id},
                {"object", "model"},
                {"created", 0},
                {"owned_by", "blocklens"},
                {"blocklens",
                 {{"fingerprint", m.fingerprint},
                  {"architecture", m.architecture},
                  {"device", m.device},
                  {"dtype", m.dtype},
                  {"tokenizer_hash", m.tokenizerHash},
                  {"vocab_size", m.vocabSize},
                  {"layers", m.layers},
                  {"max_positions", m.maxPositions},
                  {"heads", m.heads},
                  {"eos_token", optionalJson(m.eosToken)}}}};
}

ModelDescription modelDescriptionFromJson(const Json& entry)
{
    ModelDescription m;
    m.id = entry.at("id").get<std::string>();
    if (!entry.contains("blocklens"))
        return m; // another engine's model: only its name is known
    const Json& b = entry["blocklens"];
    m.fingerprint = b.at("fingerprint").get<std::string>();
    m.architecture = b.at("architecture").get<std::string>();
    m.device = b.at("device").get<std::string>();
    m.dtype = b.at("dtype").get<std::string>();
    m.tokenizerHash = b.at("tokenizer_hash").get<std::string>();
    m.vocabSize = b.at("vocab_size").get<std::int64_t>();
    m.layers = b.at("layers").get<std::int64_t>();
    m.maxPositions = b.at("max_positions").get<std::int64_t>();
    m.heads = b.value("heads", std::int64_t{0}); // not said by servers before it was added
    m.eosToken = optionalFrom<std::int32_t>(b, "eos_token");
    return m;
}

Json errorJson(const std::string& message, const std::string& type, int status)
{
    return Json{{"error", {{"message", message}, {"type", type}, {"code", status}}}};
}

} // namespace blocklens::remote
