// The bridge between the engine's tensors and the CUDA kernels of kernels/ (see
// kernels_bridge.hpp). Built only with BLOCKLENS_WITH_CUDA and a libtorch with CUDA.
#include "engine/torch/kernels_bridge.hpp"

#include "attention_mass.cuh"
#include "block_prefill.cuh"
#include "rope_apply.cuh"
#include "rope_reencode.cuh"
#include "silu_mul.cuh"

#include <c10/cuda/CUDAStream.h> // the current stream of a device

#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace blocklens::engine::detail::bridge {
namespace {

cudaStream_t currentStream(const at::Tensor& t)
{
    return c10::cuda::getCurrentCUDAStream(t.device().index()).stream();
}

void check(bool ok, const std::string& what)
{
    if (!ok)
        throw std::invalid_argument("kernels bridge: " + what);
}

// Scratch of the attention-mass probe: at most this much, so long inputs take several passes.
constexpr std::size_t kMassWorkspaceBudget = std::size_t(1) << 30;

std::atomic<std::int64_t> prefillLaunches{0};

bool aligned16(const at::Tensor& t)
{
    return reinterpret_cast<std::uintptr_t>(t.data_ptr()) % 16 == 0 && t.stride(0) % 8 == 0 && t.stride(1) % 8 == 0;
}

} // namespace

bool ropeShiftSupported(const at::Tensor& dst, const at::Tensor& src)
{
    const auto t = src.scalar_type();
    return src.is_cuda() && dst.is_cuda() && src.device() == dst.device() && (t == at::kBFloat16 || t == at::kHalf)
           && dst.scalar_type() == t && src.dim() == 4 && dst.dim() == 4 && src.size(3) % 2 == 0 && src.size(3) <= 256
           && src.stride(3) == 1 && dst.stride(3) == 1;
}

void ropeShiftInto(at::Tensor& dst, std::int64_t dstStart, const at::Tensor& src, std::int64_t delta,
                   const std::vector<float>& invFreq)
{
    check(ropeShiftSupported(dst, src), "ropeShiftInto needs CUDA bf16/fp16 4-D tensors of one device with a contiguous last dimension");
    check(src.size(0) == dst.size(0) && src.size(1) == dst.size(1) && src.size(3) == dst.size(3),
          "ropeShiftInto: src " + std::to_string(src.size(0)) + "x" + std::to_string(src.size(1)) + "x?x" + std::to_string(src.size(3)) +
              " does not match dst's layers, heads or head_dim");
    check(dstStart >= 0 && dstStart + src.size(2) <= dst.size(2), "ropeShiftInto: the block does not fit in dst");
    check(static_cast<std::int64_t>(invFreq.size()) == src.size(3) / 2, "ropeShiftInto: inv_freq must hold head_dim/2 values");
    check(dstStart <= INT32_MAX && delta <= INT32_MAX && delta >= INT32_MIN, "ropeShiftInto: offset out of range");
    if (src.size(2) == 0)
        return;
    kernels::RopeBlock block;
    block.src_start = 0;
    block.dst_start = static_cast<std::int32_t>(dstStart);
    block.length = static_cast<std::int32_t>(src.size(2));
    block.delta = static_cast<std::int32_t>(delta);
    kernels::RopeReencodeParams p;
    p.src = src.data_ptr();
    p.dst = dst.data_ptr();
    p.dtype = src.scalar_type() == at::kBFloat16 ? kernels::DType::bf16 : kernels::DType::f16;
    p.n_layers = static_cast<int>(src.size(0));
    p.n_heads = static_cast<int>(src.size(1));
    p.head_dim = static_cast<int>(src.size(3));
    p.src_layer_stride = src.stride(0);
    p.src_head_stride = src.stride(1);
    p.src_token_stride = src.stride(2);
    p.dst_layer_stride = dst.stride(0);
    p.dst_head_stride = dst.stride(1);
    p.dst_token_stride = dst.stride(2);
    p.blocks = &block;
    p.n_blocks = 1;
    p.inv_freq = invFreq.data();
    kernels::rope_reencode_cuda(p, currentStream(src));
}

