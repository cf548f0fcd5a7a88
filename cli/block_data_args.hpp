#pragma once
// Options shared by train-block and eval-block: where the documents come from, how they are cut
// into windows and blocks.
#include "cli/args.hpp"
#include "usecases/block_distillation.hpp"

namespace blocklens::cli {

// Declares --data, --segmenter (and the segmentation options), --window, --windows-per-doc, --max-docs.
ArgSpec& addBlockDataOptions(ArgSpec& spec);
usecases::BlockDataOptions readBlockDataOptions(const ArgSpec::Parsed& a);
// "1h02m", "3m20s", "12s"
std::string durationText(double seconds);

} // namespace blocklens::cli
