#include "tokenizer/byte_level.hpp"

#include "util/utf8.hpp"

namespace blocklens::tok::byte_level {
namespace {

struct Tables {
    std::array<char32_t, 256> chars{};
    std::array<std::string, 256> utf8;
    std::array<std::int16_t, 0x200> bytes{}; // char (< 0x200) -> byte, -1 if none
    Tables()
    {
        bytes.fill(-1);
        auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const char32_t c = printable(b) ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
            chars[static_cast<std::size_t>(b)] = c;
            utf8::append(utf8[static_cast<std::size_t>(b)], c);
            bytes[c] = static_cast<std::int16_t>(b);
        }
    }
};

const Tables& tables()
{
    static const Tables t;
    return t;
}

} // namespace

char32_t charOf(std::uint8_t b) noexcept { return tables().chars[b]; }
std::string_view utf8Of(std::uint8_t b) noexcept { return tables().utf8[b]; }

std::optional<std::uint8_t> byteOf(char32_t c) noexcept
{
    if (c >= 0x200)
        return std::nullopt;
    const std::int16_t b = tables().bytes[c];
    if (b < 0)
        return std::nullopt;
    return static_cast<std::uint8_t>(b);
}

std::optional<std::string> toBytes(std::string_view token)
{
    std::string out;
    out.reserve(token.size());
    std::size_t i = 0;
    while (i < token.size()) {
        const auto b = byteOf(utf8::decodeAt(token, i));
        if (!b)
            return std::nullopt;
        out += static_cast<char>(*b);
    }
    return out;
}

std::string fromBytes(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes)
        out.append(utf8Of(static_cast<std::uint8_t>(c)));
    return out;
}

} // namespace blocklens::tok::byte_level
