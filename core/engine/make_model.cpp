#include "engine/make_model.hpp"

#include "engine/memory.hpp"
#include "engine/safetensors.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <thread>

namespace blocklens::engine {
namespace {

std::uint64_t splitmix64(std::uint64_t& x)
{
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::uint64_t nameHash(const std::string& s)
{
    std::uint64_t h = 1469598103934665603ull; // FNV-1a
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

constexpr std::int64_t kChunk = 1 << 20; // elements per random stream

// Fills `out` (numel elements of dtype) with uniform values of the given mean and std deviation.
void fill(std::byte* out, std::int64_t numel, DType dtype, std::uint64_t seed, double mean, double stddev)
{
    const double halfWidth = stddev * std::sqrt(3.0);
    const std::int64_t chunks = (numel + kChunk - 1) / kChunk;
    const unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), static_cast<unsigned>(chunks)));
    auto work = [&](unsigned t) {
        for (std::int64_t ch = t; ch < chunks; ch += threads) {
            std::uint64_t state = seed ^ (static_cast<std::uint64_t>(ch) * 0xD1B54A32D192ED03ull);
            const std::int64_t begin = ch * kChunk, end = std::min(numel, begin + kChunk);
            for (std::int64_t i = begin; i < end; ++i) {
                const double u = static_cast<double>(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0); // [0, 1)
                const float v = static_cast<float>(mean + (2 * u - 1) * halfWidth);
                if (dtype == DType::F32) {
                    std::memcpy(out + 4 * i, &v, 4);
                } else {
                    const std::uint16_t h = dtype == DType::BF16 ? floatToBf16(v) : floatToF16(v);
                    std::memcpy(out + 2 * i, &h, 2);
                }
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t)
        pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool)
        th.join();
}

} // namespace

std::vector<std::pair<std::string, std::vector<std::int64_t>>> tensorLayout(const ModelConfig& c)
{
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> t;
    const std::int64_t h = c.hiddenSize, q = c.qDim(), kv = c.kvDim(), inter = c.intermediateSize;
    t.push_back({"model.embed_tokens.weight", {c.vocabSize, h}});
    for (std::int64_t i = 0; i < c.numLayers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        t.push_back({p + "input_layernorm.weight", {h}});
        t.push_back({p + "self_attn.q_proj.weight", {q, h}});
        if (c.qkvBias) t.push_back({p + "self_attn.q_proj.bias", {q}});
        t.push_back({p + "self_attn.k_proj.weight", {kv, h}});
        if (c.qkvBias) t.push_back({p + "self_attn.k_proj.bias", {kv}});
        t.push_back({p + "self_attn.v_proj.weight", {kv, h}});
        if (c.qkvBias) t.push_back({p + "self_attn.v_proj.bias", {kv}});
        t.push_back({p + "self_attn.o_proj.weight", {h, q}});
        if (c.oBias) t.push_back({p + "self_attn.o_proj.bias", {h}});
        if (c.qkNorm) {
            t.push_back({p + "self_attn.q_norm.weight", {c.headDim}});
            t.push_back({p + "self_attn.k_norm.weight", {c.headDim}});
        }
        t.push_back({p + "post_attention_layernorm.weight", {h}});
        t.push_back({p + "mlp.gate_proj.weight", {inter, h}});
        t.push_back({p + "mlp.up_proj.weight", {inter, h}});
        t.push_back({p + "mlp.down_proj.weight", {h, inter}});
        if (c.mlpBias) {
            t.push_back({p + "mlp.gate_proj.bias", {inter}});
            t.push_back({p + "mlp.up_proj.bias", {inter}});
            t.push_back({p + "mlp.down_proj.bias", {h}});
        }
    }
    t.push_back({"model.norm.weight", {h}});
    if (c.numLabels > 0) { // token classification (Qwen3ForTokenClassification's layout)
        t.push_back({"score.weight", {c.numLabels, h}});
        t.push_back({"score.bias", {c.numLabels}});
    } else if (!c.tieWordEmbeddings) {
        t.push_back({"lm_head.weight", {c.vocabSize, h}});
    }
    return t;
}

ModelConfig defaultConfig(Architecture arch, std::int64_t layers, std::int64_t hidden, std::int64_t heads, std::int64_t kvHeads,
                          std::int64_t vocab, std::int64_t intermediate, std::int64_t headDim)
{
    ModelConfig c;
    c.arch = arch;
    c.numLayers = layers;
    c.hiddenSize = hidden;
    c.numHeads = heads;
    c.numKvHeads = kvHeads;
    c.vocabSize = vocab;
    c.intermediateSize = intermediate;
    c.headDim = headDim;
    c.maxPositions = 131072;
    c.bosTokenId = 1;
    c.eosTokenId = 2;
    switch (arch) {
    case Architecture::Llama:
        c.rmsNormEps = 1e-5;
        c.rope.theta = 500000.0;
        break;
    case Architecture::Mistral:
        c.rmsNormEps = 1e-5;
        c.rope.theta = 1000000.0;
        break;
    case Architecture::Qwen2:
        c.rmsNormEps = 1e-6;
        c.rope.theta = 1000000.0;
        c.qkvBias = true;
        break;
    case Architecture::Qwen3:
        c.rmsNormEps = 1e-6;
        c.rope.theta = 1000000.0;
        c.qkNorm = true;
        break;
    }
    return c;
}

std::vector<std::filesystem::path> makeModel(const MakeModelOptions& o, const std::filesystem::path& dir, const Progress& progress)
{
    namespace fs = std::filesystem;
    const ModelConfig& c = o.config;
    // Round-trip the config through the parser so make-model never writes one it cannot read.
    (void)ModelConfig::fromJson(c.toJson(), "generated config.json");
    // Sizes up front, before the tensor list (a billion layers are billions of entries) or a byte
    // is written: the checkpoint must fit on the disk, and loading it must fit in this machine's
    // memory by the same estimate the model panel and Model::load use.
    const MemoryEstimate need = estimateMemory(c, c.dtype, 1);
    checkFits(need, availableHostMemory().value_or(std::numeric_limits<std::uint64_t>::max()), "this machine",
              "a " + std::to_string(c.numLayers) + "-layer model in " + std::string(toString(c.dtype)));
    std::error_code ec;
    {
        fs::path existing = dir; // the disk the checkpoint goes to: the nearest existing ancestor
        while (!existing.empty() && fs::symlink_status(existing, ec).type() == fs::file_type::not_found)
            existing = existing.has_parent_path() && existing.parent_path() != existing ? existing.parent_path() : fs::path();
        const auto space = fs::space(existing.empty() ? fs::path(".") : existing, ec);
        if (!ec && need.weightBytes > space.available)
            throw Error("the checkpoint needs about " + formatBytes(need.weightBytes) + " of disk but only " +
                            formatBytes(space.available) + " is free there; use fewer layers or smaller sizes",
                        {.file = dir.string()});
    }
    const auto dirStatus = fs::symlink_status(dir, ec);
    if (dirStatus.type() != fs::file_type::not_found && dirStatus.type() != fs::file_type::directory)
        throw Error("the output exists and is not a directory (" + describeFileType(dirStatus.type())
                        + "); it was left unchanged: give a directory to create",
                    {.file = dir.string()});
    if (dirStatus.type() == fs::file_type::directory && !o.overwrite) {
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            const auto name = entry.path().filename().string();
            if (name == "config.json" || entry.path().extension() == ".safetensors"
                || name == "model.safetensors.index.json")
                throw Error("this directory already holds a model (" + name
                                + "); it was left unchanged: give --force to replace it, or another directory",
                            {.file = dir.string()});
        }
    }
    fs::create_directories(dir, ec);
    if (ec)
        throw Error("cannot create directory: " + ec.message(), {.file = dir.string()});
    std::vector<fs::path> written;
    {
        OutputFile cfg(dir / "config.json", o.overwrite);
        cfg.stream() << c.toJson();
        cfg.commit();
        written.push_back(dir / "config.json");
    }
    if (o.tokenizer) {
        requireRegularFile(*o.tokenizer, "tokenizer");
        std::ifstream in(*o.tokenizer, std::ios::binary);
        OutputFile copy(dir / "tokenizer.json", o.overwrite);
        copy.stream() << in.rdbuf();
        if (in.bad())
            throw Error("cannot read the tokenizer", {.file = o.tokenizer->string()});
        copy.commit();
        written.push_back(dir / "tokenizer.json");
    }

