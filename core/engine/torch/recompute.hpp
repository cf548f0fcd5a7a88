#pragma once
// The torch side of the repairs of block-cached attention (definitions: engine/repair.hpp):
// encoding a block after the sink, and computing chosen tokens again inside an assembled KV buffer.
#include "engine/flops.hpp"
#include "engine/repairs.hpp"
#include "engine/torch/block_kv_cache_impl.hpp"
#include "engine/torch/transformer.hpp"

#include <functional>
#include <memory>
#include <vector>

namespace blocklens::engine::detail {

// Block [s, s + len) of `ids` [n] encoded after the sink ids[0, sinkTokens): the sequence
// [sink ; block] at positions 0 .. sinkTokens + len - 1, causal; the entry keeps the block's rows
// only (K/V rotated for positions sinkTokens.., hidden states).
std::shared_ptr<BlockKvEntry> encodeAfterSink(const Transformer& tf, const at::Tensor& ids, std::int64_t sinkTokens,
                                              std::int64_t s, std::int64_t len);

// What encoding a block of `len` tokens after a sink of sinkTokens costs (FLOPs; sinkTokens 0: the
// block alone), and the part of it that the sink adds.
FlopCount sinkBlockFlops(const ModelConfig& config, std::int64_t sinkTokens, std::int64_t len);
FlopCount sinkExtraFlops(const ModelConfig& config, std::int64_t sinkTokens, std::int64_t len);

struct Recomputed {
    std::vector<std::int64_t> slots; // recomputed, ascending
    FlopCount flops;                 // the work done, exactly as computed (probe included)
    // With a question given to recompute(): its tokens' final hidden states [question tokens,
    // hidden], after the final norm (what Transformer::forward returns). Undefined when nothing
    // was recomputed: then the caller runs the question's pass itself.
    at::Tensor questionHidden;
};

// recompute-first / recompute-frac on the assembled buffer `kv` (every context slot holds its
// block-cached K/V): overwrites the K/V of the recomputed slots in every layer. `ids` [n] on the
// model's device. `checkStop` runs between layers (may throw).
//
// questionStart >= 0: the question, slots [questionStart, n), goes through every layer together
// with the recomputed tokens (CacheBlend's single pass: one product per weight matrix for both,
// one attention call per layer). The values are those of recompute() followed by the question's
// own pass: the question comes after every context slot, so at each layer it sees the
// recomputed K/V of that layer, as it would later, and the recomputed tokens never see it.
Recomputed recompute(const Transformer& tf, KvBuffer& kv, const at::Tensor& ids, const RepairPlan& plan,
                     const std::function<void()>& checkStop, std::int64_t questionStart = -1);

} // namespace blocklens::engine::detail
