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

// One layer's projections for `tokens` tokens: q, k and v (a layer's fused projection), or k and v
// alone (Transformer::keysValues).
double projectionFlops(const ModelConfig& c, std::int64_t tokens, bool withQueries)
{
    return 2.0 * static_cast<double>(c.hiddenSize) * static_cast<double>((withQueries ? c.qDim() : 0) + 2 * c.kvDim())
           * static_cast<double>(tokens);
}

// The work of `tokens` recomputed tokens through layers [from, L): each layer but the last in
// full (pairs: the (query, key) pairs one layer attends, summed over those tokens); in the last
// only their projections, as nothing reads what the rest of that layer would give them: q/k/v when
// the question's rows share that layer call (one fused projection for every row), else k/v alone.
FlopCount recomputedFlops(const ModelConfig& c, std::int64_t tokens, std::int64_t pairs, std::int64_t from, bool lastWithQueries)
{
    FlopCount f = layerFlops(c, tokens, pairs, c.numLayers - 1 - from);
    f.linear += projectionFlops(c, tokens, lastWithQueries);
    return f;
}

// The question's rows appended to a layer's input: its slots [start, n) after the recomputed
// ones, its rows (embedded ids, or a layer's output) after theirs.
struct QuestionRows {
    std::int64_t start = -1; // < 0: no question in the pass
    at::Tensor slots;        // [question tokens] int64
    at::Tensor x;            // [question tokens, hidden]: its input to the next layer

    bool present() const { return start >= 0; }
    at::Tensor withSlots(const at::Tensor& recomputed) const { return present() ? at::cat({recomputed, slots}) : recomputed; }
    at::Tensor withRows(const at::Tensor& recomputed) const { return present() ? at::cat({recomputed, x}) : recomputed; }
};

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
                     const std::function<void()>& checkStop, std::int64_t questionStart)
{
    c10::NoGradGuard noGrad;
    const ModelConfig& c = tf.config();
    const auto window = c.slidingWindow;
    Recomputed out;
    QuestionRows question;
    if (questionStart >= 0) {
        question.start = questionStart;
        question.slots = at::arange(questionStart, ids.size(0), at::TensorOptions().dtype(at::kLong).device(tf.device()));
        question.x = tf.embed(ids.narrow(0, questionStart, ids.size(0) - questionStart));
    }
    // Tokens at `slots` (the recomputed ones, then the question's) from layer `from` on, input x:
    // each layer writes their K/V and attends. The last layer runs past its K/V for the question's
    // rows alone (whose final hidden states it keeps): the recomputed tokens need only their K/V.
    const auto runLayers = [&](at::Tensor x, const at::Tensor& slots, std::int64_t from) {
        const std::int64_t last = c.numLayers - 1;
        for (std::int64_t l = from; l < last; ++l) {
            checkStop();
            x = tf.layerAtSlots(l, x, slots, kv);
        }
        checkStop();
        if (question.present()) {
            const std::int64_t rows = question.slots.size(0);
            out.questionHidden = tf.finalNorm(tf.layerAtSlots(last, x, slots, kv, rows)); // [question tokens, hidden]
        } else {
            const auto [k, v] = tf.keysValues(last, x, slots); // [kv_heads, tokens, d]
            kv.k.select(0, last).index_copy_(1, slots, k);
            kv.v.select(0, last).index_copy_(1, slots, v);
        }
    };
    if (!plan.recompute.empty()) { // recompute-first: the given slots through every layer
        const at::Tensor slots = slotTensor(plan.recompute, tf.device());
        const auto rows = static_cast<std::int64_t>(plan.recompute.size());
        runLayers(question.withRows(tf.embed(ids.index_select(0, slots))), question.withSlots(slots), 0);
        out.slots = plan.recompute;
        out.flops = recomputedFlops(c, rows, pairsAtSlots(out.slots, window), 0, question.present());
        return out;
    }
    // recompute-frac. Nothing to choose, or a one-layer model (its K/V are exact): no work.
    if (plan.select <= 0 || plan.candidates.empty() || c.numLayers < 2)
        return out;
    const auto nc = static_cast<std::int64_t>(plan.candidates.size());
    const at::Tensor candidates = slotTensor(plan.candidates, tf.device());
    // Probe: layer 0 for every candidate (attending to everything before it), then its layer-1 K/V.
    // The question's layer 0 runs with it (it sees the candidates' new layer-0 K/V either way).
    checkStop();
    const at::Tensor probe = tf.layerAtSlots(0, question.withRows(tf.embed(ids.index_select(0, candidates))), question.withSlots(candidates), kv);
    const at::Tensor x1 = probe.narrow(0, 0, nc);                                                       // [nc, hidden]
    if (question.present())
        question.x = probe.narrow(0, nc, probe.size(0) - nc);
    const auto [k1, v1] = tf.keysValues(1, x1, candidates);                                          // [kv_heads, nc, d]
    const at::Tensor cachedK = kv.k.select(0, 1).index_select(1, candidates);
    const at::Tensor cachedV = kv.v.select(0, 1).index_select(1, candidates);
    const at::Tensor deviation = (k1.to(at::kFloat) - cachedK.to(at::kFloat)).pow(2).sum(at::IntArrayRef{0, 2}) +
                                 (v1.to(at::kFloat) - cachedV.to(at::kFloat)).pow(2).sum(at::IntArrayRef{0, 2}); // [nc]
    out.flops = layerFlops(c, nc, pairsAtSlots(plan.candidates, window), 1);
    out.flops.linear += projectionFlops(c, nc, /*withQueries=*/false); // the probe's layer-1 K/V
    // The largest deviations; a stable sort keeps the earlier slot first among equals.
    const std::int64_t select = std::min(plan.select, nc);
    const at::Tensor order = std::get<1>(at::sort(deviation.cpu(), /*stable=*/true, /*dim=*/0, /*descending=*/true));
    std::vector<std::int64_t> chosen(order.data_ptr<std::int64_t>(), order.data_ptr<std::int64_t>() + select); // candidate indices
    std::sort(chosen.begin(), chosen.end());
    for (const auto i : chosen)
        out.slots.push_back(plan.candidates[static_cast<std::size_t>(i)]);
    const at::Tensor picked = slotTensor(chosen, tf.device());
    const at::Tensor slots = slotTensor(out.slots, tf.device());
    runLayers(question.withRows(x1.index_select(0, picked)), question.withSlots(slots), 1);
    out.flops += recomputedFlops(c, select, pairsAtSlots(out.slots, window), 1, question.present());
    return out;
}

} // namespace blocklens::engine::detail
