#pragma once
// Base64 (RFC 4648, with padding): how the remote protocol carries float32 arrays (logits,
// attention mass) exactly and in a third of the room their decimal text would take.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens {

std::string base64Encode(std::string_view bytes);
// nullopt for a character outside the alphabet or a length that is not a multiple of 4.
std::optional<std::string> base64Decode(std::string_view text);

} // namespace blocklens
