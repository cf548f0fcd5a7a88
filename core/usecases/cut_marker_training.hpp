#pragma once
// What `blocklens-cli train-segmenter --form cut-markers` does (built only with
// BLOCKLENS_WITH_TORCH): load the dataset, split it by source as `train-segmenter` does
// (learn::inTrainingSplit), add every document of the extra datasets to the training side (a corpus
// that is never evaluated here), train the cut-marker model (learn/cut_marker_trainer.hpp), then load
// the written checkpoint as the `cut-markers` segmenter and evaluate it against the default
// non-learned segmenter on the held-out documents (oracle-count).
#include "document/dataset.hpp"
#include "learn/cut_marker_trainer.hpp"
#include "usecases/training_run.hpp"

#include <filesystem>
#include <optional>
#include <vector>

namespace blocklens::learn {

struct CutMarkerRunOptions {
    std::filesystem::path data;                    // the split applies to it
    std::vector<std::filesystem::path> extraData;  // all training
    double split = 0.5;
    std::uint64_t seed = 1;                        // of the split
    bool evaluate = true;                          // the held-out comparison (when any is held out)
    CutMarkerTrainOptions train;                   // train.level is the reference granularity
};

struct CutMarkerRunResult {
    CutMarkerTrainResult training;
    Dataset train, heldOut;
    std::optional<SegmenterComparison> onHeldOut;
    double evaluationSeconds = 0;
};

// Throws Error (bad files, nothing to train on, stopped while evaluating).
CutMarkerRunResult runCutMarkerTraining(const CutMarkerRunOptions& options, const std::filesystem::path& outDir,
                                        const StageProgress& stages = {},
                                        const std::function<void(const CutMarkerLogEntry&)>& onLog = {});

} // namespace blocklens::learn
