#include "engine/torch/block_kv_cache_impl.hpp"

#include "util/sha256.hpp"

namespace blocklens::engine {

namespace detail {

std::uint64_t BlockKvEntry::bytes() const
{
    std::uint64_t b = hidden.defined() ? static_cast<std::uint64_t>(hidden.numel() * hidden.element_size()) : 0;
    return b + static_cast<std::uint64_t>(k.numel() * k.element_size() + v.numel() * v.element_size());
}

std::shared_ptr<BlockKvEntry> BlockKvEntry::to(const at::Device& device) const
{
    auto e = std::make_shared<BlockKvEntry>();
    e->tokens = tokens;
    e->k = k.to(device);
    e->v = v.to(device);
    if (hidden.defined())
        e->hidden = hidden.to(device);
    return e;
}

} // namespace detail

// ---- BlockKvCache::Impl ------------------------------------------------------------------------

void BlockKvCache::Impl::erase(Tier& tier, const std::string& key)
{
    const auto it = tier.slots.find(key);
    if (it == tier.slots.end())
        return;
    tier.bytes -= it->second.entry->bytes();
    tier.lru.erase(it->second.pos);
    tier.slots.erase(it);
}

void BlockKvCache::Impl::put(Tier& tier, const std::string& key, detail::EntryPtr entry, bool isDevice)
{
    erase(tier, key);
    const std::uint64_t b = entry->bytes();
    if (b > tier.budget) {
        ++counters.rejected;
        return;
    }
    tier.lru.push_front(key);
    tier.slots[key] = {std::move(entry), tier.lru.begin()};
    tier.bytes += b;
    shrink(tier, isDevice);
}

void BlockKvCache::Impl::shrink(Tier& tier, bool isDevice)
{
    while (tier.bytes > tier.budget && !tier.lru.empty()) {
        const std::string key = tier.lru.back();
        detail::EntryPtr victim = tier.slots.at(key).entry;
        erase(tier, key);
        if (isDevice && budget.hostBytes > 0 && victim->bytes() <= budget.hostBytes) {
            ++counters.demotions;
            put(host, key, victim->to(at::Device(at::kCPU)), false);
        } else {
            ++counters.evictions;
        }
    }
}

detail::EntryPtr BlockKvCache::Impl::lookup(const std::string& key, const at::Device& want)
{
    std::lock_guard lock(mutex);
    const bool wantDevice = want.is_cuda();
    if (wantDevice) {
        if (const auto it = device.slots.find(key); it != device.slots.end()) {
            device.lru.splice(device.lru.begin(), device.lru, it->second.pos);
            ++counters.hits;
            return it->second.entry;
        }
    }
    if (const auto it = host.slots.find(key); it != host.slots.end()) {
        host.lru.splice(host.lru.begin(), host.lru, it->second.pos);
        ++counters.hits;
        detail::EntryPtr entry = it->second.entry;
        if (!wantDevice)
            return entry;
        ++counters.hostHits;
        detail::EntryPtr up = entry->to(want); // the host copy stays as a backing store
        put(device, key, up, true);
        return up;
    }
    ++counters.misses;
    return nullptr;
}

void BlockKvCache::Impl::insert(const std::string& key, std::shared_ptr<detail::BlockKvEntry> entry)
{
    std::lock_guard lock(mutex);
    ++counters.insertions;
    const bool onDevice = entry->k.defined() && entry->k.is_cuda();
    if (onDevice)
        put(device, key, std::move(entry), true);
    else
        put(host, key, std::move(entry), false);
}

BlockKvCacheStats BlockKvCache::Impl::stats() const
{
    std::lock_guard lock(mutex);
    BlockKvCacheStats s = counters;
    s.entries = static_cast<std::int64_t>(host.slots.size() + device.slots.size());
    s.hostBytes = host.bytes;
    s.deviceBytes = device.bytes;
    return s;
}

void BlockKvCache::Impl::setBudget(BlockKvCacheBudget b)
{
    std::lock_guard lock(mutex);
    budget = b;
    host.budget = b.hostBytes;
    device.budget = b.deviceBytes;
    shrink(device, true);
    shrink(host, false);
}

void BlockKvCache::Impl::clear()
{
    std::lock_guard lock(mutex);
    host.slots.clear();
    host.lru.clear();
    host.bytes = 0;
    device.slots.clear();
    device.lru.clear();
    device.bytes = 0;
}

// ---- BlockKvCache ------------------------------------------------------------------------------

BlockKvCache::BlockKvCache(BlockKvCacheBudget b) : impl_(std::make_unique<Impl>())
{
    impl_->setBudget(b);
}

BlockKvCache::~BlockKvCache() = default;
BlockKvCacheStats BlockKvCache::stats() const { return impl_->stats(); }
BlockKvCacheBudget BlockKvCache::budget() const
{
    std::lock_guard lock(impl_->mutex);
    return impl_->budget;
}
void BlockKvCache::setBudget(BlockKvCacheBudget b) { impl_->setBudget(b); }
void BlockKvCache::clear() { impl_->clear(); }
void BlockKvCache::resetStats()
{
    std::lock_guard lock(impl_->mutex);
    impl_->counters = {};
}

std::string blockCacheKey(const std::string& modelFingerprint, const std::string& dtype, const std::string& tokenizerHash,
                          std::span<const std::int32_t> ids, std::span<const std::int32_t> after)
{
    std::string material;
    material.reserve(4 * (ids.size() + after.size()) + modelFingerprint.size() + dtype.size() + tokenizerHash.size() + 32);
    auto append = [&](std::span<const std::int32_t> list) {
        for (const auto id : list) {
            const auto u = static_cast<std::uint32_t>(id);
            for (int b = 0; b < 4; ++b)
                material += static_cast<char>((u >> (8 * b)) & 0xFF);
        }
    };
    // A sink goes first, tagged and counted: a fingerprint is hex, so no plain key's material
    // starts with "sink", and the count says where the sink's ids end.
    if (!after.empty()) {
        material += "sink " + std::to_string(after.size()) + "\n";
        append(after);
    }
    material += modelFingerprint + "\n" + dtype + "\n" + tokenizerHash + "\n";
    append(ids);
    return Sha256::hex(material);
}

} // namespace blocklens::engine