    // Assign tensors to shards in order.
    const auto layout = tensorLayout(c);
    const std::uint64_t elem = byteSize(c.dtype);
    std::vector<std::vector<std::size_t>> shards(1);
    std::uint64_t shardBytes = 0, totalBytes = 0;
    for (std::size_t i = 0; i < layout.size(); ++i) {
        std::uint64_t b = elem;
        for (auto d : layout[i].second)
            b *= static_cast<std::uint64_t>(d);
        if (!shards.back().empty() && shardBytes + b > o.maxShardBytes) {
            shards.emplace_back();
            shardBytes = 0;
        }
        shards.back().push_back(i);
        shardBytes += b;
        totalBytes += b;
    }
    auto shardName = [&](std::size_t i) {
        if (shards.size() == 1)
            return std::string("model.safetensors");
        char buf[64];
        std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
        return std::string(buf);
    };

    nlohmann::ordered_json weightMap = nlohmann::ordered_json::object();
    std::int64_t done = 0;
    for (std::size_t s = 0; s < shards.size(); ++s) {
        std::vector<TensorToWrite> header;
        for (auto i : shards[s])
            header.push_back({layout[i].first, c.dtype, layout[i].second, {}});
        const fs::path path = dir / shardName(s);
        OutputFile file(path, o.overwrite);
        std::ostream& out = file.stream();
        const std::string h = safetensorsHeader(header, {{"format", "pt"}});
        out.write(h.data(), static_cast<std::streamsize>(h.size()));
        for (auto i : shards[s]) {
            const auto& [name, shape] = layout[i];
            std::int64_t numel = 1;
            for (auto d : shape)
                numel *= d;
            std::vector<std::byte> data(static_cast<std::size_t>(numel) * elem);
            const bool norm = name.find("norm.weight") != std::string::npos;
            fill(data.data(), numel, c.dtype, o.seed * 0x9E3779B97F4A7C15ull ^ nameHash(name), norm ? 1.0 : 0.0,
                 norm ? 0.0 : o.initStd);
            out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
            weightMap[name] = shardName(s);
            progress(++done, static_cast<std::int64_t>(layout.size()), name);
        }
        file.commit();
        written.push_back(path);
    }
    if (shards.size() > 1) {
        nlohmann::ordered_json index;
        index["metadata"] = {{"total_size", totalBytes}};
        index["weight_map"] = weightMap;
        OutputFile out(dir / "model.safetensors.index.json", o.overwrite);
        out.stream() << index.dump(2) << "\n";
        out.commit();
        written.push_back(dir / "model.safetensors.index.json");
    }
    return written;
}

} // namespace blocklens::engine
