#include "engine/model_config.hpp"

#include "document/document.hpp"
#include "util/error.hpp"
#include "util/json_input.hpp"
#include "util/files.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace blocklens::engine {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kMaxSize = 2147483647;
constexpr double kHuge = 1e300; // an upper bound that only excludes infinity

struct Reader {
    const json& j;
    const std::string& source;

    Error error(const std::string& field, const std::string& message) const
    {
        return Error(message, {.file = source, .item = field});
    }
    bool has(const char* k) const { return j.contains(k) && !j[k].is_null(); }
    // Sizes and counts: positive, and at most 2^31 - 1 (tensor dimensions and token positions are
    // 32-bit; larger values are typos or hostile and would overflow the size arithmetic).
    std::int64_t integer(const char* k) const
    {
        if (!has(k))
            throw error(k, "missing (required)");
        const json& v = j[k];
        if (!v.is_number_integer())
            throw error(k, "must be a positive integer, got " + v.dump());
        if (v.is_number_unsigned() ? v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxSize) : v.get<std::int64_t>() > kMaxSize)
            throw error(k, "must be at most " + std::to_string(kMaxSize) + ", got " + v.dump());
        if (v.get<std::int64_t>() <= 0)
            throw error(k, "must be a positive integer, got " + v.dump());
        return v.get<std::int64_t>();
    }
    std::int64_t integerOr(const char* k, std::int64_t fallback) const { return has(k) ? integer(k) : fallback; }
    double number(const json& obj, const char* k, double fallback, const std::string& where) const
    {
        if (!obj.contains(k) || obj[k].is_null())
            return fallback;
        if (!obj[k].is_number())
            throw error(where + k, "must be a number, got " + obj[k].dump());
        return obj[k].get<double>();
    }
    // A finite number strictly between low and high, else an error stating the rule in words.
    double numberIn(const json& obj, const char* k, double fallback, const std::string& where, double low, double high,
                    const char* rule) const
    {
        const double v = number(obj, k, fallback, where);
        if (!std::isfinite(v) || !(v > low) || !(v < high))
            throw error(where + k, std::string("must be ") + rule + ", got " + obj[k].dump());
        return v;
    }
    bool boolean(const char* k, bool fallback) const
    {
        if (!has(k))
            return fallback;
        if (!j[k].is_boolean())
            throw error(k, "must be true or false, got " + j[k].dump());
        return j[k].get<bool>();
    }
    std::optional<std::int64_t> tokenId(const char* k) const
    {
        if (!has(k))
            return std::nullopt;
        if (j[k].is_number_integer())
            return j[k].get<std::int64_t>();
        if (j[k].is_array() && !j[k].empty() && j[k][0].is_number_integer())
            return j[k][0].get<std::int64_t>();
        return std::nullopt;
    }
};

