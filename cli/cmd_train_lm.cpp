// blocklens-cli train-lm: train the small Llama-architecture demo model (core/learn/lm).
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "cli/progress_printer.hpp"
#include "engine/make_model.hpp"
#include "learn/lm/corpus.hpp"
#include "learn/lm/lm_trainer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <ostream>

namespace blocklens::cli {

Command trainLmCommand()
{
    ArgSpec spec("train-lm --train FILE.u16 --valid FILE.u16 --tokenizer tokenizer.json --out DIR [--layers N --hidden H "
                 "--heads A --kv-heads K --intermediate I --seq-len T --batch B --steps S --time-budget SECONDS "
                 "--device cpu|cuda --bf16 ...]",
                 "Train a small tied Llama model on token files (encode-corpus) and write a Hugging Face checkpoint.");
    spec.option("train", "FILE", "training token file")
        .option("valid", "FILE", "validation token file")
        .option("tokenizer", "PATH", "tokenizer.json (vocabulary size, BOS/EOS; copied into DIR)")
        .option("out", "DIR", "checkpoint directory to write")
        .option("layers", "N", "decoder layers", "6")
        .option("hidden", "H", "hidden size", "256")
        .option("heads", "A", "attention heads", "8")
        .option("kv-heads", "K", "key/value heads (grouped-query attention)", "4")
        .option("intermediate", "I", "SwiGLU MLP size", "768")
        .option("rope-theta", "T", "RoPE base", "10000")
        .option("seq-len", "T", "training window in tokens", "512")
        .option("batch", "B", "windows per step", "16")
        .option("steps", "S", "optimizer steps (at most, with --time-budget)", "1000")
        .option("warmup", "S", "linear warm-up steps", "100")
        .option("time-budget", "SECONDS", "cut the step count to what fits in this time (0: off)", "0")
        .option("lr", "X", "peak learning rate", "3e-3")
        .option("min-lr-ratio", "X", "final learning rate / peak (cosine)", "0.1")
        .option("weight-decay", "X", "AdamW weight decay on matrices", "0.1")
        .option("device", "DEV", "cpu, cuda or cuda:N", "cpu")
        .flag("bf16", "bfloat16 compute with float32 master weights (CUDA)")
        .option("seed", "S", "random seed (initialisation and sampling)", "1")
        .option("eval-every", "S", "steps between validation losses (0: at the end)", "0")
        .option("eval-tokens", "N", "validation tokens per evaluation (0: all)", "0")
        .option("log-every", "S", "steps between log lines", "10")
        .option("threads", "N", "CPU threads for libtorch (0: libtorch's default)", "0")
        .option("log", "FILE", "write the log (one JSON object per line)")
        .flag("json", "print the summary as JSON");
    return {"train-lm", spec, [](const ArgSpec::Parsed& a, Io& io) {
                for (const char* required : {"train", "valid", "tokenizer", "out"})
                    if (!a.has(required))
                        throw UsageError{std::string("--") + required + " is required"};
                auto positive = [&](const std::string& name) {
                    const std::int64_t v = a.integer(name);
                    if (v < 1)
                        throw UsageError{"--" + name + " must be at least 1"};
                    return v;
                };
                const Tokenizer tokenizer = Tokenizer::fromFile(a.value("tokenizer"));
                const auto bos = tokenizer.tokenToId("<|begin_of_text|>");
                const auto eos = tokenizer.tokenToId("<|end_of_text|>");
                lm::LmTrainOptions o;
                const std::int64_t hidden = positive("hidden"), heads = positive("heads"), kvHeads = positive("kv-heads");
                if (hidden % heads != 0 || heads % kvHeads != 0)
                    throw UsageError{"--hidden must be a multiple of --heads, and --heads of --kv-heads"};
                o.config = engine::defaultConfig(engine::Architecture::Llama, positive("layers"), hidden, heads, kvHeads,
                                                 static_cast<std::int64_t>(tokenizer.vocabSize()), positive("intermediate"),
                                                 hidden / heads);
                o.config.tieWordEmbeddings = true;
                o.config.rope.theta = a.number("rope-theta");
                o.config.bosTokenId = bos ? std::optional<std::int64_t>(*bos) : std::nullopt;
                o.config.eosTokenId = eos ? std::optional<std::int64_t>(*eos) : std::nullopt;
                o.seqLen = positive("seq-len");
                o.config.maxPositions = o.seqLen;
                o.batch = positive("batch");
                o.steps = positive("steps");
                o.warmup = std::max<std::int64_t>(0, a.integer("warmup"));
                o.timeBudgetS = a.number("time-budget");
                o.learningRate = a.number("lr");
                o.minLrRatio = a.number("min-lr-ratio");
                o.weightDecay = a.number("weight-decay");
                o.device = a.value("device");
                o.bf16 = a.flag("bf16");
                o.seed = static_cast<std::uint64_t>(a.integer("seed"));
                o.evalEvery = std::max<std::int64_t>(0, a.integer("eval-every"));
                o.evalTokens = std::max<std::int64_t>(0, a.integer("eval-tokens"));
                o.logEvery = positive("log-every");
                if (a.integer("threads") > 0)
                    o.threads = static_cast<int>(a.integer("threads"));
                const auto train = lm::readTokenFile(a.value("train"));
                const auto valid = lm::readTokenFile(a.value("valid"));
                std::ofstream log;
                if (a.has("log")) {
                    requireRegularOrNewFile(a.value("log"));
                    log.open(a.value("log"), std::ios::trunc);
                    if (!log)
                        throw Error("cannot create", {.file = a.value("log")});
                }
                auto entryJson = [](const lm::LmLogEntry& e) {
                    nlohmann::ordered_json j{{"step", e.step}, {"lr", e.learningRate}, {"train_loss", e.trainLoss}, {"seconds", e.seconds}};
                    if (e.validLoss)
                        j["valid_loss"] = *e.validLoss;
                    return j;
                };
                const auto r = lm::trainLm(train, valid, o, a.value("out"), std::filesystem::path(a.value("tokenizer")),
                                           [&](const lm::LmLogEntry& e) {
                                               const auto j = entryJson(e);
                                               if (log.is_open())
                                                   log << j.dump() << "\n" << std::flush;
                                               io.err << j.dump() << "\n";
                                           });
                nlohmann::ordered_json s{{"out", a.value("out")},
                                         {"parameters", r.parameters},
                                         {"steps", r.steps},
                                         {"tokens_seen", r.tokensSeen},
                                         {"train_tokens", train.size()},
                                         {"seconds", r.seconds},
                                         {"tokens_per_second", r.seconds > 0 ? static_cast<double>(r.tokensSeen) / r.seconds : 0.0},
                                         {"final_train_loss", r.finalTrainLoss},
                                         {"valid_tokens", r.validTokens},
                                         {"libtorch", r.torchVersion},
                                         {"device", r.deviceName},
                                         {"bf16", o.bf16}};
                if (r.validLoss)
                    s["valid_loss"] = *r.validLoss;
                if (log.is_open())
                    log << nlohmann::ordered_json{{"summary", s}}.dump() << "\n";
                if (a.flag("json")) {
                    io.out << jsonText(s) << "\n";
                } else {
                    io.out << a.value("out") << ": " << r.parameters << " parameters, " << r.steps << " steps, "
                           << r.tokensSeen << " tokens in " << r.seconds << " s; train loss " << r.finalTrainLoss;
                    if (r.validLoss)
                        io.out << ", validation loss " << *r.validLoss << " over " << r.validTokens << " tokens";
                    io.out << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
