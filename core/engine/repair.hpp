#pragma once
// Repairs of block attention at inference time: variants of block-cached attention (runner.hpp)
// that move it back towards full attention, each with one parameter. Written as the mode
// `block-cached+<repair>` (attention_variant.hpp parses and names them).
//
// Notation: the input is n tokens in blocks B_0 .. B_{m-1} starting at s_0 = 0 < s_1 < ... ; the
// last block B_{m-1} is the query, the tokens before it (slots 0 .. s_{m-1}-1) the context. Plain
// block-cached attention encodes every context block alone at positions 0..len-1 (cache entry),
// re-rotates its keys to its global positions s_b.. and lets the query attend to all of it. Only
// blocks after the first are wrong (B_0 alone is exactly its full-attention self), so the repairs
// below act on the context blocks B_1 .. B_{m-2} only.
//
// sink:N, sink:bos  Block sink tokens (Li et al. 2026, the block-attention paper this project
//     follows; APE, Yang et al. 2025, "shared prefix"). The sink is the first N tokens of the input
//     (sink:bos: the first token, which must be the model's bos_token_id). Every context block
//     after the first is encoded after the sink: the sequence [ids[0..N) ; B_b] at positions
//     0 .. N+len-1, causal, so the sink attends to itself and the block's tokens to the sink and
//     to the block's earlier tokens. Only the block's rows are kept (K/V at positions N..N+len-1,
//     re-rotated by s_b - N to s_b..); the sink's own K/V appear once, as the first N tokens of
//     B_0 at the start of the assembled cache. N must not exceed B_0 (nor the context). The cache
//     key of such a block includes the sink's ids (a different entry than the block alone).
//     Extra work: N tokens more in each context block's encoding (on cache misses only).
//
// recompute-first:k  Boundary recompute (EPIC, Hu et al. 2024, "LegoLink"). After assembly, the
//     first min(k, len_b) tokens of every context block after the first are computed again, at
//     their global positions, through every layer: at each layer such a token attends (causal,
//     and the model's sliding window) to every slot before it and itself, holding the cached K/V
//     or, for other recomputed tokens, their new K/V of that layer; its new K/V replace the cached
//     ones. The rest of the cache is reused as is. k >= every block's length gives full attention.
//
// recompute-frac:r  Selective recompute (CacheBlend, Yao et al. 2025, as in LMCache). Candidates:
//     the tokens of the context blocks after the first; round(r x candidates) of them are
//     selected and recomputed as in recompute-first. Selection, as CacheBlend's on an early
//     layer: every candidate goes through layer 0 attending to everything before it (exact: layer
//     0's K/V depend only on the token and its position), then its layer-1 K and V are computed
//     from that output; the deviation of a token is the squared L2 distance of those K/V from the
//     cached ones (all KV heads); the largest deviations are selected (ties: the earlier slot).
//     The selected tokens then run layers 1 .. L-1 from their layer-0 output. CacheBlend's
//     gradual filtering (a shrinking selection layer by layer) is not done: the set is fixed
//     after layer 1. r = 0 is block-cached, r = 1 full attention. A one-layer model has no K/V to
//     repair (its layer-0 K/V are exact): nothing is recomputed.
//
// What a repair changes: the K/V the query block and generated tokens attend to. The logits and
// hidden states of context rows (LogitsWanted::All, wantHidden) stay those of the cached blocks.
//
// How it runs (the values are those of the definitions above; engine/torch/recompute.hpp): the
// query block goes through the same layer calls as the recomputed tokens (one product per weight
// matrix for both, as CacheBlend's single pass), except beside a CUDA graph of the query's pass;
// and in the last layer a recomputed token stops after its projections, since only its K/V are
// read after it (q/k/v when it shares the layer call with the query block: one fused projection;
// k/v alone otherwise). recompute-frac's probe projects layer 1's k/v alone. FLOPs count what
// runs: every layer in full but the last, whose projections alone are counted (`repair_flops`).
//
// Not included: APE's attention scaling (temperature and scale on the context blocks in the
// query's attention) needs a change inside the attention kernel of every route; left for later.
#include <cstdint>

namespace blocklens::engine {

enum class RepairKind { None, Sink, RecomputeFirst, RecomputeFrac };

struct Repair {
    RepairKind kind = RepairKind::None;
    std::int64_t sinkTokens = 0; // sink:N
    bool sinkBos = false;        // sink:bos (one token, the model's BOS)
    std::int64_t firstTokens = 0; // recompute-first:k
    double fraction = 0;         // recompute-frac:r

    bool active() const { return kind != RepairKind::None; }
};

} // namespace blocklens::engine