bool placeBlocksSupported(const at::Tensor& kDst, const at::Tensor& vDst, const PlacedBlock& b)
{
    const auto t = kDst.scalar_type();
    const auto fits = [&](const at::Tensor& src) {
        return src.is_cuda() && src.device() == kDst.device() && src.scalar_type() == t && src.dim() == 4 && src.is_contiguous()
               && src.size(0) == kDst.size(0) && src.size(1) == kDst.size(1) && src.size(3) == kDst.size(3)
               && reinterpret_cast<std::uintptr_t>(src.data_ptr()) % 16 == 0;
    };
    return kDst.is_cuda() && vDst.device() == kDst.device() && (t == at::kBFloat16 || t == at::kHalf) && vDst.scalar_type() == t
           && kDst.dim() == 4 && kDst.sizes() == vDst.sizes() && kDst.strides() == vDst.strides() && kDst.stride(3) == 1
           && kDst.size(3) % 16 == 0 && kDst.size(3) <= 256 && kDst.stride(0) % 8 == 0 && kDst.stride(1) % 8 == 0
           && kDst.stride(2) % 8 == 0 && reinterpret_cast<std::uintptr_t>(kDst.data_ptr()) % 16 == 0
           && reinterpret_cast<std::uintptr_t>(vDst.data_ptr()) % 16 == 0 && kDst.size(2) <= INT32_MAX && fits(b.k) && fits(b.v)
           && b.k.sizes() == b.v.sizes() && b.start >= 0 && b.start + b.k.size(2) <= kDst.size(2) && b.delta >= INT32_MIN
           && b.delta <= INT32_MAX;
}

void placeBlocks(at::Tensor& kDst, at::Tensor& vDst, const std::vector<PlacedBlock>& blocks, const std::vector<float>& invFreq)
{
    std::vector<kernels::PlaceBlock> list;
    list.reserve(blocks.size());
    for (const PlacedBlock& b : blocks) {
        check(placeBlocksSupported(kDst, vDst, b), "placeBlocks needs CUDA bf16/fp16 buffers and contiguous blocks that fit them");
        kernels::PlaceBlock pb;
        pb.k = b.k.data_ptr();
        pb.v = b.v.data_ptr();
        pb.dst_start = static_cast<std::int32_t>(b.start);
        pb.length = static_cast<std::int32_t>(b.k.size(2));
        pb.delta = static_cast<std::int32_t>(b.delta);
        list.push_back(pb);
    }
    check(static_cast<std::int64_t>(invFreq.size()) == kDst.size(3) / 2, "placeBlocks: inv_freq must hold head_dim/2 values");
    if (list.empty())
        return;
    kernels::PlaceBlocksParams p;
    p.k_dst = kDst.data_ptr();
    p.v_dst = vDst.data_ptr();
    p.dtype = kDst.scalar_type() == at::kBFloat16 ? kernels::DType::bf16 : kernels::DType::f16;
    p.n_layers = static_cast<int>(kDst.size(0));
    p.n_heads = static_cast<int>(kDst.size(1));
    p.head_dim = static_cast<int>(kDst.size(3));
    p.dst_layer_stride = kDst.stride(0);
    p.dst_head_stride = kDst.stride(1);
    p.dst_token_stride = kDst.stride(2);
    p.dst_tokens = static_cast<int>(kDst.size(2));
    p.blocks = list.data();
    p.n_blocks = static_cast<int>(list.size());
    p.inv_freq = invFreq.data();
    kernels::place_blocks_cuda(p, currentStream(kDst));
}

bool ropeApplySupported(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& signedSin)
{
    const auto t = x.scalar_type();
    const auto table = [&](const at::Tensor& c) {
        return c.device() == x.device() && c.scalar_type() == t && c.dim() == 2 && c.size(0) == x.size(1) && c.size(1) == x.size(2)
               && c.is_contiguous() && reinterpret_cast<std::uintptr_t>(c.data_ptr()) % 16 == 0;
    };
    return x.is_cuda() && (t == at::kBFloat16 || t == at::kHalf) && x.dim() == 3 && x.size(2) % 16 == 0 && x.size(2) <= 256
           && x.stride(2) == 1 && aligned16(x) && x.size(0) <= INT32_MAX && x.size(1) <= INT32_MAX && table(cos) && table(signedSin);
}

