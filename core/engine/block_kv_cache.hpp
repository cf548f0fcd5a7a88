#pragma once
// The block KV cache: keys and values of blocks encoded on their own (positions 0..len-1), keyed
// by what determines them, reused whenever the same block appears again (re-rotated to its offset
// by the runner). Two tiers with their own byte budgets and LRU eviction:
//
//   device tier (GPU memory, used when the model runs on CUDA)
//   host tier   (CPU memory; on CPU it is the only tier)
//
// An entry evicted from the device tier moves to the host tier when that has a budget; one
// evicted from the host tier is dropped. A host-tier hit for a CUDA model is copied back up.
// Thread-safe. Entries handed out stay valid while in use even if evicted meanwhile.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace blocklens::engine {

struct BlockKvCacheBudget {
    std::uint64_t hostBytes = 2ull << 30;   // 2 GiB
    std::uint64_t deviceBytes = 8ull << 30; // 8 GiB (ignored on CPU)
};

struct BlockKvCacheStats {
    std::int64_t hits = 0;          // lookups that found the block (either tier)
    std::int64_t hostHits = 0;      // of those, found only in the host tier
    std::int64_t misses = 0;
    std::int64_t insertions = 0;
    std::int64_t evictions = 0;     // entries dropped from the cache altogether
    std::int64_t demotions = 0;     // entries moved from the device to the host tier
    std::int64_t rejected = 0;      // entries larger than a whole tier, never stored
    std::int64_t entries = 0;
    std::uint64_t hostBytes = 0;
    std::uint64_t deviceBytes = 0;
    std::uint64_t bytes() const { return hostBytes + deviceBytes; }
};

class BlockKvCache {
public:
    explicit BlockKvCache(BlockKvCacheBudget budget = {});
    ~BlockKvCache();
    BlockKvCache(const BlockKvCache&) = delete;
    BlockKvCache& operator=(const BlockKvCache&) = delete;

    BlockKvCacheStats stats() const;
    BlockKvCacheBudget budget() const;
    void setBudget(BlockKvCacheBudget budget); // evicts down to the new budget
    void clear();                              // drops every entry, keeps the counters
    void resetStats();

    struct Impl;
    Impl& impl() { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

// The cache key of one block: SHA-256 over the model's fingerprint, the compute dtype, the
// tokenizer's content hash (empty when ids were given directly) and the block's token ids; a block
// encoded after a sink (repair.hpp) adds the sink's ids, `after` (empty: the plain block's key).
std::string blockCacheKey(const std::string& modelFingerprint, const std::string& dtype,
                          const std::string& tokenizerHash, std::span<const std::int32_t> ids,
                          std::span<const std::int32_t> after = {});

} // namespace blocklens::engine
