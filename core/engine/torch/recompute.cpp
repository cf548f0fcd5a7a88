#include "engine/torch/recompute.hpp"
#include <c10/core/GradMode.h> // c10::NoGradGuard

#include <algorithm>
#include <numeric>

namespace blocklens::engine::detail {
namespace {

at::Tensor slotTensor(const std::vector<std::int64_t>& slots, const at::Device& device)
{
    return at::tensor(slots, at::TensorOptions().dtype(at::kLong)).to(device); // [n]
}

// (query, key) pairs of tokens at `slots` attending to every slot up to their own.
std::int64_t pairsAtSlots(const std::vector<std::int64_t>& slots, std::optional<std::int64_t> window)
{
    std::int64_t pairs = 0;
    for (const auto s : slots)
        pairs += attendedPairs(s, 1, 0, window);
    return pairs;
}

// One layer's share of a forward pass (forwardFlops is linear in the layers).
FlopCount layerFlops(const ModelConfig& c, std::int64_t tokens, std::int64_t pairs, std::int64_t layers)
{
    ModelConfig part = c;
    part.numLayers = layers;
    return forwardFlops(part, tokens, pairs, 0);
}

// Tokens at `slots` from layer `from` on, input x: each layer writes their K/V and attends.
void runLayers(const Transformer& tf, KvBuffer& kv, at::Tensor x, const at::Tensor& slots, std::int64_t from,
               const std::function<void()>& checkStop)
{
    for (std::int64_t l = from; l < tf.config().numLayers; ++l) {
        checkStop();
        x = tf.layerAtSlots(l, x, slots, kv);
    }
}

} // namespace

std::shared_ptr<BlockKvEntry> encodeAfterSink(const Transformer& tf, const at::Tensor& ids, std::int64_t sinkTokens,
                                              std::int64_t s, std::int64_t len)
{
    c10::NoGradGuard noGrad;
    const std::int64_t total = sinkTokens + len;
    KvBuffer buffer(tf.config(), total, tf.options());
    const at::Tensor seq = at::cat({ids.narrow(0, 0, sinkTokens), ids.narrow(0, s, len)});
    const at::Tensor positions = at::arange(0, total, at::TensorOptions().dtype(at::kLong).device(tf.device()));
    const at::Tensor h = tf.forward(buffer, {seq, positions, 0, 0}); // [total, hidden]
    auto entry = std::make_shared<BlockKvEntry>();
    // Own copies: the entry outlives the buffer and may be evicted or moved on its own.
    entry->hidden = h.narrow(0, sinkTokens, len).clone();
    entry->k = buffer.k.narrow(2, sinkTokens, len).contiguous();
    entry->v = buffer.v.narrow(2, sinkTokens, len).contiguous();
    entry->tokens = len;
    return entry;
}

FlopCount sinkBlockFlops(const ModelConfig& c, std::int64_t sinkTokens, std::int64_t len)
{
    return forwardFlops(c, sinkTokens + len, attendedPairs(0, sinkTokens + len, 0, c.slidingWindow), 0);
}

FlopCount sinkExtraFlops(const ModelConfig& c, std::int64_t sinkTokens, std::int64_t len)
{
    const FlopCount with = sinkBlockFlops(c, sinkTokens, len), alone = sinkBlockFlops(c, 0, len);
    return {with.linear - alone.linear, with.attention - alone.attention, with.lmHead - alone.lmHead};
}

Recomputed recompute(const Transformer& tf, KvBuffer& kv, const at::Tensor& ids, const RepairPlan& plan,
                     const std::function<void()>& checkStop)
{
    c10::NoGradGuard noGrad;
    const ModelConfig& c = tf.config();
    const auto window = c.slidingWindow;
    Recomputed out;
    if (!plan.recompute.empty()) { // recompute-first: the given slots through every layer
        const at::Tensor slots = slotTensor(plan.recompute, tf.device());
        runLayers(tf, kv, tf.embed(ids.index_select(0, slots)), slots, 0, checkStop);
        out.slots = plan.recompute;
        out.flops = forwardFlops(c, static_cast<std::int64_t>(out.slots.size()), pairsAtSlots(out.slots, window), 0);
        return out;
    }
    // recompute-frac. Nothing to choose, or a one-layer model (its K/V are exact): no work.
    if (plan.select <= 0 || plan.candidates.empty() || c.numLayers < 2)
        return out;
    const auto nc = static_cast<std::int64_t>(plan.candidates.size());
    const at::Tensor candidates = slotTensor(plan.candidates, tf.device());
    // Probe: layer 0 for every candidate (attending to everything before it), then its layer-1 K/V.
    checkStop();
    const at::Tensor x1 = tf.layerAtSlots(0, tf.embed(ids.index_select(0, candidates)), candidates, kv); // [nc, hidden]
    const auto [k1, v1] = tf.keysValues(1, x1, candidates);                                          // [kv_heads, nc, d]
    const at::Tensor cachedK = kv.k.select(0, 1).index_select(1, candidates);
    const at::Tensor cachedV = kv.v.select(0, 1).index_select(1, candidates);
    const at::Tensor deviation = (k1.to(at::kFloat) - cachedK.to(at::kFloat)).pow(2).sum(at::IntArrayRef{0, 2}) +
                                 (v1.to(at::kFloat) - cachedV.to(at::kFloat)).pow(2).sum(at::IntArrayRef{0, 2}); // [nc]
    out.flops = layerFlops(c, nc, pairsAtSlots(plan.candidates, window), 1);
    out.flops.linear += 2.0 * static_cast<double>(c.hiddenSize) * static_cast<double>(c.qDim() + 2 * c.kvDim()) * static_cast<double>(nc);
    // The largest deviations; a stable sort keeps the earlier slot first among equals.
    const std::int64_t select = std::min(plan.select, nc);
    const at::Tensor order = std::get<1>(at::sort(deviation.cpu(), /*stable=*/true, /*dim=*/0, /*descending=*/true));
    std::vector<std::int64_t> chosen(order.data_ptr<std::int64_t>(), order.data_ptr<std::int64_t>() + select); // candidate indices
    std::sort(chosen.begin(), chosen.end());
    for (const auto i : chosen)
        out.slots.push_back(plan.candidates[static_cast<std::size_t>(i)]);
    const at::Tensor picked = slotTensor(chosen, tf.device());
    const at::Tensor slots = slotTensor(out.slots, tf.device());
    runLayers(tf, kv, x1.index_select(0, picked), slots, 1, checkStop);
    out.flops += layerFlops(c, select, pairsAtSlots(out.slots, window), c.numLayers - 1);
    return out;
}

} // namespace blocklens::engine::detail
