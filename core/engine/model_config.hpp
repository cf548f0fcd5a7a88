#pragma once
// A decoder-only transformer's shape and numerics, read from a Hugging Face `config.json`.
//
// Both spellings are read: as published checkpoints write it (top-level `rope_theta`,
// `rope_scaling` with `type` or `rope_type`) and as transformers 5 writes it
// (`rope_parameters` with `rope_type` and `rope_theta` inside); `torch_dtype` or `dtype`.
// Architectures: llama (incl. Llama 3.x `llama3` RoPE scaling), mistral (sliding window),
// qwen2 (q/k/v biases), qwen3 (q/k RMSNorm per head, `head_dim` independent of the hidden size).
// Anything else is an Error that names the architecture and what is supported.
#include "engine/dtype.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace blocklens::engine {

enum class Architecture { Llama, Mistral, Qwen2, Qwen3 };
std::string_view toString(Architecture arch); // "llama", "mistral", "qwen2", "qwen3"
std::optional<Architecture> parseArchitecture(std::string_view name);

struct RopeConfig {
    std::string type = "default";   // "default", "linear" or "llama3"
    double theta = 10000.0;
    double factor = 1.0;            // linear, llama3
    double lowFreqFactor = 1.0;     // llama3
    double highFreqFactor = 4.0;    // llama3
    std::int64_t originalMaxPositions = 8192; // llama3
};

struct ModelConfig {
    Architecture arch = Architecture::Llama;
    std::int64_t vocabSize = 0;
    std::int64_t hiddenSize = 0;
    std::int64_t intermediateSize = 0;
    std::int64_t numLayers = 0;
    std::int64_t numHeads = 0;
    std::int64_t numKvHeads = 0;          // grouped-query attention when < numHeads
    std::int64_t headDim = 0;             // hidden / heads unless config.json says otherwise
    std::int64_t maxPositions = 0;        // max_position_embeddings (informational)
    double rmsNormEps = 1e-6;
    RopeConfig rope;
    bool tieWordEmbeddings = false;
    bool qkvBias = false;                 // q/k/v projections have biases (qwen2; attention_bias)
    bool oBias = false;                   // o_proj has a bias (llama/qwen3 attention_bias)
    bool mlpBias = false;                 // llama mlp_bias
    bool qkNorm = false;                  // qwen3: RMSNorm over head_dim on q and k before RoPE
    std::optional<std::int64_t> slidingWindow; // mistral: query i sees keys j with i - j < window
    DType dtype = DType::F32;             // the checkpoint's torch_dtype / dtype
    std::optional<std::int64_t> bosTokenId, eosTokenId;
    // > 0: a token-classification checkpoint (`*ForTokenClassification`, e.g. transformers'
    // Qwen3ForTokenClassification): a head `score.weight` [numLabels, hidden] (+ `score.bias`
    // [numLabels]) instead of an LM head; read with engine::TokenClassifier. num_labels, else the
    // size of id2label, else 2.
    std::int64_t numLabels = 0;

    std::int64_t qDim() const { return numHeads * headDim; }
    std::int64_t kvDim() const { return numKvHeads * headDim; }
    std::int64_t parameterCount() const;

    // Throws Error naming `sourceName` and the field that is missing, wrong or unsupported.
    static ModelConfig fromJson(std::string_view json, const std::string& sourceName = "config.json");
    static ModelConfig fromFile(const std::filesystem::path& path);
    static constexpr std::uintmax_t kMaxFileBytes = 64ull << 20; // published configs are a few KB

    // config.json in the published form (top-level rope_theta / rope_scaling, torch_dtype).
    std::string toJson() const;
};

} // namespace blocklens::engine
