#pragma once
// The decoder forward pass (Llama / Mistral / Qwen2 / Qwen3 as Hugging Face computes them):
//
//   x = embed(ids)
//   per layer:  h = rmsnorm(x);  q, k, v = h Wq (+bq), h Wk (+bk), h Wv (+bv)
//               [qwen3: q, k = rmsnorm_per_head(q), rmsnorm_per_head(k)];  q, k = rope(q, k)
//               x = x + attention(q, K, V) Wo (+bo)      (K, V: the KvBuffer slots visible)
//               x = x + down(silu(gate(rmsnorm(x))) * up(rmsnorm(x)))
//   hidden = rmsnorm(x);  logits = hidden lm_head^T
//
// RMSNorm in fp32, cast back, then times the weight (HF's LlamaRMSNorm).
//
// Keys and values live in a KvBuffer: [layers, kv_heads, capacity, head_dim], one slot per token
// of the sequence. A forward call writes its n tokens' K/V into slots
// [writeAt, writeAt + n) and lets them attend to slots [keyBegin, writeAt + n) under the causal
// (and sliding-window) rule. With keyBegin = writeAt a block sees only itself; with keyBegin = 0
// the tokens see everything before them.
#include "engine/model_config.hpp"
#include "engine/torch/attention.hpp"
#include "engine/torch/common.hpp"
#include "engine/torch/rope.hpp"
#include "engine/torch/weights.hpp"

#include <functional>
#include <vector>

namespace blocklens::engine::detail {

struct KvBuffer {
    at::Tensor k; // [layers, kv_heads, capacity, head_dim]
    at::Tensor v; // [layers, kv_heads, capacity, head_dim]

    KvBuffer() = default;
    KvBuffer(const ModelConfig& config, std::int64_t capacity, const at::TensorOptions& options);
    std::int64_t capacity() const { return k.defined() ? k.size(2) : 0; }
    std::uint64_t bytesPerToken() const;
};

// Attention mass per key block for some layers (see MassCapture).
struct CaptureRequest {
    std::vector<std::int64_t> layers; // ascending
    at::Tensor blockOfSlot;           // [slots] int64 on the device
    std::vector<std::int64_t> blockStarts; // the same blocks' first slots, on the host
    std::int64_t blocks = 0;
    bool byQueryBlock = false; // mass rows summed per query block (see MassCapture)
};

struct ForwardArgs {
    at::Tensor ids;            // [n] int64, on the model's device
    at::Tensor positions;      // [n] int64, RoPE positions
    std::int64_t writeAt = 0;  // slot of the first new token
    std::int64_t keyBegin = 0; // first slot the new tokens may attend to
    const CaptureRequest* capture = nullptr;
    std::vector<at::Tensor>* mass = nullptr; // out: one [heads, n, blocks] per captured layer ([heads, blocks, blocks] sums byQueryBlock)
    // Called after each layer with the number of layers done: progress and cancel (may throw)
    // inside one long forward pass. May be empty.
    std::function<void(std::int64_t layersDone)> afterLayer;
    // Non-empty: many blocks in one pass (attendBlocks). Block starts relative to the first new
    // token, ascending from 0; each block attends causally to itself only, the last one (with
    // lastBlockGlobal) to every token of the call. Needs keyBegin == writeAt and no capture.
    std::vector<std::int64_t> blockStarts;
    bool lastBlockGlobal = true;
    // > 0: the last layer computes only the last `outputRows` rows past its K/V (their queries,
    // attention, output projection and MLP), and forward() returns just those rows: for a prefill
    // whose caller needs the last position's logits alone. Ignored with blockStarts or a capture;
    // with slots (layerAtSlots) the last outputRows slots must be consecutive and the latest.
    std::int64_t outputRows = 0;
    // Defined (repairs, recompute.hpp): the new tokens sit at these slots, ascending but not
    // necessarily contiguous, instead of [writeAt, writeAt + n); each attends to every slot up to
    // its own (causal and window rule). Used through layerAtSlots only.
    at::Tensor slots; // [n] int64 on the device
    // Non-null (forwardTrainable only): each block's own key range and sink, see attendBlockList.
    const std::vector<BlockAttention>* blockList = nullptr;
};

class Transformer {
public:
    Transformer(const ModelConfig& config, Weights weights, const at::Device& device, at::ScalarType dtype);

