#pragma once
// What `blocklens-cli train-segmenter` does, as one function the CLI and the app's "Retrain"
// action share (built only with BLOCKLENS_WITH_TORCH): gather the training documents (a dataset's
// training split plus the documents annotators corrected or reviewed in a workspace, a corrected
// version replacing the dataset's), compute the examples, train the BoundaryModel, and evaluate
// the new model against the default non-learned segmenter on the training and held-out documents
// (oracle-count protocol). Nothing is written: the caller saves the model where it belongs.
// A use case above learn/ (it compares with the built-in segmenters of usecases/segmenters.hpp);
// its names stay in namespace learn, beside the model and trainer they drive.
#include "document/dataset.hpp"
#include "learn/boundary_model.hpp"
#include "learn/trainer.hpp"
#include "segment/evaluation.hpp"
#include "util/progress.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::store {
class Store;
}

namespace blocklens::learn {

struct TrainingRunOptions {
    std::optional<std::filesystem::path> data; // dataset with reference boundaries
    std::optional<std::filesystem::path> db;   // workspace whose corrected/reviewed rows also train
    // Instead of `db`: reads those rows (workspaceCorrections) wherever the caller's store access
    // lives (the app: its workspace gateway) and counts the rows it saw.
    std::function<std::vector<Document>(std::size_t& rowsSeen)> corrections;
    double split = 0.5;                        // share of the dataset's sources to train on (1: all)
    std::uint64_t seed = 1;                    // of the split
    int level = 2;
    bool replaceInvalid = false;
    bool evaluateTraining = true;              // also evaluate on the training documents
    TrainOptions train;
    std::shared_ptr<const LmStateSource> lm;   // language-model features (null: none)
    std::string lmDescription;                 // recorded in the model's training info
};

struct SegmenterComparison {
    segment::EvaluationReport learned, baseline; // baseline: segment::kDefaultSegmenter
};

struct TrainingRunResult {
    BoundaryModel model; // `training` holds the provenance (data, options, counts, figures)
    TrainStats stats;
    Dataset train, heldOut;
    std::size_t fromData = 0, fromDb = 0, dbRows = 0, replaced = 0, skipped = 0;
    std::size_t referenceLines = 0, carried = 0;
    std::optional<SegmenterComparison> onTrain, onHeldOut;
};

// Documents of a workspace whose current boundaries an annotator changed or reviewed (every
// dataset; the newest version of a text wins when several hold it); rowsSeen counts all rows.
std::vector<Document> workspaceCorrections(const std::filesystem::path& db, std::size_t& rowsSeen);
std::vector<Document> workspaceCorrections(store::Store& db, std::size_t& rowsSeen); // of an open store

// Whether the document has a reference boundary of level <= `level` (something to learn from).
bool hasLevel(const Document& doc, int level);

// Called when each stage starts ("computing features", "training", "evaluating learned on held-out
// documents", ...); returns the Progress for that stage (its stop token cancels the run: Error).
// A stage's Progress is used only until the next stage starts (a front end may end its line then).
using StageProgress = std::function<Progress(const std::string& stage)>;

// Evaluates `learned` (called `learnedName`) and the default segmenter on `docs` (oracle-count,
// level), each as its own stage ("evaluating NAME on `documents`").
SegmenterComparison compareWithBaseline(const Dataset& docs, const segment::Segmenter& learned, int level,
                                        const std::string& learnedName, const std::string& documents,
                                        const StageProgress& stages = {});

// Throws Error (nothing to train on, bad files, stopped) and std::exception from the store.
TrainingRunResult runTraining(const TrainingRunOptions& options, const StageProgress& stages = {});

} // namespace blocklens::learn
