#include "engine/torch/transformer.hpp"
#include <c10/core/GradMode.h> // c10::NoGradGuard: the same in libtorch 1.13 and 2.x

#include "engine/torch/attention.hpp"

#include <algorithm>
#include <cmath>

namespace blocklens::engine::detail {

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps)
{
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
    at::Tensor x = at::embedding(weights_.embed, a.ids);            // [n, hidden]
    const auto [cos, sin] = rope_.cosSin(a.positions, dtype_);      // [n, head_dim] each
    MaskCache masks; // the same for every layer
    for (std::size_t i = 0; i < weights_.layers.size(); ++i)
        x = layer(weights_.layers[i], i, x, cos, sin, kv, a, masks);
    return rmsNorm(x, weights_.norm, config_.rmsNormEps);           // [n, hidden]
}

at::Tensor Transformer::layer(const LayerWeights& w, std::size_t index, const at::Tensor& x, const at::Tensor& cos,
                              const at::Tensor& sin, KvBuffer& kv, const ForwardArgs& a, MaskCache& masks) const
{
    const std::int64_t n = x.size(0), heads = config_.numHeads, kvHeads = config_.numKvHeads, d = config_.headDim;
    const double eps = config_.rmsNormEps;

    // Attention
    const at::Tensor h = rmsNorm(x, w.inputNorm, eps);                       // [n, hidden]
    const at::Tensor qkv = at::linear(h, w.wQkv, w.bQkv).view({n, heads + 2 * kvHeads, d}); // [n, heads + 2 kv_heads, d]
    at::Tensor q, k;
    if (config_.qkNorm) {
        q = Rope::apply(rmsNorm(qkv.narrow(1, 0, heads), w.qNorm, eps).transpose(0, 1), cos, sin);        // [heads, n, d]
        k = Rope::apply(rmsNorm(qkv.narrow(1, heads, kvHeads), w.kNorm, eps).transpose(0, 1), cos, sin); // [kv_heads, n, d]
    } else { // q and k rotated together
        const at::Tensor qk = Rope::apply(qkv.narrow(1, 0, heads + kvHeads).transpose(0, 1), cos, sin); // [heads + kv_heads, n, d]
        q = qk.narrow(0, 0, heads);
        k = qk.narrow(0, heads, kvHeads);
    }
    const at::Tensor v = qkv.narrow(1, heads + kvHeads, kvHeads).transpose(0, 1); // [kv_heads, n, d]
    const auto layerIndex = static_cast<std::int64_t>(index);
    const at::Tensor layerK = kv.k.select(0, layerIndex);                      // [kv_heads, capacity, d]
    const at::Tensor layerV = kv.v.select(0, layerIndex);                      // [kv_heads, capacity, d]
    layerK.narrow(1, a.writeAt, n).copy_(k);
    layerV.narrow(1, a.writeAt, n).copy_(v);
    const std::int64_t visible = a.writeAt + n - a.keyBegin;
    const at::Tensor keys = layerK.narrow(1, a.keyBegin, visible);             // [kv_heads, m, d]
    const at::Tensor values = layerV.narrow(1, a.keyBegin, visible);           // [kv_heads, m, d]
    AttentionArgs args{a.writeAt, a.keyBegin, config_.slidingWindow, std::pow(static_cast<double>(d), -0.5), &masks}; // HF: head_dim**-0.5
    MassCapture capture;
    const bool capturing = a.capture && std::binary_search(a.capture->layers.begin(), a.capture->layers.end(), layerIndex);
    if (capturing) {
        capture.blockOfSlot = a.capture->blockOfSlot;
        capture.blocks = a.capture->blocks;
    }
    const at::Tensor attn = attend(q, keys, values, args, capturing ? &capture : nullptr); // [heads, n, d]
    if (capturing && a.mass)
        a.mass->push_back(capture.mass);                                      // [heads, n, blocks]
    const at::Tensor merged = attn.transpose(0, 1).reshape({n, heads * d});   // [n, q_dim]
    const at::Tensor x1 = x + at::linear(merged, w.wo, w.bo);                 // [n, hidden]

    // MLP
    const at::Tensor h2 = rmsNorm(x1, w.postNorm, eps);                       // [n, hidden]
    const at::Tensor gateUp = at::linear(h2, w.wGateUp, w.bGateUp);          // [n, 2 intermediate]
    const std::int64_t inter = config_.intermediateSize;
    const at::Tensor act = at::silu(gateUp.narrow(1, 0, inter)) * gateUp.narrow(1, inter, inter); // [n, intermediate]
    return x1 + at::linear(act, w.wDown, w.bDown);                            // [n, hidden]
}

at::Tensor Transformer::logits(const at::Tensor& hidden) const
{
    c10::NoGradGuard noGrad;
    return at::linear(hidden, weights_.lmHead).to(at::kFloat); // [rows, vocab]
}

} // namespace blocklens::engine::detail
