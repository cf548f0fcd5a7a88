#pragma once
// The learned segmenter's model: a small feed-forward network (logistic regression when it has
// no hidden layer, otherwise one or more tanh/relu layers) over standardised features, that
// gives each candidate the logit of "a block starts here". Inference is plain C++ (no libtorch):
// the `learned` segmenter runs in every build; training (learn/trainer.hpp) needs libtorch.
//
// File format (JSON, a few KB; `version` 1):
//   {"format": "blocklens-learned-segmenter", "version": 1,
//    "features": ["atx", "blank_before_1", ...],          names from learn::allFeatureNames(true)
//    "normalization": {"mean": [...], "scale": [...]},     x' = (x - mean) / scale, per feature
//    "layers": [{"weight": [[...], ...], "bias": [...]}, ...]   weight [out][in]; the last has out 1
//    "activation": "tanh",                                 between layers (not after the last)
//    "score_offset": 1.2,                                  logit at which the default threshold 0.5 sits
//    "score_temperature": 4,                               score = sigmoid((logit - offset) / temperature)
//    "training": {...}}                                    provenance: data, options, metrics
// Features are matched by name, so a model keeps working when features are added to the code; a
// model that names a feature this build does not compute is refused with an Error naming it.
#include "learn/features.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace blocklens::learn {

inline constexpr std::string_view kModelFormat = "blocklens-learned-segmenter";
inline constexpr int kModelVersion = 1;

struct DenseLayer {
    std::size_t in = 0, out = 0;
    std::vector<float> weight; // [out, in], row-major
    std::vector<float> bias;   // [out]
};

class BoundaryModel {
public:
    std::vector<std::string> features;
    std::vector<float> mean, scale;  // one per feature; scale > 0
    std::vector<DenseLayer> layers;  // last layer: out == 1
    std::string activation = "tanh"; // tanh | relu
    double scoreOffset = 0;
    // Scores are sigmoid((logit - scoreOffset) / scoreTemperature): a temperature above 1 keeps
    // them from saturating, so that sums of scores (the dynamic program) still rank candidates
    // far from the threshold by their logits.
    double scoreTemperature = 4;
    nlohmann::ordered_json training = nlohmann::ordered_json::object();

    // Throws Error (with the file name, when known, and the JSON field in the context) for a file
    // that is not a model of this format and version, inconsistent sizes, non-finite numbers,
    // a scale <= 0, an unknown activation or a feature this build does not compute.
    static BoundaryModel fromJson(const nlohmann::json& j, const std::string& sourceName = {});
    static BoundaryModel load(const std::filesystem::path& path);
    nlohmann::ordered_json toJson() const;
    // Writes the JSON (numbers rounded to 5 significant digits, one line per field) through a
    // temporary file renamed into place; throws Error naming the file.
    void save(const std::filesystem::path& path) const;

    // Checks the sizes and numbers (what fromJson checks); throws Error.
    void validate(const std::string& sourceName = {}) const;

    // Column in computeFeatures()' matrix of each of this model's features, in model order.
    std::vector<std::size_t> featureColumns() const;
    // One logit per row of `x` (a computeFeatures() matrix).
    std::vector<double> logits(const FeatureMatrix& x) const;
    // sigmoid((logit - scoreOffset) / scoreTemperature): in (0, 1), 0.5 at the trained threshold.
    std::vector<double> scores(const FeatureMatrix& x) const;

    std::size_t parameterCount() const;
    // Whether some of its features are language-model features (learn::lmFeatureNames()): then
    // the scorer needs an LmStateSource.
    bool usesLanguageModel() const;
};

} // namespace blocklens::learn
