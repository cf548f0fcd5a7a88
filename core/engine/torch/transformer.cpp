#include "engine/torch/transformer.hpp"
#include <c10/core/GradMode.h> // c10::NoGradGuard: the same in libtorch 1.13 and 2.x

#include "engine/torch/attention.hpp"
#include "engine/torch/attention_at_slots.hpp"
#include "engine/torch/kernels_bridge.hpp"

#include <algorithm>
#include <cmath>

namespace blocklens::engine::detail {

namespace {

// From this many rows on, the GPU path projects Q|K and V (and gate and up) with separate matrix
// products over slices of the fused weights: each output is then contiguous, so the element-wise
// kernels that follow (RoPE, SiLU * up) take their vectorized path; below it one fused product
// means fewer launches, which is what a short last block or a decoding step is bound by.
constexpr std::int64_t kSplitProjectionRows = 256;

at::Tensor rowsOf(const at::Tensor& t, std::int64_t begin, std::int64_t count)
{
    return t.defined() ? t.narrow(0, begin, count) : at::Tensor();
}

// x + h W^T (+ b): without a bias, one GEMM whose epilogue adds the residual (cuBLAS reads x once
// instead of writing h W^T and reading it back: ~4% of a 32k-token prefill layer on an H100).
at::Tensor residualLinear(const at::Tensor& x, const at::Tensor& h, const at::Tensor& w, const at::Tensor& b)
{
    if (b.defined())
        return x + at::linear(h, w, b);
    return at::addmm(x, h, w.t());
}

// silu(gate) * up: on CUDA bf16/fp16 one kernel (written into `gate`, which the caller gives up),
// else two ATen kernels in place.
at::Tensor siluTimes(at::Tensor gate, const at::Tensor& up)
{
    // Under autograd (training) out of place: silu's gradient needs its input, and the fused
    // kernel has no backward.
    if (c10::GradMode::is_enabled())
        return at::silu(gate) * up;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    if (bridge::siluMulSupported(gate, up, gate)) {
        bridge::siluMulInto(gate, up, gate);
        return gate;
    }
#endif
    return at::silu_(gate).mul_(up); // same roundings as silu(g) * u
}

} // namespace

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps)
{
#if BLOCKLENS_HAVE_FUSED_RMS_NORM
    // One kernel on CUDA (fp32 statistics, one rounding at the end) instead of eight passes.
    if (x.is_cuda())
        return at::rms_norm(x, {x.size(-1)}, weight, eps);
#endif
    const at::Tensor xf = x.to(at::kFloat);
    const at::Tensor variance = xf.pow(2).mean(-1, /*keepdim=*/true);
    return weight * (xf * at::rsqrt(variance + eps)).to(x.scalar_type());
}

KvBuffer::KvBuffer(const ModelConfig& c, std::int64_t capacity, const at::TensorOptions& options)
    : k(at::empty({c.numLayers, c.numKvHeads, capacity, c.headDim}, options)),
      v(at::empty({c.numLayers, c.numKvHeads, capacity, c.headDim}, options))
{
}

std::uint64_t KvBuffer::bytesPerToken() const
{
    return 2 * static_cast<std::uint64_t>(k.size(0) * k.size(1) * k.size(3) * k.element_size());
}

Transformer::Transformer(const ModelConfig& config, Weights weights, const at::Device& device, at::ScalarType dtype)
    : config_(config), weights_(std::move(weights)), device_(device), dtype_(dtype), rope_(config.rope, config.headDim, device)
{
}

at::Tensor Transformer::forward(KvBuffer& kv, const ForwardArgs& a) const
{
    c10::NoGradGuard noGrad;
    TORCH_CHECK(a.writeAt + a.ids.size(0) <= kv.capacity(), "forward: KV buffer too small");
    TORCH_CHECK(a.blockStarts.empty() || (a.keyBegin == a.writeAt && !a.capture), "forward: blocks in one pass see only their own call's keys, uncaptured");
    at::Tensor x = at::embedding(weights_.embed, a.ids);            // [n, hidden]
    auto [cos, sin] = rope_.cosSin(a.positions, dtype_);            // [n, head_dim] each
    if (x.is_cuda())
        sin = Rope::signedSin(sin); // the GPU path rotates with Rope::applySwapped
    AttentionCache cache; // masks and workspace for every layer
    for (std::size_t i = 0; i < weights_.layers.size(); ++i) {
        x = layer(weights_.layers[i], i, x, cos, sin, &kv, a, cache);
        if (a.afterLayer)
            a.afterLayer(static_cast<std::int64_t>(i + 1));
    }
    return rmsNorm(x, weights_.norm, config_.rmsNormEps);           // [n, hidden]
}

