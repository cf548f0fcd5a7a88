#pragma once
// Options shared by `segment` and `eval`: the granularity control and the size limits.
#include "cli/args.hpp"
#include "segment/segmenter.hpp"

namespace blocklens::cli {

// Declares --target-tokens, --blocks, --threshold, --depth, --min-tokens, --max-tokens, --regex.
ArgSpec& addSegmentOptions(ArgSpec& spec);
// Reads them; throws UsageError when more than one granularity control is given, --depth comes
// without --threshold, or a number is out of range.
segment::SegmentOptions readSegmentOptions(const ArgSpec::Parsed& a);
// True when the user typed one of --target-tokens, --blocks, --threshold, --depth.
bool hasGranularity(const ArgSpec::Parsed& a);

} // namespace blocklens::cli