    // -> hidden [n, hidden] (or the last args.outputRows rows) after the final norm, in the compute
    // dtype. Writes K/V of all n tokens into `kv`.
    at::Tensor forward(KvBuffer& kv, const ForwardArgs& args) const;
    // The same pass for training (core/learn/lm): no KV buffer (the keys are the call's own tokens),
    // autograd as the caller has it (the weights may be leaf tensors that require grad), and no
    // route that is not differentiable (no kernels bridge). ids, positions [n] int64; `blocks`
    // (attendBlockList) say what each block attends to, so one call can hold many training windows
    // side by side, each under full attention (one block whose keys start at the window) or the
    // `block` mode (blocks alone, the window's last block over the whole window).
    // -> hidden [n, hidden] after the final norm.
    at::Tensor forwardTrainable(const at::Tensor& ids, const at::Tensor& positions, const std::vector<BlockAttention>& blocks) const;
    // hidden [rows, hidden] -> logits [rows, vocab] float32 (differentiable when the weights are).
    at::Tensor logits(const at::Tensor& hidden) const;

    // Layer by layer, for the repairs that compute some tokens again (recompute.hpp):
    at::Tensor embed(const at::Tensor& ids) const; // [n] int64 -> x [n, hidden]
    // Layer `index` for tokens at `slots` [n] (ascending; their RoPE positions): x [n, hidden] is
    // the layer's input; writes their K/V into those slots of `kv`, attends each to every slot up
    // to its own; -> the layer's output [n, hidden].
    // outputRows > 0 (the last layer only): every row's K/V is written, the rest of the layer runs
    // for the last outputRows rows alone (consecutive slots ending the list), which it returns.
    at::Tensor layerAtSlots(std::int64_t index, const at::Tensor& x, const at::Tensor& slots, KvBuffer& kv,
                            std::int64_t outputRows = 0) const;
    // The K and V [kv_heads, n, head_dim] layer `index` would write for input x at `positions`
    // (their projections alone: 2 x hidden x 2 kv_dim FLOPs per row).
    std::pair<at::Tensor, at::Tensor> keysValues(std::int64_t index, const at::Tensor& x, const at::Tensor& positions) const;
    at::Tensor finalNorm(const at::Tensor& x) const; // [n, hidden] -> after the final RMSNorm

    const ModelConfig& config() const { return config_; }
    const Weights& weights() const { return weights_; }
    const Rope& rope() const { return rope_; }
    const at::Device& device() const { return device_; }
    at::ScalarType dtype() const { return dtype_; }
    at::TensorOptions options() const { return at::TensorOptions().dtype(dtype_).device(device_); }

private:
    struct Qkv {
        at::Tensor q; // [heads, n, d], RoPE applied
        at::Tensor k; // [kv_heads, n, d], RoPE applied
        at::Tensor v; // [kv_heads, n, d]
    };
    // The attention block's inputs: norm, q/k/v projections, [qk norm], RoPE. Without queries: k
    // and v alone (q is neither projected nor rotated, and left undefined).
    Qkv attentionInputs(const LayerWeights& w, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                        bool withQueries = true) const;
    at::Tensor layer(const LayerWeights& w, std::size_t index, const at::Tensor& x, const at::Tensor& cos,
                     const at::Tensor& sin, KvBuffer* kv, const ForwardArgs& args, AttentionCache& cache) const;

    ModelConfig config_;
    Weights weights_;
    at::Device device_;
    at::ScalarType dtype_;
    Rope rope_;
};

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);

} // namespace blocklens::engine::detail