at::Tensor Transformer::forwardTrainable(const at::Tensor& ids, const at::Tensor& positions, const std::vector<BlockAttention>& blocks) const
{
    TORCH_CHECK(ids.dim() == 1 && positions.sizes() == ids.sizes() && !blocks.empty(), "forwardTrainable: ids and positions [n], blocks");
    at::Tensor x = at::embedding(weights_.embed, ids);            // [n, hidden]
    auto [cos, sin] = rope_.cosSin(positions, dtype_);            // [n, head_dim] each
    if (x.is_cuda())
        sin = Rope::signedSin(sin);
    ForwardArgs args;
    args.blockList = &blocks;
    AttentionCache cache;
    for (std::size_t i = 0; i < weights_.layers.size(); ++i)
        x = layer(weights_.layers[i], i, x, cos, sin, nullptr, args, cache);
    return rmsNorm(x, weights_.norm, config_.rmsNormEps);         // [n, hidden]
}

Transformer::Qkv Transformer::attentionInputs(const LayerWeights& w, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                             bool withQueries) const
{
    const std::int64_t n = x.size(0), heads = config_.numHeads, kvHeads = config_.numKvHeads, d = config_.headDim;
    const double eps = config_.rmsNormEps;
    // On the GPU `sin` is Rope::signedSin's table and rotations take three kernels (applySwapped).
    const bool gpu = x.is_cuda();
    const bool split = gpu && n >= kSplitProjectionRows;
    auto rotate = [&](const at::Tensor& t) {
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        // bf16/fp16: one kernel, one rounding (not under autograd: the kernel has no backward)
        if (!c10::GradMode::is_enabled() && bridge::ropeApplySupported(t, cos, sin))
            return bridge::ropeApply(t, cos, sin);
#endif
        return gpu ? Rope::applySwapped(t, cos, sin) : Rope::apply(t, cos, sin);
    };

    // Attention
    const at::Tensor h = rmsNorm(x, w.inputNorm, eps);                       // [n, hidden]
    if (!withQueries) { // K and V alone: their rows of the fused projection, K rotated
        const std::int64_t qRows = heads * d, kvRows = 2 * kvHeads * d;
        const at::Tensor kv = at::linear(h, w.wQkv.narrow(0, qRows, kvRows), rowsOf(w.bQkv, qRows, kvRows)).view({n, 2 * kvHeads, d});
        const at::Tensor kPart = kv.narrow(1, 0, kvHeads);                   // [n, kv_heads, d]
        const at::Tensor k = rotate((config_.qkNorm ? rmsNorm(kPart, w.kNorm, eps) : kPart).transpose(0, 1)); // [kv_heads, n, d]
        return {at::Tensor(), k, kv.narrow(1, kvHeads, kvHeads).transpose(0, 1)};
    }
    at::Tensor qkPart, vPart; // [n, heads + kv_heads, d], [n, kv_heads, d]
    if (split) {
        const std::int64_t qkRows = (heads + kvHeads) * d;
        qkPart = at::linear(h, w.wQkv.narrow(0, 0, qkRows), rowsOf(w.bQkv, 0, qkRows)).view({n, heads + kvHeads, d});
        vPart = at::linear(h, w.wQkv.narrow(0, qkRows, kvHeads * d), rowsOf(w.bQkv, qkRows, kvHeads * d)).view({n, kvHeads, d});
    } else {
        const at::Tensor qkv = at::linear(h, w.wQkv, w.bQkv).view({n, heads + 2 * kvHeads, d}); // [n, heads + 2 kv_heads, d]
        qkPart = qkv.narrow(1, 0, heads + kvHeads);
        vPart = qkv.narrow(1, heads + kvHeads, kvHeads);
    }
    at::Tensor q, k;
    if (config_.qkNorm) {
        q = rotate(rmsNorm(qkPart.narrow(1, 0, heads), w.qNorm, eps).transpose(0, 1));        // [heads, n, d]
        k = rotate(rmsNorm(qkPart.narrow(1, heads, kvHeads), w.kNorm, eps).transpose(0, 1)); // [kv_heads, n, d]
    } else { // q and k rotated together
        const at::Tensor qk = rotate(qkPart.transpose(0, 1)); // [heads + kv_heads, n, d]
        q = qk.narrow(0, 0, heads);
        k = qk.narrow(0, heads, kvHeads);
    }
    return {q, k, vPart.transpose(0, 1)}; // v [kv_heads, n, d]
}

