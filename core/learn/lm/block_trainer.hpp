#pragma once
// Fine-tuning a language model to tolerate block attention (issue 19), with libtorch behind this
// plain header. The student runs the engine's `block` mode (each block attends causally within
// itself, the window's last block to the whole window, positions the window's own), through the
// engine's own forward pass (learn/lm/torch/trainable_lm.hpp); all its parameters are trained.
//
// Recipes:
//   block-ft  language-model loss under block masks (Ma et al. 2025): next-token cross-entropy of
//             the student over every input of the window.
//   distill   block distillation (Li et al. 2026): KL(teacher || student) per input token, the
//             teacher the frozen starting model under full attention over the same window.
// The paper's three components, each an option:
//   sinkTokens   block sink tokens: every block but the first and the last also attends to the
//                window's first N tokens (BOS first), at their own positions.
//   blockDropout each internal boundary of a window is removed with this probability, drawn
//                anew for every window of every step, so the student sees a mix of coarser and
//                finer blocks (all removed: full attention).
//   tokenWeighting  per-token loss weights w_t = 1 + beta * d_t / mean(d), d_t = KL(teacher full
//                || student block) of token t in this step (no gradient through the weights):
//                more weight where block attention hurts most. Needs the teacher in block-ft too.
// Loss = sum_t w_t loss_t / sum_t w_t over the batch's tokens (w_t = 1 without weighting).
// AdamW, linear warm-up then cosine decay to minLrRatio x lr, gradient clipping.
//
// Checkpoints: every checkpointEvery steps, at the end, on a stop request and when the time budget
// runs out, `outDir` gets the model (config.json, model.safetensors, tokenizer.json: what the
// engine loads) and the training state (training_state.json and training_state.pt: step, losses,
// random generator, optimizer moments), each file replaced whole. resume continues from them and
// gives the loss curve the uninterrupted run would have given.
#include "learn/lm/block_windows.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::lm {

enum class BlockRecipe { BlockFineTune, Distill };
std::string_view toString(BlockRecipe recipe); // "block-ft", "distill"
std::optional<BlockRecipe> parseBlockRecipe(std::string_view name);

struct BlockTrainOptions {
    BlockRecipe recipe = BlockRecipe::Distill;
    std::int64_t batch = 8;          // windows per step
    std::int64_t steps = 200;
    std::int64_t warmup = 20;
    double learningRate = 1e-4;
    double minLrRatio = 0.1;
    double weightDecay = 0.0;
    double gradClip = 1.0;
    std::int64_t sinkTokens = 0;
    double blockDropout = 0;         // probability per internal boundary, [0, 1)
    double tokenWeighting = 0;       // beta; 0: every token weighs 1
    // The loss over every token of a window, or only over its last block (after block dropout):
    // the rows block attention is used for (the question reads every block's cached K/V), where
    // the student can match the teacher; elsewhere a block cannot see what the teacher saw.
    bool lastBlockLoss = false;
    std::optional<double> timeBudgetS; // stop (with a checkpoint) once this much training time is spent; > 0
    std::int64_t checkpointEvery = 50; // steps; 0: only at the end
    std::int64_t logEvery = 10;
    std::uint64_t seed = 1;
    std::string device = "cpu";
    int threads = 0;                 // CPU threads for libtorch (0: its default)
    bool resume = false;             // continue from outDir's training state
};

struct BlockLogEntry {
    std::int64_t step = 0, totalSteps = 0;
    double loss = 0;                 // mean over the steps since the last entry
    double learningRate = 0;
    double seconds = 0;              // training time so far (resumed runs included)
    double tokensPerSecond = 0;      // over this run's steps
    double etaSeconds = 0;           // for the remaining steps at that rate
};

struct BlockTrainResult {
    std::vector<BlockLogEntry> log;  // every step's loss is in stepLosses; this is the printed curve
    std::vector<double> stepLosses;  // loss of every step from 1 (resumed runs: from the state)
    std::int64_t steps = 0;          // last step done
    std::int64_t tokensSeen = 0;     // input tokens of all steps
    double seconds = 0;              // training time of all steps (resumed runs included)
    bool stopped = false;            // cancelled or out of time before the last step
    std::int64_t parameters = 0;
    std::int64_t windows = 0;        // training windows available
};

// Trains a copy of the model in `modelDir` (`teacherDir`: the frozen teacher, usually the same
// directory) on `windows` and writes `outDir`. `tokenizerJson` is copied into the checkpoint.
// Trains on the windows with at least three blocks (with two, block attention is full attention).
// Throws Error for no windows, no window with three blocks, a bad option, or a state in outDir that
// does not match (resume).
BlockTrainResult trainBlock(const std::vector<BlockWindow>& windows, const std::filesystem::path& modelDir,
                            const std::filesystem::path& teacherDir, const BlockTrainOptions& options,
                            const std::filesystem::path& outDir, const std::optional<std::filesystem::path>& tokenizerJson,
                            const std::function<void(const BlockLogEntry&)>& onLog = {}, const Progress& progress = {});

// The student's training forward over one window (float32, CPU, no dropout): logits [inputs, vocab]
// row-major of `window.ids` minus its last id under the window's blocks (or full attention when
// `full`). For checking the training forward against the engine's `block` and `full` modes.
std::vector<float> blockTrainingLogits(const std::filesystem::path& modelDir, const BlockWindow& window, bool full,
                                       std::int64_t sinkTokens = 0);

// The distillation loss (mean KL(teacher full || student block) over the window's inputs, no
// weighting) of a student against a teacher on one window; 0 when they are the same model and
// `studentFull`.
double distillLoss(const std::filesystem::path& studentDir, const std::filesystem::path& teacherDir, const BlockWindow& window,
                   bool studentFull, bool lastBlockOnly = false);

} // namespace blocklens::lm
