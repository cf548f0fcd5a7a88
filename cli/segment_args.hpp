#pragma once
// Options shared by every command that segments (`segment`, `eval`, `compare`): the granularity
// control and the size limits.
#include "cli/args.hpp"
#include "segment/segmenter.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace blocklens::cli {

// Declares --target-tokens, --blocks (old name --num-blocks), --threshold, --depth, --min-tokens,
// --max-tokens, --regex.
ArgSpec& addSegmentOptions(ArgSpec& spec);
// Reads them; throws UsageError when more than one granularity control is given, --depth comes
// without --threshold, or a number is out of range.
segment::SegmentOptions readSegmentOptions(const ArgSpec::Parsed& a);
// True when the user typed one of --target-tokens, --blocks, --threshold, --depth.
bool hasGranularity(const ArgSpec::Parsed& a);
// True when the user typed any of the options addSegmentOptions declares.
bool hasSegmentOptions(const ArgSpec::Parsed& a);

// Declares --db PATH: record the result in that experiment store (core/store). Only an explicit
// --db records; $BLOCKLENS_DB and the default workspace are not used by segment / eval.
ArgSpec& addRecordOption(ArgSpec& spec);
// The workspace file named by --db, or nullopt when not given; throws UsageError for "--db ''".
std::optional<std::filesystem::path> recordPath(const ArgSpec::Parsed& a);
// Who recorded it: $USER if set, else "blocklens-cli".
std::string recordAuthor();

} // namespace blocklens::cli
