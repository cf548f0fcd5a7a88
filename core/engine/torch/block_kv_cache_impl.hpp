#pragma once
// Internal side of BlockKvCache: entries hold tensors.
#include "engine/block_kv_cache.hpp"
#include "engine/torch/common.hpp"

#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace blocklens::engine {

namespace detail {

// One block's KV, computed with the block alone at positions 0..tokens-1.
struct BlockKvEntry {
    at::Tensor k;                // [layers, kv_heads, tokens, head_dim], RoPE'd for positions 0..tokens-1
    at::Tensor v;                // [layers, kv_heads, tokens, head_dim]
    at::Tensor hidden;           // [tokens, hidden]: final-norm hidden states, for the block's own logits
    std::int64_t tokens = 0;

    std::uint64_t bytes() const;
    std::shared_ptr<BlockKvEntry> to(const at::Device& device) const; // a copy on another device
};

using EntryPtr = std::shared_ptr<const BlockKvEntry>;

} // namespace detail

struct BlockKvCache::Impl {
    // Finds `key`; a host-tier entry wanted on a CUDA device is copied up into the device tier.
    detail::EntryPtr lookup(const std::string& key, const at::Device& device);
    // Stores an entry (into the tier of its device) and evicts down to the budget.
    void insert(const std::string& key, std::shared_ptr<detail::BlockKvEntry> entry);

    BlockKvCacheStats stats() const;
    void setBudget(BlockKvCacheBudget budget);
    void clear();

    struct Tier {
        std::uint64_t budget = 0, bytes = 0;
        std::list<std::string> lru; // front: most recently used
        struct Slot {
            detail::EntryPtr entry;
            std::list<std::string>::iterator pos;
        };
        std::unordered_map<std::string, Slot> slots;
    };

    mutable std::mutex mutex;
    BlockKvCacheBudget budget;
    Tier host, device;
    BlockKvCacheStats counters;

private:
    void put(Tier& tier, const std::string& key, detail::EntryPtr entry, bool isDevice);
    void shrink(Tier& tier, bool isDevice);
    void erase(Tier& tier, const std::string& key);
};

} // namespace blocklens::engine