at::Tensor Transformer::layer(const LayerWeights& w, std::size_t index, const at::Tensor& x, const at::Tensor& cos,
                              const at::Tensor& sin, KvBuffer* kv, const ForwardArgs& a, AttentionCache& cache) const
{
    const std::int64_t n = x.size(0), heads = config_.numHeads, d = config_.headDim;
    const double eps = config_.rmsNormEps;

    const bool split = x.is_cuda() && n >= kSplitProjectionRows; // see kSplitProjectionRows
    const auto [q, k, v] = attentionInputs(w, x, cos, sin);
    const auto layerIndex = static_cast<std::int64_t>(index);
    at::Tensor keys = k, values = v; // [kv_heads, m, d]; without a KV buffer: the call's own tokens
    if (kv) {
        const at::Tensor layerK = kv->k.select(0, layerIndex);                 // [kv_heads, capacity, d]
        const at::Tensor layerV = kv->v.select(0, layerIndex);                 // [kv_heads, capacity, d]
        if (a.slots.defined()) { // tokens at scattered slots (layerAtSlots)
            layerK.index_copy_(1, a.slots, k);
            layerV.index_copy_(1, a.slots, v);
        } else {
            layerK.narrow(1, a.writeAt, n).copy_(k);
            layerV.narrow(1, a.writeAt, n).copy_(v);
        }
        const std::int64_t visible = a.writeAt + n - a.keyBegin;
        keys = layerK.narrow(1, a.keyBegin, visible);
        values = layerV.narrow(1, a.keyBegin, visible);
    }
    AttentionArgs args{a.writeAt, a.keyBegin, config_.slidingWindow, std::pow(static_cast<double>(d), -0.5), &cache}; // HF: head_dim**-0.5
    MassCapture capture;
    const bool capturing = a.capture && std::binary_search(a.capture->layers.begin(), a.capture->layers.end(), layerIndex);
    if (capturing) {
        capture.blockOfSlot = a.capture->blockOfSlot;
        capture.blocks = a.capture->blocks;
        capture.blockStarts = a.capture->blockStarts;
        capture.byQueryBlock = a.capture->byQueryBlock;
    }
    // The last layer of a pass whose caller needs only its last rows: every row's K/V is written
    // (above), but queries, attention, output projection and MLP run for those rows alone.
    const bool lastRowsOnly = a.outputRows > 0 && a.outputRows < n && index + 1 == weights_.layers.size() && a.blockStarts.empty()
                              && !a.blockList && !capturing;
    const std::int64_t rows = lastRowsOnly ? a.outputRows : n;
    at::Tensor attn; // [heads, rows, d]
    if (lastRowsOnly) {
        const AttentionArgs lastArgs{a.writeAt + n - rows, a.keyBegin, config_.slidingWindow, args.scale, nullptr}; // other rows: other masks
        attn = attend(q.narrow(1, n - rows, rows), keys, values, lastArgs);
    } else {
        attn = a.blockList               ? attendBlockList(q, keys, values, *a.blockList, args)
               : a.slots.defined()       ? attendAtSlots(q, keys, values, a.slots, args)
               : a.blockStarts.empty() ? attend(q, keys, values, args, capturing ? &capture : nullptr)
                                       : attendBlocks(q, keys, values, a.blockStarts, a.lastBlockGlobal, args);
    }
    if (capturing && a.mass)
        a.mass->push_back(capture.mass);                                      // [heads, n, blocks]
    const at::Tensor merged = attn.transpose(0, 1).reshape({rows, heads * d}); // [rows, q_dim]
    const at::Tensor x1 = residualLinear(lastRowsOnly ? x.narrow(0, n - rows, rows) : x, merged, w.wo, w.bo); // [rows, hidden]

    // MLP
    const at::Tensor h2 = rmsNorm(x1, w.postNorm, eps);                       // [rows, hidden]
    const std::int64_t inter = config_.intermediateSize;
    at::Tensor act; // [rows, intermediate]
    if (split && rows >= kSplitProjectionRows) {
        at::Tensor gate = at::linear(h2, w.wGateUp.narrow(0, 0, inter), rowsOf(w.bGateUp, 0, inter));    // [n, intermediate]
        const at::Tensor up = at::linear(h2, w.wGateUp.narrow(0, inter, inter), rowsOf(w.bGateUp, inter, inter));
        act = siluTimes(gate, up); // in place but under autograd: no extra buffers
    } else {
        const at::Tensor gateUp = at::linear(h2, w.wGateUp, w.bGateUp);      // [n, 2 intermediate]
        act = siluTimes(gateUp.narrow(1, 0, inter), gateUp.narrow(1, inter, inter));
    }
    return residualLinear(x1, act, w.wDown, w.bDown);                         // [rows, hidden]
}

