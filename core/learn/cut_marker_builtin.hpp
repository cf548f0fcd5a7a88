#pragma once
// The built-in `cut-markers` segmenter (listed by segment::builtinSegmenters() when the engine is
// built): the paper's segmenter form (engine/cut_marker_scorer.hpp) with the checkpoint shipped
// in resources/segmenters/cut-markers/ (trained here by `train-segmenter --form cut-markers`; its
// README says how), found the way the learned segmenter finds learned.json (the first that exists):
//   1. $BLOCKLENS_CUT_MARKER_MODEL (a checkpoint directory); when set, it must exist;
//   2. segmenters/cut-markers/ under the places of learn::resourceSearchPath.
// The checkpoint is loaded on first use (on the CPU, with the window it was trained with), so
// listing the segmenters never loads a model; scoring with none found throws an Error that lists
// the places looked at and how to train one. Built only with BLOCKLENS_WITH_TORCH.
#include "segment/segmenter.hpp"

#include <filesystem>
#include <optional>
#include <vector>

namespace blocklens::learn {

inline constexpr const char* kCutMarkerModelEnvVar = "BLOCKLENS_CUT_MARKER_MODEL";
inline constexpr std::string_view kCutMarkerModelDir = "cut-markers"; // under resources/segmenters/

// Where the default checkpoint is looked for, in order (see above), and the first that exists
// (a directory holding config.json).
std::vector<std::filesystem::path> defaultCutMarkerSearchPath();
std::optional<std::filesystem::path> findDefaultCutMarkerModel();

// The built-in one: loads its checkpoint lazily.
segment::SegmenterSpec builtinCutMarkerSpec();

} // namespace blocklens::learn
