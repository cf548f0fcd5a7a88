#pragma once
// train-segmenter --form cut-markers (usecases/cut_marker_training.hpp): its options and its run.
#include "cli/args.hpp"
#include "cli/command.hpp"

namespace blocklens::cli {

ArgSpec& addCutMarkerTrainOptions(ArgSpec& spec);
int trainCutMarkers(const ArgSpec::Parsed& a, Io& io);

} // namespace blocklens::cli
