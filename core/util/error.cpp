#include "util/error.hpp"

namespace blocklens {

std::string formatError(const std::string& message, const ErrorContext& context)
{
    std::string out;
    if (!context.file.empty()) {
        out += context.file;
        if (context.line)
            out += ":" + std::to_string(*context.line);
        out += ": ";
    } else if (context.line) {
        out += "line " + std::to_string(*context.line) + ": ";
    }
    if (context.byteOffset)
        out += "byte " + std::to_string(*context.byteOffset) + ": ";
    if (!context.item.empty())
        out += context.item + ": ";
    out += message;
    return out;
}

Error::Error(const std::string& message, ErrorContext context)
    : std::runtime_error(formatError(message, context)), message_(message), context_(std::move(context))
{
}

} // namespace blocklens
