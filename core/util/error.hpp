#pragma once
// The one error type core throws. The message says what is wrong in words a user can act on;
// the context says where (file, line, byte offset, tensor name...). what() joins both.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace blocklens {

struct ErrorContext {
    std::string file;                 // path of the file being read, if any
    std::optional<std::int64_t> line; // 1-based line number (JSONL, config files)
    std::optional<std::int64_t> byteOffset;
    std::string item;                 // e.g. a tensor name, a JSON field, a CLI option
};

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, ErrorContext context = {});

    const std::string& message() const noexcept { return message_; }
    const ErrorContext& context() const noexcept { return context_; }

private:
    std::string message_;
    ErrorContext context_;
};

// "file:line: byte N: item: message", leaving out what is unknown.
std::string formatError(const std::string& message, const ErrorContext& context);

} // namespace blocklens
