#pragma once
// Options and output shared by the engine's commands (logits, compare, make-model).
#include "cli/args.hpp"
#include "engine/model.hpp"
#include "engine/runner.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace blocklens::cli {

// "1,2,3" (spaces allowed) -> numbers; UsageError naming the option and the bad entry.
std::vector<std::int64_t> parseIntegerList(const std::string& text, const std::string& option);
std::vector<std::int32_t> parseTokenIds(const std::string& text, const std::string& option);

// Declares --device and --dtype.
ArgSpec& addDeviceOptions(ArgSpec& spec);
// Reads them (UsageError for an unknown dtype); maxTokens: the longest sequence to plan for.
engine::LoadOptions readLoadOptions(const ArgSpec::Parsed& a, std::int64_t maxTokens);

// A run's statistics as JSON (milliseconds, FLOPs, bytes, cache counters).
nlohmann::ordered_json runStatsJson(const engine::RunStats& stats);

} // namespace blocklens::cli
