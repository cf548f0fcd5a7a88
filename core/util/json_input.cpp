#include "util/json_input.hpp"

#include <algorithm>

namespace blocklens {

std::optional<std::size_t> findExcessiveJsonNesting(std::string_view text, std::size_t maxDepth)
{
    std::size_t depth = 0;
    bool inString = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (inString) {
            if (ch == '\\')
                ++i; // the escaped character cannot end the string
            else if (ch == '"')
                inString = false;
            continue;
        }
        switch (ch) {
        case '"':
            inString = true;
            break;
        case '[':
        case '{':
            if (++depth > maxDepth)
                return i;
            break;
        case ']':
        case '}':
            if (depth > 0) // unbalanced closers are the parser's to report
                --depth;
            break;
        default:
            break;
        }
    }
    return std::nullopt;
}

std::string jsonNestingMessage(std::size_t maxDepth)
{
    return "nesting deeper than " + std::to_string(maxDepth) + " levels of arrays and objects";
}

std::string jsonErrorText(const nlohmann::json::exception& e)
{
    std::string text = e.what();
    if (text.rfind("[json.exception.", 0) == 0)
        if (const auto end = text.find("] "); end != std::string::npos)
            text.erase(0, end + 2);
    return text;
}

nlohmann::json parseJsonInput(std::string_view text, ErrorContext where, const std::string& what, std::optional<std::int64_t> offsetBase)
{
    if (const auto deep = findExcessiveJsonNesting(text)) {
        if (offsetBase)
            where.byteOffset = *offsetBase + static_cast<std::int64_t>(*deep);
        throw Error(what + ": " + jsonNestingMessage(), std::move(where));
    }
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        if (offsetBase)
            where.byteOffset = *offsetBase + static_cast<std::int64_t>(std::min<std::size_t>(e.byte, text.size()));
        throw Error(what + ": " + jsonErrorText(e), std::move(where));
    } catch (const nlohmann::json::exception& e) { // out_of_range.406: a number like 1e999
        throw Error(what + ": " + jsonErrorText(e), std::move(where));
    }
}

} // namespace blocklens