// The RoPE dict: transformers 5's `rope_parameters`, else the published `rope_scaling`.
RopeConfig readRope(const Reader& r)
{
    RopeConfig rope;
    const json* params = nullptr;
    std::string where;
    if (r.has("rope_parameters")) {
        params = &r.j["rope_parameters"];
        where = "rope_parameters.";
        if (params->is_object() && (params->contains("full_attention") || params->contains("sliding_attention")))
            throw r.error("rope_parameters", "per-layer-type RoPE parameters are not supported");
    } else if (r.has("rope_scaling")) {
        params = &r.j["rope_scaling"];
        where = "rope_scaling.";
    }
    if (params && !params->is_object())
        throw r.error(where.substr(0, where.size() - 1), "must be an object, got " + params->dump());
    // theta <= 1 makes the inverse frequencies theta^(-2i/d) 1 or larger (1e-320 makes them
    // infinite): every position would rotate alike or to NaN.
    constexpr const char* kThetaRule = "a finite number greater than 1 (the RoPE base, typically 10000 to 1000000)";
    rope.theta = r.numberIn(r.j, "rope_theta", 10000.0, "", 1.0, kHuge, kThetaRule);
    if (params)
        rope.theta = r.numberIn(*params, "rope_theta", rope.theta, where, 1.0, kHuge, kThetaRule);
    if (!params)
        return rope;
    std::string type = "default";
    for (const char* k : {"rope_type", "type"})
        if (params->contains(k) && (*params)[k].is_string()) {
            type = (*params)[k].get<std::string>();
            break;
        }
    rope.type = type;
    if (type == "default")
        return rope;
    rope.factor = r.numberIn(*params, "factor", 1.0, where, 0.0, kHuge, "a finite positive number");
    if (type == "linear")
        return rope;
    if (type == "llama3") {
        rope.lowFreqFactor = r.numberIn(*params, "low_freq_factor", 1.0, where, 0.0, kHuge, "a finite positive number");
        rope.highFreqFactor = r.numberIn(*params, "high_freq_factor", 4.0, where, 0.0, kHuge, "a finite positive number");
        const double orig = r.numberIn(*params, "original_max_position_embeddings", 8192.0, where, 0.0, kMaxSize + 1.0,
                                       "a positive number of positions below 2^31");
        if (orig < 1)
            throw r.error(where + "original_max_position_embeddings", "must be at least 1");
        rope.originalMaxPositions = static_cast<std::int64_t>(orig);
        if (rope.highFreqFactor <= rope.lowFreqFactor)
            throw r.error(where + "high_freq_factor", "must be larger than low_freq_factor");
        return rope;
    }
    throw r.error(where + "rope_type", "unsupported RoPE type '" + type + "' (supported: default, linear, llama3)");
}

} // namespace

std::string_view toString(Architecture arch)
{
    switch (arch) {
    case Architecture::Llama: return "llama";
    case Architecture::Mistral: return "mistral";
    case Architecture::Qwen2: return "qwen2";
    case Architecture::Qwen3: return "qwen3";
    }
    return "?";
}

std::optional<Architecture> parseArchitecture(std::string_view name)
{
    if (name == "llama" || name == "LlamaForCausalLM") return Architecture::Llama;
    if (name == "mistral" || name == "MistralForCausalLM") return Architecture::Mistral;
    if (name == "qwen2" || name == "Qwen2ForCausalLM") return Architecture::Qwen2;
    if (name == "qwen3" || name == "Qwen3ForCausalLM") return Architecture::Qwen3;
    return std::nullopt;
}

std::int64_t ModelConfig::parameterCount() const
{
    // Absurd sizes (each field may be up to 2^31 - 1) would overflow int64: estimate in double
    // first and saturate; below 2^62 every partial sum of the exact count fits.
    {
        const double h = static_cast<double>(hiddenSize), q = static_cast<double>(qDim()), kv = static_cast<double>(kvDim());
        const double i = static_cast<double>(intermediateSize);
        const double layer = 2 * h * q + 2 * h * kv + 3 * h * i + 2 * (q + kv + i) + 3 * h + 2.0 * static_cast<double>(headDim);
        const double total = static_cast<double>(vocabSize) * (h + 1) * 2 + static_cast<double>(numLabels) * (h + 1) +
                             static_cast<double>(numLayers) * layer + h;
        if (!(total < 0x1p62))
            return std::numeric_limits<std::int64_t>::max();
    }
    const std::int64_t h = hiddenSize;
    std::int64_t layer = h * qDim() + 2 * h * kvDim() + qDim() * h + 3 * h * intermediateSize + 2 * h;
    if (qkvBias) layer += qDim() + 2 * kvDim();
    if (oBias) layer += h;
    if (mlpBias) layer += 2 * intermediateSize + h;
    if (qkNorm) layer += 2 * headDim;
    if (numLabels > 0) // no LM head; the score head and its bias
        return vocabSize * h + numLabels * (h + 1) + numLayers * layer + h;
    return vocabSize * h * (tieWordEmbeddings ? 1 : 2) + numLayers * layer + h;
}

