#pragma once
// The settings of the ecosystem's block formats (core/document/exchange_formats.hpp) shared by
// `import` (reading them) and `db export --dataset` (writing them).
#include "cli/args.hpp"
#include "document/exchange_formats.hpp"

#include <string>

namespace blocklens::cli {

// Declares --separator (cacheblend) and --offsets (chunk-offsets); `command` starts their help
// where the options belong to one action only (e.g. "export --format ").
ArgSpec& addExchangeOptions(ArgSpec& spec, const std::string& command = {});
// Reads them; throws UsageError naming --offsets for a unit other than codepoints, utf16, bytes.
ExchangeOptions readExchangeOptions(const ArgSpec::Parsed& a);

} // namespace blocklens::cli
