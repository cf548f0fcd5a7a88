#pragma once
// Parsing JSON that comes from outside the program (model files, datasets, tokenizer.json, stored
// parameters), with one bound on how deeply arrays and objects may nest.
//
// Why a bound: nlohmann's parser and destructor are iterative, but copying a value, dump() and
// every reader that walks a document recurse once per level, so 100,000 nested `[` overflow the
// stack. Real files nest a handful of levels; anything deeper than kMaxJsonNesting is refused
// before parsing, and every value parsed here is then shallow enough to walk recursively.
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blocklens {

inline constexpr std::size_t kMaxJsonNesting = 512;

// The byte offset of the first `[` or `{` that opens level maxDepth + 1, or nullopt. One linear
// pass that skips string contents (with their escapes); it does not check the rest of the syntax.
std::optional<std::size_t> findExcessiveJsonNesting(std::string_view text, std::size_t maxDepth = kMaxJsonNesting);

// "nesting deeper than 512 levels of arrays and objects"
std::string jsonNestingMessage(std::size_t maxDepth = kMaxJsonNesting);

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string jsonErrorText(const nlohmann::json::exception& e);

// Parses `text` or throws Error("<what>: <reason>", where) for too deep nesting, a syntax error or
// a number out of range. With offsetBase, where.byteOffset becomes offsetBase + the byte where
// parsing stopped (a JSONL line leaves it out: the line number and nlohmann's column say where).
nlohmann::json parseJsonInput(std::string_view text, ErrorContext where, const std::string& what = "not valid JSON",
                              std::optional<std::int64_t> offsetBase = 0);

} // namespace blocklens