at::Tensor ropeApply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& signedSin)
{
    check(ropeApplySupported(x, cos, signedSin), "ropeApply needs CUDA bf16/fp16 x [heads, n, d] (d % 16 == 0) and [n, d] tables");
    const std::int64_t heads = x.size(0), n = x.size(1), d = x.size(2);
    const at::Tensor out = at::empty({n, heads, d}, x.options()); // [n, heads, d]: the projections' own layout
    kernels::RopeApplyParams p;
    p.x = x.data_ptr();
    p.out = out.data_ptr();
    p.dtype = x.scalar_type() == at::kBFloat16 ? kernels::DType::bf16 : kernels::DType::f16;
    p.n_heads = static_cast<int>(heads);
    p.n_tokens = static_cast<int>(n);
    p.head_dim = static_cast<int>(d);
    p.x_head_stride = x.stride(0);
    p.x_token_stride = x.stride(1);
    p.out_head_stride = d;
    p.out_token_stride = heads * d;
    p.cos = cos.data_ptr();
    p.sin = signedSin.data_ptr();
    kernels::rope_apply_cuda(p, currentStream(x));
    return out.transpose(0, 1); // [heads, n, d]
}

bool siluMulSupported(const at::Tensor& gate, const at::Tensor& up, const at::Tensor& out)
{
    const auto t = gate.scalar_type();
    const auto fits = [&](const at::Tensor& a) {
        return a.device() == gate.device() && a.scalar_type() == t && a.dim() == 2 && a.sizes() == gate.sizes() && a.stride(1) == 1
               && a.stride(0) % 8 == 0 && reinterpret_cast<std::uintptr_t>(a.data_ptr()) % 16 == 0;
    };
    return gate.is_cuda() && (t == at::kBFloat16 || t == at::kHalf) && gate.dim() == 2 && gate.size(1) % 8 == 0 && fits(gate)
           && fits(up) && fits(out);
}

void siluMulInto(const at::Tensor& gate, const at::Tensor& up, at::Tensor& out)
{
    check(siluMulSupported(gate, up, out), "siluMulInto needs CUDA bf16/fp16 [rows, cols] tensors of one shape with contiguous, aligned rows");
    kernels::SiluMulParams p;
    p.gate = gate.data_ptr();
    p.up = up.data_ptr();
    p.out = out.data_ptr();
    p.dtype = gate.scalar_type() == at::kBFloat16 ? kernels::DType::bf16 : kernels::DType::f16;
    p.rows = gate.size(0);
    p.cols = gate.size(1);
    p.gate_row_stride = gate.stride(0);
    p.up_row_stride = up.stride(0);
    p.out_row_stride = out.stride(0);
    kernels::silu_mul_cuda(p, currentStream(gate));
}

bool attentionMassSupported(const at::Tensor& q, const at::Tensor& k, std::int64_t blocks)
{
    return q.is_cuda() && k.device() == q.device() && q.scalar_type() == at::kBFloat16 && k.scalar_type() == at::kBFloat16
           && q.dim() == 3 && k.dim() == 3 && q.size(2) == 128 && k.size(2) == 128 && q.size(1) == k.size(1)
           && q.size(0) % k.size(0) == 0 && q.stride(2) == 1 && k.stride(2) == 1 && blocks >= 1 && blocks <= kernels::kMaxBlocks
           && q.size(1) <= INT32_MAX;
}

at::Tensor attentionMass(const at::Tensor& q, const at::Tensor& k, const std::vector<std::int32_t>& blockStarts, double scale)
{
    const auto blocks = static_cast<std::int64_t>(blockStarts.size()) - 1;
    check(attentionMassSupported(q, k, blocks), "attentionMass needs CUDA bf16 q [heads, n, 128] and k [kv_heads, n, 128]");
    const std::int64_t heads = q.size(0), n = q.size(1);
    kernels::AttentionMassParams p;
    p.q = q.data_ptr();
    p.k = k.data_ptr();
    p.n_tokens = static_cast<int>(n);
    p.n_heads = static_cast<int>(heads);
    p.n_kv_heads = static_cast<int>(k.size(0));
    p.head_dim = 128;
    p.q_head_stride = q.stride(0);
    p.q_token_stride = q.stride(1);
    p.k_head_stride = k.stride(0);
    p.k_token_stride = k.stride(1);
    p.softmax_scale = static_cast<float>(scale);
    p.block_starts = blockStarts.data();
    p.n_blocks = static_cast<int>(blocks);
    const at::Tensor mass = at::empty({heads, n, blocks}, q.options().dtype(at::kFloat)); // [heads, n, blocks]
    p.token_mass = mass.data_ptr<float>();
    // As many heads per pass as the budget holds (at least one).
    const std::size_t perHead = kernels::attention_mass_workspace_bytes(p, 1);
    const int perPass = static_cast<int>(std::clamp<std::size_t>(kMassWorkspaceBudget / std::max<std::size_t>(perHead, 1), 1,
                                                                  static_cast<std::size_t>(heads)));
    const std::size_t bytes = kernels::attention_mass_workspace_bytes(p, perPass);
    const at::Tensor workspace = at::empty({static_cast<std::int64_t>(bytes)}, q.options().dtype(at::kByte));
    p.workspace = workspace.data_ptr();
    p.workspace_bytes = bytes;
    kernels::attention_mass_cuda(p, currentStream(q));
    return mass;
}

