#pragma once
// Open-addressing hash maps for the hot lookups of tokenization: strings (vocabulary, word cache)
// and 64-bit keys (BPE merges). Keys of the string map live in one arena; no per-entry allocation.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::tok {

inline std::uint64_t mix64(std::uint64_t x) noexcept
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

inline std::uint64_t hashBytes(std::string_view s) noexcept
{
    std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ (s.size() * 0x100000001B3ULL);
    const char* p = s.data();
    std::size_t n = s.size();
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h = (h << 29) | (h >> 35);
        p += 8;
        n -= 8;
    }
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    return mix64(h ^ w);
}

// string -> V. Insert keeps the first value for a key unless `overwrite`.
template <class V>
class FlatStringMap {
public:
    FlatStringMap() { rehash(16); }

    std::size_t size() const noexcept { return count_; }
    std::size_t arenaBytes() const noexcept { return arena_.size(); }

    void clear()
    {
        arena_.clear();
        count_ = 0;
        std::fill(slots_.begin(), slots_.end(), Slot{});
    }

    void reserve(std::size_t n)
    {
        std::size_t cap = 16;
        while (cap < n * 2)
            cap <<= 1;
        if (cap > slots_.size())
            rehash(cap);
    }

    // Returns true when the key was new.
    bool insert(std::string_view key, const V& value, bool overwrite = false)
    {
        if ((count_ + 1) * 2 > slots_.size())
            rehash(slots_.size() * 2);
        const std::uint64_t h = hashBytes(key);
        std::size_t i = h & mask_;
        while (slots_[i].used) {
            if (slots_[i].hash == h && keyOf(slots_[i]) == key) {
                if (overwrite)
                    slots_[i].value = value;
                return false;
            }
            i = (i + 1) & mask_;
        }
        Slot& s = slots_[i];
        s.used = true;
        s.hash = h;
        s.offset = static_cast<std::uint32_t>(arena_.size());
        s.length = static_cast<std::uint32_t>(key.size());
        s.value = value;
        arena_.append(key);
        ++count_;
        return true;
    }

    const V* find(std::string_view key) const noexcept
    {
        const std::uint64_t h = hashBytes(key);
        std::size_t i = h & mask_;
        while (slots_[i].used) {
            if (slots_[i].hash == h && keyOf(slots_[i]) == key)
                return &slots_[i].value;
            i = (i + 1) & mask_;
        }
        return nullptr;
    }

    template <class F>
    void forEach(F&& f) const
    {
        for (const Slot& s : slots_)
            if (s.used)
                f(keyOf(s), s.value);
    }

private:
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t offset = 0;
        std::uint32_t length = 0;
        V value{};
        bool used = false;
    };

    std::string_view keyOf(const Slot& s) const noexcept { return {arena_.data() + s.offset, s.length}; }

    void rehash(std::size_t cap)
    {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
        for (const Slot& s : old) {
            if (!s.used)
                continue;
            std::size_t i = s.hash & mask_;
            while (slots_[i].used)
                i = (i + 1) & mask_;
            slots_[i] = s;
        }
    }

    std::vector<Slot> slots_;
    std::string arena_;
    std::size_t mask_ = 0;
    std::size_t count_ = 0;
};

// (a, b) pair of token ids -> V.
template <class V>
class PairMap {
public:
    PairMap() { rehash(16); }

    static std::uint64_t key(std::int32_t a, std::int32_t b) noexcept
    {
        return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
    }

    std::size_t size() const noexcept { return count_; }

    void reserve(std::size_t n)
    {
        std::size_t cap = 16;
        while (cap < n * 2)
            cap <<= 1;
        if (cap > slots_.size())
            rehash(cap);
    }

    // Later values replace earlier ones for the same pair (as a Rust HashMap collect does).
    void insertOrAssign(std::int32_t a, std::int32_t b, const V& value)
    {
        if ((count_ + 1) * 2 > slots_.size())
            rehash(slots_.size() * 2);
        const std::uint64_t k = key(a, b);
        std::size_t i = mix64(k) & mask_;
        while (slots_[i].used) {
            if (slots_[i].key == k) {
                slots_[i].value = value;
                return;
            }
            i = (i + 1) & mask_;
        }
        slots_[i] = Slot{k, value, true};
        ++count_;
    }

    const V* find(std::int32_t a, std::int32_t b) const noexcept
    {
        const std::uint64_t k = key(a, b);
        std::size_t i = mix64(k) & mask_;
        while (slots_[i].used) {
            if (slots_[i].key == k)
                return &slots_[i].value;
            i = (i + 1) & mask_;
        }
        return nullptr;
    }

private:
    struct Slot {
        std::uint64_t key = 0;
        V value{};
        bool used = false;
    };

    void rehash(std::size_t cap)
    {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(cap, Slot{});
        mask_ = cap - 1;
        for (const Slot& s : old) {
            if (!s.used)
                continue;
            std::size_t i = mix64(s.key) & mask_;
            while (slots_[i].used)
                i = (i + 1) & mask_;
            slots_[i] = s;
        }
    }

    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::size_t count_ = 0;
};

} // namespace blocklens::tok
