#pragma once
// Where the built-in segmenters find their shipped models (resources/segmenters/...): the same
// places for every model, so an installed tree, a build tree and the source tree all work.
//
// For a path `rel` under resources/ (e.g. segmenters/learned.json), in order:
//   <executable dir>/../share/blocklens/rel, <executable dir>/resources/rel,
//   <executable dir>/../resources/rel, <executable dir>/../../resources/rel,
//   then resources/rel of the source tree this build was configured from.
#include <filesystem>
#include <vector>

namespace blocklens::learn {

std::vector<std::filesystem::path> resourceSearchPath(const std::filesystem::path& rel);

} // namespace blocklens::learn
