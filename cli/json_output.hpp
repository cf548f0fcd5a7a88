#pragma once
// JSON the CLI prints. File names and stored text are bytes, not always UTF-8 (a file name on
// Linux may be anything); nlohmann's default dump() throws on invalid UTF-8, which would turn a
// result into an error. Invalid bytes are printed as U+FFFD instead.
#include <nlohmann/json.hpp>

#include <string>

namespace blocklens::cli {

template <class Json>
std::string jsonText(const Json& j, int indent = 2)
{
    return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

} // namespace blocklens::cli
