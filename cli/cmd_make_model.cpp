// blocklens-cli make-model: a randomly initialised checkpoint (config.json + safetensors).
#include "cli/command.hpp"
#include "engine/make_model.hpp"
#include "engine/memory.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <ostream>

namespace blocklens::cli {

Command makeModelCommand()
{
    ArgSpec spec("make-model --arch llama|qwen2|qwen3|mistral --layers N [--hidden H --heads A --kv-heads K --vocab V "
                 "--intermediate I --head-dim D --seed S --dtype f32|bf16 --tie | --labels N] [--tokenizer PATH] --out DIR",
                 "Write a randomly initialised checkpoint in the Hugging Face layout, for tests and benchmarks.");
    spec.option("arch", "ARCH", "llama, qwen2, qwen3 or mistral")
        .option("layers", "N", "number of decoder layers")
        .option("hidden", "H", "hidden size", "64")
        .option("heads", "A", "attention heads", "4")
        .option("kv-heads", "K", "key/value heads (default: --heads)")
        .option("vocab", "V", "vocabulary size (default: the tokenizer's, else 256)")
        .option("intermediate", "I", "MLP size (default: 4 x hidden)")
        .option("head-dim", "D", "head dimension (default: hidden / heads)")
        .option("rope-theta", "T", "RoPE base (default: the architecture's)")
        .option("llama3-rope", "FACTOR", "llama3 RoPE scaling with this factor (low 1, high 4, original context 8192)")
        .option("sliding-window", "W", "mistral: sliding attention window")
        .option("seed", "S", "random seed", "0")
        .option("init-std", "X", "standard deviation of the weights", "0.02")
        .option("dtype", "DTYPE", "stored dtype: f32, bf16 or f16", "f32")
        .flag("tie", "tie the LM head to the embedding")
        .option("max-shard-mb", "M", "shard the weights into files of at most M MiB (+ index); fractions allowed", "4096")
        .option("tokenizer", "PATH", "tokenizer.json to copy into the model directory")
        .option("labels", "N", "a token-classification checkpoint instead (ARCHForTokenClassification: score head "
                               "[N, hidden] + bias, no LM head), e.g. 2 for the cut-marker segmenter")
        .option("out", "DIR", "directory to create (or an empty one)")
        .flag("force", "replace the model already in --out DIR");
    return {"make-model", spec, [](const ArgSpec::Parsed& a, Io& io) {
                for (const char* required : {"arch", "layers", "out"})
                    if (!a.has(required))
                        throw UsageError{std::string("--") + required + " is required"};
                const auto arch = engine::parseArchitecture(a.value("arch"));
                if (!arch)
                    throw UsageError{"--arch must be llama, qwen2, qwen3 or mistral, got '" + a.value("arch") + "'"};
                auto positive = [&](const std::string& name, std::int64_t fallback) {
                    if (!a.has(name))
                        return fallback;
                    const std::int64_t v = a.integer(name);
                    if (v < 1)
                        throw UsageError{"--" + name + " must be at least 1"};
                    return v;
                };
                const std::int64_t hidden = positive("hidden", a.integer("hidden"));
                const std::int64_t heads = positive("heads", a.integer("heads"));
                std::int64_t vocab = 256;
                if (a.has("vocab")) {
                    vocab = positive("vocab", 256);
                } else if (a.has("tokenizer")) {
                    vocab = static_cast<std::int64_t>(Tokenizer::fromFile(a.value("tokenizer")).vocabSize());
                }
                if (!a.has("head-dim") && hidden % heads != 0)
                    throw UsageError{"--hidden must be a multiple of --heads (or give --head-dim)"};
                const std::int64_t headDim = positive("head-dim", hidden / heads);
                const std::int64_t kvHeads = positive("kv-heads", heads);
                if (heads % kvHeads != 0)
                    throw UsageError{"--kv-heads must divide --heads"};
                engine::MakeModelOptions o;
                o.config = engine::defaultConfig(*arch, positive("layers", 1), hidden, heads, kvHeads, vocab,
                                                 positive("intermediate", 4 * hidden), headDim);
                const auto dtype = engine::parseDType(a.value("dtype"));
                if (!dtype)
                    throw UsageError{"--dtype must be f32, bf16 or f16"};
                o.config.dtype = *dtype;
                o.config.tieWordEmbeddings = a.flag("tie");
                if (a.has("labels")) {
                    if (a.flag("tie"))
                        throw UsageError{"--tie and --labels exclude each other (a token classifier has no LM head)"};
                    o.config.numLabels = positive("labels", 2);
                }
                if (a.has("rope-theta"))
                    o.config.rope.theta = a.number("rope-theta");
                if (a.has("llama3-rope")) {
                    o.config.rope.type = "llama3";
                    o.config.rope.factor = a.number("llama3-rope");
                }
                if (a.has("sliding-window")) {
                    if (*arch != engine::Architecture::Mistral)
                        throw UsageError{"--sliding-window is for --arch mistral"};
                    o.config.slidingWindow = positive("sliding-window", 0);
                }
                o.seed = static_cast<std::uint64_t>(a.integer("seed"));
                o.initStd = a.number("init-std");
                const double shardMb = a.number("max-shard-mb");
                if (!(shardMb > 0))
                    throw UsageError{"--max-shard-mb must be positive"};
                o.maxShardBytes = static_cast<std::uint64_t>(shardMb * 1048576.0);
                if (a.has("tokenizer"))
                    o.tokenizer = a.value("tokenizer");
                o.overwrite = a.flag("force");
                const auto files = engine::makeModel(o, a.value("out"));
                io.out << a.value("out") << ": " << engine::toString(*arch) << ", " << o.config.numLayers << " layers, "
                       << o.config.parameterCount() << " parameters in " << engine::toString(o.config.dtype) << " ("
                       << engine::formatBytes(o.config.parameterCount() * engine::byteSize(o.config.dtype)) << ")\n";
                for (const auto& f : files)
                    io.out << "  " << f.filename().string() << "\n";
                return 0;
            }};
}

} // namespace blocklens::cli