bool blockPrefillSupported(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, std::int64_t blocks, bool lastBlockGlobal)
{
    const auto bf16 = [](const at::Tensor& t) { return t.scalar_type() == at::kBFloat16 && t.dim() == 3 && t.size(2) == 128 && t.stride(2) == 1; };
    return q.is_cuda() && k.device() == q.device() && v.device() == q.device() && bf16(q) && bf16(k) && bf16(v)
           && k.sizes() == v.sizes() && q.size(1) == k.size(1) && q.size(0) % k.size(0) == 0 && q.size(1) >= 1
           && q.size(1) <= INT32_MAX && aligned16(q) && aligned16(k) && aligned16(v) && blocks >= 1
           && blocks <= (lastBlockGlobal ? kernels::kMaxBlocks : kernels::kMaxBlocks - 1);
}

at::Tensor blockPrefill(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::vector<std::int32_t>& blockStarts,
                        bool lastBlockGlobal, double scale)
{
    const auto blocks = static_cast<std::int64_t>(blockStarts.size()) - 1;
    check(blockPrefillSupported(q, k, v, blocks, lastBlockGlobal),
          "blockPrefill needs CUDA bf16 q [heads, n, 128] and k, v [kv_heads, n, 128] with 16-byte aligned rows");
    const std::int64_t heads = q.size(0), n = q.size(1), d = q.size(2);
    check(blockStarts.front() == 0 && blockStarts.back() == n, "blockPrefill: block starts must run from 0 to n");
    const at::Tensor o = at::empty({n, heads, d}, q.options()); // [n, heads, d]: the layout the heads are merged in
    kernels::BlockPrefillParams p;
    p.q = q.data_ptr();
    p.k = k.data_ptr();
    p.v = v.data_ptr();
    p.o = o.data_ptr();
    p.n_tokens = static_cast<int>(n);
    p.n_heads = static_cast<int>(heads);
    p.n_kv_heads = static_cast<int>(k.size(0));
    p.head_dim = static_cast<int>(d);
    p.q_head_stride = q.stride(0);
    p.q_token_stride = q.stride(1);
    p.k_head_stride = k.stride(0);
    p.k_token_stride = k.stride(1);
    p.v_head_stride = v.stride(0);
    p.v_token_stride = v.stride(1);
    p.o_head_stride = d;
    p.o_token_stride = heads * d;
    p.softmax_scale = static_cast<float>(scale);
    p.block_starts = blockStarts.data();
    p.n_blocks = static_cast<int>(blocks);
    p.last_block_global = lastBlockGlobal;
    // The work counter and the last block's split partials; the caching allocator makes this free.
    const std::size_t bytes = kernels::block_prefill_workspace_bytes(p);
    at::Tensor workspace;
    if (bytes > 0) {
        workspace = at::empty({static_cast<std::int64_t>(bytes)}, q.options().dtype(at::kByte));
        p.workspace = workspace.data_ptr();
        p.workspace_bytes = bytes;
    }
    kernels::block_prefill_cuda(p, currentStream(q));
    prefillLaunches.fetch_add(1, std::memory_order_relaxed);
    return o.transpose(0, 1); // [heads, n, d]
}

std::int64_t blockPrefillLaunches() { return prefillLaunches.load(std::memory_order_relaxed); }

DeviceMark::DeviceMark(const at::Device& device)
{
    cudaEvent_t e = nullptr;
    if (cudaEventCreate(&e) != cudaSuccess)
        throw std::runtime_error("kernels bridge: cudaEventCreate failed");
    event_ = e;
    cudaEventRecord(e, c10::cuda::getCurrentCUDAStream(device.index()).stream());
}

DeviceMark::~DeviceMark()
{
    if (event_)
        cudaEventDestroy(static_cast<cudaEvent_t>(event_));
}

double DeviceMark::msSince(const DeviceMark& earlier) const
{
    cudaEventSynchronize(static_cast<cudaEvent_t>(event_));
    float ms = 0;
    if (cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(earlier.event_), static_cast<cudaEvent_t>(event_)) != cudaSuccess)
        return 0;
    return ms;
}

} // namespace blocklens::engine::detail::bridge