ModelConfig ModelConfig::fromJson(std::string_view text, const std::string& source)
{
    const json j = parseJsonInput(text, {.file = source});
    if (!j.is_object())
        throw Error("not a JSON object", {.file = source});
    const Reader r{j, source};
    ModelConfig c;

    std::string modelType = r.has("model_type") && j["model_type"].is_string() ? j["model_type"].get<std::string>() : "";
    std::string archName;
    if (r.has("architectures") && j["architectures"].is_array() && !j["architectures"].empty() && j["architectures"][0].is_string())
        archName = j["architectures"][0].get<std::string>();
    auto arch = parseArchitecture(modelType);
    if (!arch && modelType.empty())
        arch = parseArchitecture(archName);
    if (!arch) {
        const std::string what = modelType.empty() ? (archName.empty() ? "(none given)" : archName)
                                                   : modelType + (archName.empty() ? "" : " (" + archName + ")");
        throw r.error(modelType.empty() ? "architectures" : "model_type",
                      "unsupported architecture " + what + "; supported: llama, mistral, qwen2, qwen3");
    }
    c.arch = *arch;

    c.vocabSize = r.integer("vocab_size");
    c.hiddenSize = r.integer("hidden_size");
    c.intermediateSize = r.integer("intermediate_size");
    c.numLayers = r.integer("num_hidden_layers");
    c.numHeads = r.integer("num_attention_heads");
    c.numKvHeads = r.integerOr("num_key_value_heads", c.numHeads);
    if (c.numHeads % c.numKvHeads != 0)
        throw r.error("num_key_value_heads", std::to_string(c.numKvHeads) + " does not divide num_attention_heads " +
                                                 std::to_string(c.numHeads));
    if (r.has("head_dim")) {
        c.headDim = r.integer("head_dim");
    } else {
        if (c.hiddenSize % c.numHeads != 0)
            throw r.error("hidden_size", "not divisible by num_attention_heads and no head_dim given");
        c.headDim = c.hiddenSize / c.numHeads;
    }
    if (c.headDim % 2 != 0)
        throw r.error("head_dim", "must be even for RoPE, got " + std::to_string(c.headDim));
    c.maxPositions = r.integerOr("max_position_embeddings", 0);
    // The epsilon under the RMSNorm square root: zero or negative gives NaN or infinity for a
    // zero row; 1 or more drowns the activations.
    c.rmsNormEps = r.numberIn(j, "rms_norm_eps", 1e-6, "", 0.0, 1.0, "a finite number between 0 and 1 (exclusive, typically 1e-6 or 1e-5)");
    c.rope = readRope(r);
    if (r.has("partial_rotary_factor") && r.number(j, "partial_rotary_factor", 1.0, "") != 1.0)
        throw r.error("partial_rotary_factor", "partial RoPE is not supported");
    if (r.has("hidden_act") && j["hidden_act"] != "silu")
        throw r.error("hidden_act", "unsupported activation " + j["hidden_act"].dump() + " (supported: silu)");
    c.tieWordEmbeddings = r.boolean("tie_word_embeddings", false);

    const bool attentionBias = r.boolean("attention_bias", false);
    switch (c.arch) {
    case Architecture::Llama:
        c.qkvBias = c.oBias = attentionBias;
        c.mlpBias = r.boolean("mlp_bias", false);
        break;
    case Architecture::Mistral:
        if (r.has("sliding_window"))
            c.slidingWindow = r.integer("sliding_window");
        break;
    case Architecture::Qwen2:
        c.qkvBias = true;
        break;
    case Architecture::Qwen3:
        c.qkvBias = c.oBias = attentionBias;
        c.qkNorm = true;
        break;
    }
    if ((c.arch == Architecture::Qwen2 || c.arch == Architecture::Qwen3) && r.boolean("use_sliding_window", false))
        throw r.error("use_sliding_window", "sliding-window layers of qwen models are not supported");

    for (const char* k : {"dtype", "torch_dtype"}) {
        if (r.has(k) && j[k].is_string()) {
            const auto d = parseDType(j[k].get<std::string>());
            if (!d)
                throw r.error(k, "unsupported dtype " + j[k].dump() + " (supported: float32, float16, bfloat16)");
            c.dtype = *d;
            break;
        }
    }
    c.bosTokenId = r.tokenId("bos_token_id");
    c.eosTokenId = r.tokenId("eos_token_id");
    if (archName.ends_with("ForTokenClassification")) {
        c.numLabels = 2;
        if (r.has("num_labels"))
            c.numLabels = r.integer("num_labels");
        else if (r.has("id2label") && j["id2label"].is_object() && !j["id2label"].empty())
            c.numLabels = static_cast<std::int64_t>(j["id2label"].size());
    }
    return c;
}

