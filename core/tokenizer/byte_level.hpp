#pragma once
// The GPT-2 byte-level alphabet: every byte is shown as a printable character (bytes that are
// printable Latin-1 stand for themselves, the others map to U+0100.. in order).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blocklens::tok::byte_level {

// The character standing for byte b.
char32_t charOf(std::uint8_t b) noexcept;
// Its UTF-8 form.
std::string_view utf8Of(std::uint8_t b) noexcept;
// The byte a character stands for, if it is one of the 256.
std::optional<std::uint8_t> byteOf(char32_t c) noexcept;

// Maps a byte-level token back to raw bytes; nullopt when a character is not in the alphabet.
std::optional<std::string> toBytes(std::string_view token);
// Maps raw bytes to their byte-level spelling.
std::string fromBytes(std::string_view bytes);

} // namespace blocklens::tok::byte_level
