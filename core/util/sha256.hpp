#pragma once
// SHA-256 (FIPS 180-4), used for stable content hashes of documents, models and tokenizers.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace blocklens {

class Sha256 {
public:
    Sha256();
    void update(std::string_view data);
    std::array<std::uint8_t, 32> finish();

    static std::string hex(std::string_view data); // 64 lowercase hex digits

private:
    void block(const std::uint8_t* p);
    std::array<std::uint32_t, 8> h_;
    std::array<std::uint8_t, 64> buf_{};
    std::size_t bufLen_ = 0;
    std::uint64_t totalBytes_ = 0;
};

} // namespace blocklens
