#pragma once
// Training of the learned segmenter's BoundaryModel with libtorch on the CPU (built only with
// BLOCKLENS_WITH_TORCH; this header has no torch types).
//
// The features are standardised with the training set's mean and standard deviation (stored in
// the model); the network (logistic regression, or one hidden tanh layer) minimises the weighted
// binary cross-entropy with AdamW (decoupled weight decay on the weights, not the biases) on
// shuffled mini-batches, with a learning rate that decays linearly to a tenth. Example weights:
// every document the same total (learn::TrainingSet), then positives scaled so that both classes
// carry the same total weight. A little Gaussian noise on the standardised inputs (input
// dropout-like) and the weight decay keep the model smooth for documents unlike the training set.
// Deterministic for a seed (one thread).
//
// score_offset is the logit whose sigmoid the threshold decoder's default 0.5 compares against:
// the threshold with the best boundary F1 over the training candidates.
#include "learn/boundary_model.hpp"
#include "learn/examples.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace blocklens::learn {

struct TrainOptions {
    std::size_t hidden = 16;      // 0: logistic regression
    std::string activation = "tanh";
    int epochs = 30;
    std::size_t batch = 512;
    double learningRate = 3e-3;
    double weightDecay = 1e-2;
    double inputNoise = 0.1;      // standard deviation of noise on standardised inputs
    double positiveBalance = 1.0; // positives' total weight / negatives' total weight
    double finerWeight = 0.0;     // weight of TrainingSet::finer candidates (finer-level boundaries without a heading shape)
    // > 0: mini-batches of whole documents, and this weight on a ranking loss that puts each
    // boundary against all other candidates of its document; 0: plain cross-entropy on
    // shuffled mini-batches of `batch` candidates.
    double rankingWeight = 1.0;
    std::size_t documentsPerBatch = 4;
    std::uint64_t seed = 1;
    // Members trained with seeds seed, seed + 1, ...; the model is their mean logit (stored as one
    // network with the members' hidden units side by side).
    int ensemble = 4;
    std::vector<std::string> excluded; // feature names left out of the model (ablations)
};

struct TrainStats {
    double finalLoss = 0;   // weighted BCE on the training set, after training
    double seconds = 0;
    std::size_t rows = 0, positives = 0, documents = 0;
};

// Throws Error for an empty set or one without positives. Reports progress in epochs.
BoundaryModel trainModel(const TrainingSet& data, const TrainOptions& options, TrainStats* stats = nullptr,
                         const Progress& progress = {});

} // namespace blocklens::learn
