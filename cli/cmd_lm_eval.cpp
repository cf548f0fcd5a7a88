// blocklens-cli lm-eval: a language-model checkpoint's validation perplexity against a unigram
// baseline and its induction-head scores, measured through the engine (core/learn/lm/lm_eval).
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "engine/model_bundle.hpp"
#include "learn/lm/corpus.hpp"
#include "learn/lm/lm_eval.hpp"
#include "learn/lm/lm_trainer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <ostream>

namespace blocklens::cli {

Command lmEvalCommand()
{
    ArgSpec spec("lm-eval --model DIR --valid FILE.u16 --train FILE.u16 [--context N --max-tokens N --device cpu|cuda "
                 "--induction-length L --trials N --check-trainer --json]",
                 "Validation perplexity vs a unigram baseline and induction-head scores of a checkpoint, through the engine.");
    spec.option("model", "DIR", "checkpoint directory (config.json, model.safetensors, tokenizer.json)")
        .option("valid", "FILE", "validation token file (encode-corpus)")
        .option("train", "FILE", "training token file: fits the unigram baseline")
        .option("context", "N", "evaluation window in tokens (default: the config's max_position_embeddings, at most 2048)")
        .option("max-tokens", "N", "score at most N validation tokens (0: all)", "0")
        .option("device", "DEV", "cpu, cuda or cuda:N", "cpu")
        .option("induction-length", "L", "length of the random sequence that is repeated", "50")
        .option("trials", "N", "random sequences for the induction score", "8")
        .option("seed", "S", "seed of the random sequences", "1")
        .flag("check-trainer", "also compute the loss with the training code's forward (the two must agree)")
        .flag("json", "print JSON");
    return {"lm-eval", spec, [](const ArgSpec::Parsed& a, Io& io) {
                for (const char* required : {"model", "valid", "train"})
                    if (!a.has(required))
                        throw UsageError{std::string("--") + required + " is required"};
                const std::filesystem::path dir = a.value("model");
                engine::ModelFiles files = engine::readModelFiles(dir, std::nullopt, engine::TokenizerNeed::Required);
                const auto bos = files.tokenizer->tokenToId("<|begin_of_text|>");
                if (!bos)
                    throw Error("the tokenizer has no <|begin_of_text|> token", {.file = files.tokenizerFile.string()});
                const auto t0 = std::chrono::steady_clock::now();
                engine::LoadOptions lo;
                lo.device = a.value("device");
                lo.dtype = engine::DType::F32;
                const engine::ModelBundle bundle = engine::loadModelBundle(std::move(files), lo);
                const engine::Model& model = bundle.model;
                const Tokenizer& tokenizer = *bundle.tokenizer;
                std::int64_t context = std::min<std::int64_t>(2048, model.config().maxPositions);
                if (a.has("context"))
                    context = a.integer("context");
                const auto valid = lm::readTokenFile(a.value("valid"));
                const auto train = lm::readTokenFile(a.value("train"));
                const std::int64_t maxTokens = std::max<std::int64_t>(0, a.integer("max-tokens"));
                const auto ppl = lm::evaluatePerplexity(model, valid, train, context, maxTokens);
                // Ordinary tokens: everything after the special tokens (ids below BOS's and EOS's
                // + 1 are the specials in the trained tokenizer's layout).
                std::int32_t firstOrdinary = 0;
                for (const char* special : {"<|begin_of_text|>", "<|end_of_text|>"})
                    if (const auto id = tokenizer.tokenToId(special))
                        firstOrdinary = std::max(firstOrdinary, *id + 1);
                const auto ind = lm::evaluateInduction(model, *bos, firstOrdinary, a.integer("induction-length"),
                                                       a.integer("trials"), static_cast<std::uint64_t>(a.integer("seed")));
                const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                std::optional<double> trainerLoss;
                if (a.flag("check-trainer"))
                    trainerLoss = lm::trainerLoss(dir, valid, context, maxTokens, a.value("device"));

                nlohmann::ordered_json j{{"model", dir.string()},
                                         {"device", model.device()},
                                         {"context", context},
                                         {"valid_tokens_scored", ppl.predicted},
                                         {"valid_loss", ppl.modelLoss},
                                         {"valid_perplexity", ppl.modelPerplexity()},
                                         {"unigram_loss", ppl.unigramLoss},
                                         {"unigram_perplexity", ppl.unigramPerplexity()},
                                         {"induction_length", a.integer("induction-length")},
                                         {"induction_trials", a.integer("trials")},
                                         {"induction_best", ind.best},
                                         {"induction_best_layer", ind.bestLayer},
                                         {"induction_best_head", ind.bestHead},
                                         {"induction_uniform_baseline", ind.uniformBaseline},
                                         {"induction_scores", ind.scores},
                                         {"seconds", seconds}};
                if (trainerLoss)
                    j["trainer_valid_loss"] = *trainerLoss;
                if (a.flag("json")) {
                    io.out << jsonText(j) << "\n";
                    return 0;
                }
                io.out << "validation: " << ppl.predicted << " tokens in windows of " << context << ": loss "
                       << ppl.modelLoss << " nats, perplexity " << ppl.modelPerplexity() << " (unigram "
                       << ppl.unigramPerplexity() << ")\n";
                if (trainerLoss)
                    io.out << "training code's loss on the same windows: " << *trainerLoss << "\n";
                io.out << "induction score (mean attention to the token after the first occurrence, [BOS] R R, |R| = "
                       << a.integer("induction-length") << "): best " << ind.best << " at layer " << ind.bestLayer
                       << " head " << ind.bestHead << " (uniform attention: " << ind.uniformBaseline << ")\n";
                for (std::int64_t l = 0; l < ind.layers; ++l) {
                    io.out << "  layer " << l << ":";
                    for (std::int64_t h = 0; h < ind.heads; ++h)
                        io.out << " " << std::round(ind.scores[static_cast<std::size_t>(l * ind.heads + h)] * 1000) / 1000;
                    io.out << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