ModelConfig ModelConfig::fromFile(const std::filesystem::path& path)
{
    return fromJson(readFileBytes(path, kMaxFileBytes, "model config"), path.string());
}

std::string ModelConfig::toJson() const
{
    static const char* classes[] = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"};
    nlohmann::ordered_json j;
    std::string className = classes[static_cast<int>(arch)];
    if (numLabels > 0)
        className.replace(className.find("ForCausalLM"), 11, "ForTokenClassification");
    j["architectures"] = {className};
    j["model_type"] = std::string(toString(arch));
    j["vocab_size"] = vocabSize;
    j["hidden_size"] = hiddenSize;
    j["intermediate_size"] = intermediateSize;
    j["num_hidden_layers"] = numLayers;
    j["num_attention_heads"] = numHeads;
    j["num_key_value_heads"] = numKvHeads;
    j["head_dim"] = headDim;
    j["hidden_act"] = "silu";
    j["max_position_embeddings"] = maxPositions > 0 ? maxPositions : 131072;
    j["rms_norm_eps"] = rmsNormEps;
    j["rope_theta"] = rope.theta;
    if (rope.type == "default") {
        j["rope_scaling"] = nullptr;
    } else {
        nlohmann::ordered_json s;
        s["rope_type"] = rope.type;
        s["factor"] = rope.factor;
        if (rope.type == "llama3") {
            s["low_freq_factor"] = rope.lowFreqFactor;
            s["high_freq_factor"] = rope.highFreqFactor;
            s["original_max_position_embeddings"] = rope.originalMaxPositions;
        }
        j["rope_scaling"] = s;
    }
    j["tie_word_embeddings"] = tieWordEmbeddings;
    if (arch == Architecture::Llama || arch == Architecture::Qwen3)
        j["attention_bias"] = qkvBias;
    if (arch == Architecture::Llama)
        j["mlp_bias"] = mlpBias;
    if (arch == Architecture::Mistral)
        j["sliding_window"] = slidingWindow ? nlohmann::ordered_json(*slidingWindow) : nlohmann::ordered_json(nullptr);
    if (arch == Architecture::Qwen2 || arch == Architecture::Qwen3)
        j["use_sliding_window"] = false;
    j["torch_dtype"] = std::string(torchName(dtype));
    if (bosTokenId) j["bos_token_id"] = *bosTokenId;
    if (eosTokenId) j["eos_token_id"] = *eosTokenId;
    if (numLabels > 0) {
        nlohmann::ordered_json id2label, label2id;
        for (std::int64_t i = 0; i < numLabels; ++i) {
            id2label[std::to_string(i)] = "LABEL_" + std::to_string(i);
            label2id["LABEL_" + std::to_string(i)] = i;
        }
        j["id2label"] = id2label;
        j["label2id"] = label2id;
    }
    return j.dump(2) + "\n";
}

} // namespace blocklens::engine