at::Tensor Transformer::embed(const at::Tensor& ids) const
{
    return at::embedding(weights_.embed, ids); // [n, hidden]
}

at::Tensor Transformer::layerAtSlots(std::int64_t index, const at::Tensor& x, const at::Tensor& slots, KvBuffer& kv,
                                     std::int64_t outputRows) const
{
    c10::NoGradGuard noGrad;
    const std::int64_t n = slots.size(0);
    const std::int64_t end = slots[n - 1].item<std::int64_t>() + 1; // keys: slots [0, end)
    TORCH_CHECK(end <= kv.capacity() && index >= 0 && index < config_.numLayers, "layerAtSlots: slot or layer out of range");
    auto [cos, sin] = rope_.cosSin(slots, dtype_); // positions = slots
    if (x.is_cuda())
        sin = Rope::signedSin(sin);
    ForwardArgs args;
    args.writeAt = end - n; // keys [keyBegin, writeAt + n) = [0, end)
    args.keyBegin = 0;
    // Contiguous slots [end - n, end) are an ordinary causal pass written at end - n (the dense
    // path, cheaper than scattered queries: recompute-frac:1 recomputes a whole context this way).
    if (slots[0].item<std::int64_t>() != end - n)
        args.slots = slots;
    if (outputRows > 0 && outputRows < n) {
        TORCH_CHECK(index + 1 == config_.numLayers && slots[n - outputRows].item<std::int64_t>() == end - outputRows,
                    "layerAtSlots: output rows only in the last layer, for the latest consecutive slots");
        args.outputRows = outputRows; // their attention reads keys [0, end) as a plain causal pass at end - outputRows
    }
    AttentionCache cache;
    return layer(weights_.layers[static_cast<std::size_t>(index)], static_cast<std::size_t>(index), x, cos, sin, &kv, args, cache);
}

std::pair<at::Tensor, at::Tensor> Transformer::keysValues(std::int64_t index, const at::Tensor& x, const at::Tensor& positions) const
{
    c10::NoGradGuard noGrad;
    auto [cos, sin] = rope_.cosSin(positions, dtype_);
    if (x.is_cuda())
        sin = Rope::signedSin(sin);
    const Qkv kv = attentionInputs(weights_.layers[static_cast<std::size_t>(index)], x, cos, sin, /*withQueries=*/false);
    return {kv.k, kv.v};
}

at::Tensor Transformer::finalNorm(const at::Tensor& x) const { return rmsNorm(x, weights_.norm, config_.rmsNormEps); }

at::Tensor Transformer::logits(const at::Tensor& hidden) const
{
    // No NoGradGuard: the engine's weights never require grad, so nothing is recorded for them;
    // the trainer's do, and its loss needs this product's gradient.
    return at::linear(hidden, weights_.lmHead).to(at::kFloat); // [rows, vocab]
}

} // namespace blocklens::engine::detail
