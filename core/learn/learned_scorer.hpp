#pragma once
// The learned scorer and the `learned` segmenter built on it: learn::computeFeatures() for every
// candidate, the BoundaryModel's logit, and sigmoid(logit - score_offset) as the score, so scores
// lie in (0, 1) and the threshold decoder's default 0.5 is the threshold chosen in training. The
// candidates and decoders are those of the `hybrid` segmenter (line starts, headings,
// definitions; dynamic program / threshold + depth).
//
// Where the built-in `learned` segmenter finds its model (the first that exists):
//   1. $BLOCKLENS_LEARNED_MODEL (a file, or a directory holding learned.json); when set, it must exist;
//   2. segmenters/learned.json under <executable dir>/../share/blocklens, <executable dir>/resources,
//      <executable dir>/../resources, <executable dir>/../../resources;
//   3. resources/segmenters/learned.json of the source tree this build was configured from.
// The model is read on first use, so listing the segmenters never fails; scoring with no model
// found throws an Error that lists the places looked at and how to train one.
#include "learn/boundary_model.hpp"
#include "segment/segmenter.hpp"

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

namespace blocklens::learn {

inline constexpr std::string_view kLearnedSegmenter = "learned";
inline constexpr std::string_view kModelFileName = "learned.json";
inline constexpr const char* kModelEnvVar = "BLOCKLENS_LEARNED_MODEL";

class LearnedScorer final : public segment::Scorer {
public:
    // A scorer with this model.
    // `lm`: where language-model hidden states come from, for a model that uses them (a model
    // without language-model features ignores it; one with them and no `lm` is an Error at scoring).
    explicit LearnedScorer(std::shared_ptr<const BoundaryModel> model, std::string source = {},
                           std::shared_ptr<const LmStateSource> lm = nullptr);
    // A scorer that loads `path` on first use (empty: the default search above).
    static std::shared_ptr<LearnedScorer> lazy(std::filesystem::path path = {});

    std::string name() const override { return "learned"; }
    segment::Params params() const override;
    std::vector<double> score(const segment::SegmentContext& ctx, std::span<const segment::Candidate> candidates) const override;

    // The model, loading it now if needed (throws Error when it cannot be loaded).
    std::shared_ptr<const BoundaryModel> model() const;

private:
    LearnedScorer() = default;
    mutable std::mutex mutex_;
    mutable std::shared_ptr<const BoundaryModel> model_;
    std::filesystem::path path_; // lazy: explicit path, or empty for the default search
    mutable std::string source_;
    std::shared_ptr<const LmStateSource> lm_;
};

// Where the default model is looked for, in order (see above), and the first that exists.
std::vector<std::filesystem::path> defaultModelSearchPath();
std::optional<std::filesystem::path> findDefaultModel();
// Loads the model the built-in segmenter uses; throws Error listing the places looked at.
BoundaryModel loadDefaultModel(std::string* source = nullptr);

// The `learned` segmenter around a scorer (candidates, decoders and defaults of the built-in one).
segment::SegmenterSpec learnedSpec(std::shared_ptr<const segment::Scorer> scorer);
segment::Segmenter learnedSegmenter(std::shared_ptr<const BoundaryModel> model, std::string source = {},
                                    std::shared_ptr<const LmStateSource> lm = nullptr);
// The built-in one (listed in segment::builtinSegmenters(), usecases/segmenters.hpp): loads its model lazily.
segment::SegmenterSpec builtinLearnedSpec();

} // namespace blocklens::learn
