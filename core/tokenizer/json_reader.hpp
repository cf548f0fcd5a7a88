#pragma once
// Reads tokenizer.json: a JSON DOM of everything except the two big members of a BPE model,
// "model.vocab" (token -> id) and "model.merges", which are streamed into plain vectors while
// parsing (a Llama 3 file has 128k vocabulary entries and 280k merges; as DOM nodes they cost
// more than the rest of loading together).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace blocklens::tok {

struct TokenizerJson {
    nlohmann::json root;       // model.vocab / model.merges are left out when streamed
    bool vocabStreamed = false; // model.vocab was an object and is in `vocab`
    bool mergesStreamed = false;
    std::vector<std::pair<std::string, std::int64_t>> vocab;
    std::vector<std::pair<std::string, std::string>> merges;
    // First malformed entry met while streaming: the field and what is wrong.
    std::optional<std::pair<std::string, std::string>> streamError;
    // Set when the text is not valid JSON, or nests deeper than util/json_input's kMaxJsonNesting
    // (checked before parsing, which keeps the DOM and the loader, which recurses into nested
    // Sequences, shallow): the message and the byte where it stopped.
    std::optional<std::pair<std::string, std::size_t>> syntaxError;
};

TokenizerJson readTokenizerJson(std::string_view text);

} // namespace blocklens::tok
