#pragma once
// Training of the paper's segmenter form (engine/cut_marker_scorer.hpp) here, on the CPU (or a CUDA
// device where libtorch has one): a small
// Llama token-classification transformer (2-way score head) over the text with `<cut j>` markers
// inserted exactly as the `cut-markers` segmenter inserts them at inference (the same candidates,
// windows and marking: engine::cutMarkerWindows, engine::CutMarkerTokenizer), with the label of
// each candidate at the position its P(cut) is read from (the next marker): 1 when the candidate
// starts a line carrying a reference boundary of level <= L (the line-level unit of
// shared/data/README.md, carried past blank lines as learn::documentExamples does).
//
// The network is Hugging Face's LlamaForTokenClassification (what engine::TokenClassifier loads):
// the decoder with tied embeddings, no biases, default RoPE, and `score` [2, hidden] + bias on the
// final-norm hidden state, computed by the engine's own forward pass (as the LM trainer's). It starts from a causal-LM checkpoint (the demo model, its first
// `initLayers` layers; the embedding grows by the marker rows, the head is new) or at random.
// Loss: cross-entropy at the labelled markers, positives weighted so both classes carry the same
// total weight; AdamW, warm-up then cosine decay, gradient clipping; a time budget cuts the steps.
// After training the head's bias is shifted so that P(cut) = 0.5 falls at the threshold with the
// best boundary F1 over the labelled markers of the last fifth of the steps, so the segmenter's
// default threshold (0.5) fits the model.
//
// Writes config.json, model.safetensors (float32), tokenizer.json (the base one plus the marker
// tokens when it has none) and cut_markers.json (the window, so the scorer cuts documents into the
// same windows). No torch types here.
#include "document/dataset.hpp"
#include "engine/model_config.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::learn {

struct CutMarkerTrainOptions {
    // Start from this checkpoint (a tied llama: causal LM, or a 2-way token classifier) and its
    // tokenizer.json; without it, a random model of `config` with the tokenizer `tokenizer`.
    std::optional<std::filesystem::path> init;
    std::int64_t initLayers = 0;           // keep the first N layers of `init` (0: all)
    engine::ModelConfig config;            // random start: llama, tied (vocabSize: at least the tokenizer's)
    std::optional<std::filesystem::path> tokenizer;
    std::size_t markers = 256;             // `<cut j>` tokens added to a tokenizer that has none
    std::size_t windowTokens = 1024;       // approx-tokens per window, as at inference (cut_markers.json)
    int level = 2;                         // reference boundaries with level <= L are cuts
    std::int64_t steps = 1000;             // at most; see timeBudgetS
    std::int64_t batch = 4;                // windows per step
    std::int64_t warmup = 20;
    double timeBudgetS = 0;                // > 0: the steps are cut to what fits in this time (seconds)
    double learningRate = 1e-3;
    double minLrRatio = 0.1;
    double weightDecay = 0.01;
    double gradClip = 1.0;
    double initStd = 0.02;
    bool balance = true;                   // weight positives so both classes carry the same total
    bool calibrate = true;                 // shift the head's bias so 0.5 is the best-F1 threshold
    std::uint64_t seed = 1;
    int threads = 0;                       // CPU threads for libtorch (0: its default)
    std::string device = "cpu";            // where the network trains: cpu, cuda or cuda:N (float32 either way)
    std::int64_t logEvery = 10;
};

struct CutMarkerLogEntry {
    std::int64_t step = 0;
    double learningRate = 0, loss = 0, seconds = 0; // loss: mean over the steps since the last entry
};

struct CutMarkerTrainResult {
    std::vector<CutMarkerLogEntry> log;
    std::int64_t steps = 0;
    std::size_t documents = 0, windows = 0, labelled = 0, positives = 0; // the training examples
    std::int64_t tokens = 0;               // in all windows
    double seconds = 0;                    // the training loop
    double firstLoss = 0, finalLoss = 0;   // first logged step, last logged entry
    double biasShift = 0;                  // added to the head's logit of "cut" by the calibration
    std::int64_t parameters = 0;
    bool stopped = false;                  // the progress' stop was requested: fewer steps done
};

// Throws Error for a dataset without a labelled candidate, a tokenizer that cannot mark (its own
// text holds a marker), an init checkpoint that is not a tied llama, a config the trainer cannot
// build, a device this libtorch build cannot use (context item "device"), or an output directory
// it cannot write. Progress in steps; a stop request ends training
// early and still writes the checkpoint of the steps done.
CutMarkerTrainResult trainCutMarkerModel(const Dataset& train, const CutMarkerTrainOptions& options,
                                         const std::filesystem::path& outDir,
                                         const std::function<void(const CutMarkerLogEntry&)>& onLog = {},
                                         const Progress& progress = {});

// The training forward (float32, CPU, as trainCutMarkerModel runs it) over one marked text of a
// checkpoint written by trainCutMarkerModel: P(cut) per marker as engine::CutMarkerScorer::run reads it (at the next
// marker; 0 for the last). For checking that the engine scores what training computed.
std::vector<double> trainerCutProbabilities(const std::filesystem::path& checkpointDir, std::string_view text,
                                            std::span<const std::size_t> cutBytes);

} // namespace blocklens::learn
