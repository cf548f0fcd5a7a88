#pragma once
// Teaching a model block attention and measuring the recovery (issue 19), once for
// `blocklens-cli train-block` / `eval-block` and the tests: documents -> token windows with the
// blocks a segmenter gives -> training (learn/lm/block_trainer.hpp) or evaluation through the
// engine (full vs `block` mode on each window's last block, and full-attention perplexity).
#include "engine/model.hpp"
#include "learn/lm/block_trainer.hpp"
#include "learn/lm/block_windows.hpp"
#include "segment/segmenter.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::store {
class Store;
}

namespace blocklens::usecases {

// Where the windows come from.
struct BlockDataOptions {
    std::filesystem::path data;  // DATASET.jsonl (record or chunks form) or a corpus text (documents
                                 // separated by a line holding only U+001E, tools/demo_model)
    std::string segmenter = std::string(segment::kDefaultSegmenter);
    segment::SegmentOptions segmentOptions;
    lm::WindowOptions windows;
    std::int64_t maxDocuments = 0; // the first N documents with text (0: all)
};

struct BlockWindows {
    std::vector<lm::BlockWindow> windows;
    std::int64_t documents = 0;      // documents read (with text)
    std::int64_t multiBlock = 0;     // windows with at least three blocks (with two, block attention is full attention)
    std::string tokenizerHash;
};

// Reads the documents and cuts them into windows with the model's tokenizer (its BOS first).
// Throws Error naming the file for data without any document with text, and naming the segmenter
// when it puts every window in fewer than three blocks.
BlockWindows blockWindowsFor(const std::filesystem::path& modelDir, const BlockDataOptions& options, const Progress& progress = {});

struct BlockTrainingRequest {
    std::filesystem::path model;                 // the starting point (and the teacher by default)
    std::optional<std::filesystem::path> teacher;
    BlockDataOptions data;
    lm::BlockTrainOptions train;
    std::filesystem::path out;
};

struct BlockTrainingReport {
    lm::BlockTrainResult result;
    std::int64_t documents = 0, windows = 0;
    double prepareSeconds = 0; // reading, tokenizing and segmenting
};

// Checks the model directory (config, tokenizer, weights) before any work, builds the windows and
// trains. `onLog` sees every progress line's values.
BlockTrainingReport runBlockTraining(const BlockTrainingRequest& request, const std::function<void(const lm::BlockLogEntry&)>& onLog = {},
                                     const Progress& progress = {});

struct BlockEvalRow {
    std::filesystem::path model;
    std::string modelName;
    double meanKl = 0;          // KL(full || block) per last-block token, mean over all of them, nats
    double top1Agreement = 0;   // fraction of last-block tokens whose argmax agrees
    double perplexity = 0;      // full attention, exp(mean NLL) over every predicted token of the windows
    std::int64_t lastBlockTokens = 0, predictedTokens = 0;
};

struct BlockEvalReport {
    std::vector<BlockEvalRow> rows; // in the order asked
    std::int64_t documents = 0, windows = 0;
    std::string segmenter;
};

// Evaluates every model (they must share one tokenizer) on the same windows, through the engine
// (full and `block` runs of each window with at least three blocks).
BlockEvalReport evaluateBlockAttention(const std::vector<std::filesystem::path>& models, const BlockDataOptions& data,
                                       const std::string& device = "cpu", const Progress& progress = {});

// One run per model in the store: attention mode `block`, logit_kl and top1_agreement the means,
// the rest (perplexity, windows, data, segmenter) in its divergence details.
void recordBlockEval(store::Store& store, const BlockEvalReport& report, const BlockDataOptions& data, const std::string& device);

} // namespace blocklens::usecases
