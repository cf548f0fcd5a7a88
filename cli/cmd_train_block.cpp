// blocklens-cli train-block: fine-tune a model to tolerate block attention (block-ft or block
// distillation, usecases/block_distillation.hpp).
#include "cli/block_data_args.hpp"
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "util/error.hpp"
#include "util/signals.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <ostream>
#include <stop_token>

namespace blocklens::cli {

Command trainBlockCommand()
{
    ArgSpec spec("train-block --model DIR --data (DATASET.jsonl | CORPUS) --recipe distill|block-ft --out DIR [--segmenter NAME "
                 "--steps S --batch B --sink-tokens N --block-dropout P --token-weighting BETA --time-budget SECONDS --resume ...]",
                 "Fine-tune a copy of a model under block attention (each block alone, the last block over everything) and write a "
                 "Hugging Face checkpoint. Ctrl+C stops after the current step and leaves a usable checkpoint.");
    spec.option("model", "DIR", "the model to start from (config.json, safetensors, tokenizer.json)")
        .option("teacher", "DIR", "the frozen full-attention teacher (default: --model)")
        .option("recipe", "NAME", "distill (KL to the teacher's full-attention distributions) or block-ft (language-model loss)")
        .option("out", "DIR", "checkpoint directory to write (the model, its tokenizer and the training state)");
    addBlockDataOptions(spec);
    spec.option("steps", "S", "optimizer steps", "200")
        .option("batch", "B", "windows per step", "8")
        .option("warmup", "S", "linear warm-up steps", "20")
        .option("lr", "X", "peak learning rate (cosine decay after the warm-up)", "1e-4")
        .option("min-lr-ratio", "X", "final learning rate / peak", "0.1")
        .option("weight-decay", "X", "AdamW weight decay on matrices", "0")
        .option("sink-tokens", "N", "block sink tokens: blocks but the first and last also see the window's first N tokens", "0")
        .option("block-dropout", "P", "drop each block boundary of a window with probability P, per step (mixed granularities)", "0")
        .option("token-weighting", "BETA", "weight token t by 1 + BETA * KL_t / mean KL (teacher full vs student block)", "0")
        .option("loss-on", "ROWS", "all (every token of a window) or last-block (the tokens that read the other blocks' cache)", "all")
        .option("time-budget", "SECONDS", "stop with a checkpoint after this much training time (more than 0)")
        .option("checkpoint-every", "S", "steps between checkpoints (0: only at the end)", "50")
        .option("log-every", "S", "steps between progress lines", "10")
        .option("seed", "S", "random seed (window sampling, block dropout)", "1")
        .option("device", "DEV", "cpu, cuda or cuda:N", "cpu")
        .option("threads", "N", "CPU threads for libtorch (0: libtorch's default)", "0")
        .flag("resume", "continue the run whose training state is in --out")
        .option("log", "FILE", "write the progress lines as JSON (one object per line)")
        .flag("json", "print the summary as JSON");
    return {"train-block", spec, [](const ArgSpec::Parsed& a, Io& io) {
                for (const char* required : {"model", "recipe", "out"})
                    if (!a.has(required))
                        throw UsageError{std::string("--") + required + " is required"};
                usecases::BlockTrainingRequest r;
                r.model = a.value("model");
                if (a.has("teacher"))
                    r.teacher = a.value("teacher");
                r.out = a.value("out");
                r.data = readBlockDataOptions(a);
                auto& o = r.train;
                const auto recipe = lm::parseBlockRecipe(a.value("recipe"));
                if (!recipe)
                    throw UsageError{"--recipe is distill or block-ft, not '" + a.value("recipe") + "'"};
                o.recipe = *recipe;
                o.steps = a.integer("steps");
                o.batch = a.integer("batch");
                o.warmup = a.integer("warmup");
                o.learningRate = a.number("lr");
                o.minLrRatio = a.number("min-lr-ratio");
                o.weightDecay = a.number("weight-decay");
                o.sinkTokens = a.integer("sink-tokens");
                o.blockDropout = a.number("block-dropout");
                o.tokenWeighting = a.number("token-weighting");
                if (a.value("loss-on") != "all" && a.value("loss-on") != "last-block")
                    throw UsageError{"--loss-on is all or last-block, not '" + a.value("loss-on") + "'"};
                o.lastBlockLoss = a.value("loss-on") == "last-block";
                if (a.has("time-budget")) {
                    o.timeBudgetS = a.number("time-budget");
                    if (!(*o.timeBudgetS > 0))
                        throw UsageError{"--time-budget must be more than 0 seconds, got " + a.value("time-budget")};
                }
                o.checkpointEvery = a.integer("checkpoint-every");
                o.logEvery = a.integer("log-every");
                o.seed = static_cast<std::uint64_t>(a.integer("seed"));
                o.device = a.value("device");
                o.threads = static_cast<int>(std::max<std::int64_t>(0, a.integer("threads")));
                o.resume = a.flag("resume");
                std::ofstream log;
                if (a.has("log")) {
                    log.open(a.value("log"), o.resume ? std::ios::app : std::ios::trunc);
                    if (!log)
                        throw Error("cannot create", {.file = a.value("log")});
                }
                // Ctrl+C: the trainer finishes its step, writes the checkpoint and returns.
                InterruptScope interrupt;
                std::stop_source stop;
                Progress progress{[&](std::int64_t, std::int64_t, std::string_view) {
                                      if (interruptRequested())
                                          stop.request_stop();
                                  },
                                  stop.get_token()};
                const auto report = usecases::runBlockTraining(
                    r,
                    [&](const lm::BlockLogEntry& e) {
                        char line[200];
                        std::snprintf(line, sizeof line, "step %lld/%lld  loss %.5f  lr %.2e  %.0f tokens/s  ETA %s",
                                      static_cast<long long>(e.step), static_cast<long long>(e.totalSteps), e.loss, e.learningRate,
                                      e.tokensPerSecond, durationText(e.etaSeconds).c_str());
                        io.err << line << "\n" << std::flush;
                        if (log.is_open())
                            log << nlohmann::ordered_json{{"step", e.step},      {"loss", e.loss},
                                                          {"lr", e.learningRate}, {"seconds", e.seconds},
                                                          {"tokens_per_second", e.tokensPerSecond}, {"eta_seconds", e.etaSeconds}}
                                       .dump()
                                << "\n"
                                << std::flush;
                    },
                    progress);
                const auto& res = report.result;
                nlohmann::ordered_json s{{"out", r.out.string()},
                                         {"recipe", std::string(lm::toString(o.recipe))},
                                         {"loss_on", o.lastBlockLoss ? "last-block" : "all"},
                                         {"steps", res.steps},
                                         {"stopped", res.stopped},
                                         {"tokens_seen", res.tokensSeen},
                                         {"seconds", res.seconds},
                                         {"prepare_seconds", report.prepareSeconds},
                                         {"documents", report.documents},
                                         {"windows", report.windows},
                                         {"training_windows", res.windows},
                                         {"parameters", res.parameters},
                                         {"final_loss", res.log.empty() ? 0.0 : res.log.back().loss}};
                if (a.flag("json")) {
                    io.out << jsonText(s) << "\n";
                } else {
                    io.out << r.out.string() << ": " << lm::toString(o.recipe) << ", " << res.steps << " steps"
                           << (res.stopped ? " (stopped early; --resume continues)" : "") << ", " << res.tokensSeen << " tokens in "
                           << durationText(res.seconds) << " on " << res.windows << " windows of " << report.documents
                           << " documents; last loss " << (res.log.empty() ? 0.0 : res.log.back().loss) << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
