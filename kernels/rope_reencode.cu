// RoPE re-encoding of cached keys (see rope_reencode.cuh).
//
// Versions:
//   simple (Impl::simple): one element pair (i, i + head_dim/2) per thread and step, 2-byte
//          accesses. Any even head_dim, any alignment.
//   fast   (Impl::fast, the default when allowed): 8 pairs per thread and step as two 16-byte
//          loads and two 16-byte stores (first and second half of the row), four steps' loads
//          issued before the first store, streaming cache hints. head_dim % 16 == 0, 16-byte
//          aligned rows.
// Each CTA takes up to 32 tokens of one block and one layer; it computes the block's cos/sin
// table (angles delta * inv_freq[i] in fp64, then fp32) in shared memory once, then streams all
// heads of those tokens. Memory-bound: bytes = 2 x rows x head_dim x 2 (one read, one write).
// Bench: bench/bench_kernels.cpp (rope rows), against a device-to-device copy in the same run.
#include "rope_reencode.cuh"

#include "detail/device.cuh"
#include "detail/vec16.cuh"
#include "detail/launch.hpp"

#include <algorithm>
#include <string>

namespace blocklens::kernels {
namespace {

constexpr int kBatch = 256;       // blocks per launch (they travel by value)
constexpr int kThreads = 256;
constexpr int kTokensPerCta = 32;
constexpr int kUnroll = 4;        // steps whose loads are in flight together

struct RopeArgs {
    const void* src;
    void* dst;
    int n_heads;
    int head_dim;
    std::int64_t src_layer_stride, src_head_stride, src_token_stride; // elements
    std::int64_t dst_layer_stride, dst_head_stride, dst_token_stride; // elements
    float inv_freq[128];                                              // [head_dim/2]
};

struct RopeBatch {
    int n;                                  // blocks in this batch
    std::int32_t src_start[kBatch];
    std::int32_t dst_start[kBatch];
    std::int32_t length[kBatch];
    std::int32_t delta[kBatch];
    std::int32_t cta_prefix[kBatch + 1];    // first CTA of each block; [n] = total CTAs
};

template <typename T, int VEC>
struct Access;

template <typename T>
struct Access<T, 8> { // 16 bytes
    using Raw = uint4;
    static __device__ __forceinline__ Raw load(const T* p) { return __ldcs(reinterpret_cast<const uint4*>(p)); }
    static __device__ __forceinline__ void store(T* p, Raw v) { __stcs(reinterpret_cast<uint4*>(p), v); }
    static __device__ __forceinline__ void unpack(Raw r, float (&f)[8]) { detail::unpack8<T>(r, f); }
    static __device__ __forceinline__ Raw pack(const float (&f)[8]) { return detail::pack8<T>(f); }
};

template <typename T>
struct Access<T, 1> {
    using Raw = T;
    static __device__ __forceinline__ Raw load(const T* p) { return *p; }
    static __device__ __forceinline__ void store(T* p, Raw v) { *p = v; }
    static __device__ __forceinline__ void unpack(Raw r, float (&f)[1]) { f[0] = static_cast<float>(r); }
    static __device__ __forceinline__ Raw pack(const float (&f)[1]) { return T(f[0]); }
};

// The tokens of this CTA: its batch entry (the largest b with cta_prefix[b] <= blockIdx.x; each
// block has ceil(length / kTokensPerCta) CTAs), the first of its tokens in that block, and how many.
struct CtaTokens {
    int block, first, count;
};

template <typename Batch>
__device__ __forceinline__ CtaTokens ctaTokens(const Batch& batch)
{
    const int cta = static_cast<int>(blockIdx.x);
    int hi = batch.n - 1, lo = 0;
    while (lo < hi) {
        const int mid = (lo + hi + 1) >> 1;
        if (batch.cta_prefix[mid] <= cta)
            lo = mid;
        else
            hi = mid - 1;
    }
    const int first = (cta - batch.cta_prefix[lo]) * kTokensPerCta;
    return {lo, first, min(kTokensPerCta, batch.length[lo] - first)};
}

// The CTAs a block of `length` tokens takes (ctaTokens' inverse).
inline int ctasOf(int length) { return (length + kTokensPerCta - 1) / kTokensPerCta; }

// The block's rotation table in shared memory: cos and sin of delta * inv_freq[i] for i < half,
// in fp64, rounded to fp32 once. Every thread of the CTA takes part; the caller syncs.
__device__ __forceinline__ void fillRotationTable(float* sCos, float* sSin, const float* invFreq, int half, int delta)
{
    for (int i = threadIdx.x; i < half; i += kThreads) {
        double s, c;
        sincos(static_cast<double>(delta) * static_cast<double>(invFreq[i]), &s, &c);
        sCos[i] = static_cast<float>(c);
        sSin[i] = static_cast<float>(s);
    }
}

// One work item of a CTA (its heads x tokens x `vecs` accesses per half row, access index fastest):
// head h, token t, first column of the access.
struct WorkItem {
    int h, t, col;
};

template <int VEC>
__device__ __forceinline__ WorkItem workItem(int w, int vecs, int nt)
{
    const int v = w % vecs;
    const int r = w / vecs;
    const int t = r % nt;
    return {r / nt, t, v * VEC};
}

// VEC element pairs (x1[e], x2[e]) = (row[col + e], row[col + e + half]) rotated by the table's
// angles at col + e: o1 = x1 cos - x2 sin, o2 = x2 cos + x1 sin.
template <int VEC>
__device__ __forceinline__ void rotatePairs(const float* sCos, const float* sSin, int col, const float (&x1)[VEC],
                                            const float (&x2)[VEC], float (&o1)[VEC], float (&o2)[VEC])
{
#pragma unroll
    for (int e = 0; e < VEC; ++e) {
        const float c = sCos[col + e], s = sSin[col + e];
        o1[e] = fmaf(x1[e], c, -x2[e] * s);
        o2[e] = fmaf(x2[e], c, x1[e] * s);
    }
}

// grid: x = CTAs of the batch's blocks (cta_prefix), y = layer.
template <typename T, int VEC>
__global__ void __launch_bounds__(kThreads) ropeReencodeKernel(const RopeArgs a, const RopeBatch batch)
{
    using A = Access<T, VEC>;
    __shared__ float sCos[128];
    __shared__ float sSin[128];

    const CtaTokens tokens = ctaTokens(batch);
    const int b = tokens.block;
    const int t0 = tokens.first;
    const int nt = tokens.count;
    const int half = a.head_dim >> 1;

    fillRotationTable(sCos, sSin, a.inv_freq, half, batch.delta[b]);
    __syncthreads();

    const int vecs = half / VEC; // accesses per half row
    const int work = a.n_heads * nt * vecs;
    const std::int64_t layer = blockIdx.y;
    const T* src = static_cast<const T*>(a.src) + layer * a.src_layer_stride
                   + static_cast<std::int64_t>(batch.src_start[b] + t0) * a.src_token_stride;
    T* dst = static_cast<T*>(a.dst) + layer * a.dst_layer_stride
             + static_cast<std::int64_t>(batch.dst_start[b] + t0) * a.dst_token_stride;

    for (int base = threadIdx.x; base < work; base += kUnroll * kThreads) {
        typename A::Raw x1[kUnroll], x2[kUnroll];
        std::int64_t so[kUnroll], dOff[kUnroll];
        int col[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int w = base + u * kThreads;
            if (w < work) {
                const WorkItem item = workItem<VEC>(w, vecs, nt);
                col[u] = item.col;
                so[u] = item.h * a.src_head_stride + item.t * a.src_token_stride + col[u];
                dOff[u] = item.h * a.dst_head_stride + item.t * a.dst_token_stride + col[u];
                x1[u] = A::load(src + so[u]);
                x2[u] = A::load(src + so[u] + half);
            }
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int w = base + u * kThreads;
            if (w < work) {
                float f1[VEC], f2[VEC], o1[VEC], o2[VEC];
                A::unpack(x1[u], f1);
                A::unpack(x2[u], f2);
                rotatePairs(sCos, sSin, col[u], f1, f2, o1, o2);
                A::store(dst + dOff[u], A::pack(o1));
                A::store(dst + dOff[u] + half, A::pack(o2));
            }
        }
    }
}

template <typename T, int VEC>
void launchAll(const RopeReencodeParams& p, const RopeArgs& args, cudaStream_t stream)
{
    RopeBatch batch;
    for (int first = 0; first < p.n_blocks; first += kBatch) {
        batch.n = std::min(kBatch, p.n_blocks - first);
        int ctas = 0;
        for (int i = 0; i < batch.n; ++i) {
            const RopeBlock& blk = p.blocks[first + i];
            batch.src_start[i] = blk.src_start;
            batch.dst_start[i] = blk.dst_start;
            batch.length[i] = blk.length;
            batch.delta[i] = blk.delta;
            batch.cta_prefix[i] = ctas;
            ctas += ctasOf(blk.length);
        }
        batch.cta_prefix[batch.n] = ctas;
        if (ctas == 0)
            continue;
        ropeReencodeKernel<T, VEC><<<dim3(static_cast<unsigned>(ctas), static_cast<unsigned>(p.n_layers)), kThreads, 0, stream>>>(args, batch);
        detail::checkLaunch("rope_reencode", "ropeReencodeKernel");
    }
}

} // namespace

void rope_reencode_cuda(const RopeReencodeParams& p, cudaStream_t stream)
{
    using detail::require;
    const char* op = "rope_reencode";
    require(p.src != nullptr && p.dst != nullptr, op, "src and dst must be set");
    require(p.n_layers >= 1 && p.n_layers <= 65535, op, "n_layers must be in 1..65535");
    require(p.n_heads >= 1, op, "n_heads must be >= 1");
    require(p.head_dim >= 2 && p.head_dim <= 256 && p.head_dim % 2 == 0, op,
            "head_dim must be even and in 2..256, got " + std::to_string(p.head_dim));
    require(p.inv_freq != nullptr, op, "inv_freq (host, head_dim/2 values) must be set");
    require(p.n_blocks >= 0 && (p.n_blocks == 0 || p.blocks != nullptr), op, "blocks (host) must be set");
    const bool inPlace = p.src == p.dst;
    if (inPlace)
        require(p.src_layer_stride == p.dst_layer_stride && p.src_head_stride == p.dst_head_stride
                    && p.src_token_stride == p.dst_token_stride,
                op, "in place (src == dst) needs equal src and dst strides");
    for (int i = 0; i < p.n_blocks; ++i) {
        const RopeBlock& b = p.blocks[i];
        require(b.length >= 0 && b.src_start >= 0 && b.dst_start >= 0, op,
                "block " + std::to_string(i) + " has a negative start or length");
        if (inPlace)
            require(b.src_start == b.dst_start, op, "in place (src == dst) needs src_start == dst_start (block " + std::to_string(i) + ")");
    }

    RopeArgs args{};
    args.src = p.src;
    args.dst = p.dst;
    args.n_heads = p.n_heads;
    args.head_dim = p.head_dim;
    args.src_layer_stride = p.src_layer_stride;
    args.src_head_stride = p.src_head_stride;
    args.src_token_stride = p.src_token_stride;
    args.dst_layer_stride = p.dst_layer_stride;
    args.dst_head_stride = p.dst_head_stride;
    args.dst_token_stride = p.dst_token_stride;
    for (int i = 0; i < p.head_dim / 2; ++i)
        args.inv_freq[i] = p.inv_freq[i];

    const bool vectorOk = p.head_dim % 16 == 0 && detail::aligned16(p.src) && detail::aligned16(p.dst)
                          && p.src_layer_stride % 8 == 0 && p.src_head_stride % 8 == 0 && p.src_token_stride % 8 == 0
                          && p.dst_layer_stride % 8 == 0 && p.dst_head_stride % 8 == 0 && p.dst_token_stride % 8 == 0;
    require(p.impl != Impl::hopper, op, "Impl::hopper exists for block_prefill only");
    require(p.impl != Impl::fast || vectorOk, op,
            "the fast path needs head_dim % 16 == 0, 16-byte aligned pointers and strides that are multiples of 8");
    const bool vec = p.impl != Impl::simple && vectorOk;
    if (p.dtype == DType::bf16) {
        if (vec)
            launchAll<__nv_bfloat16, 8>(p, args, stream);
        else
            launchAll<__nv_bfloat16, 1>(p, args, stream);
    } else {
        if (vec)
            launchAll<__half, 8>(p, args, stream);
        else
            launchAll<__half, 1>(p, args, stream);
    }
}

namespace {

constexpr int kPlaceBatch = 64; // blocks per launch of place_blocks (they travel by value: ~2.6 KB)

struct PlaceArgs {
    void* k_dst;
    void* v_dst;
    int n_heads;
    int head_dim;
    std::int64_t dst_layer_stride, dst_head_stride, dst_token_stride; // elements
    float inv_freq[128];                                              // [head_dim/2]
};

struct PlaceBatch {
    int n;
    const void* k[kPlaceBatch];
    const void* v[kPlaceBatch];
    std::int32_t dst_start[kPlaceBatch];
    std::int32_t length[kPlaceBatch];
    std::int32_t delta[kPlaceBatch];
    std::int32_t cta_prefix[kPlaceBatch + 1]; // first CTA of each block; [n] = total CTAs
};

// grid: x = CTAs of the batch's blocks (cta_prefix, kTokensPerCta tokens each), y = layer. Each
// CTA rotates the keys and copies the values of its tokens, all heads: one read and one write of
// every byte, 16-byte streaming accesses, kUnroll steps' loads in flight.
template <typename T>
__global__ void __launch_bounds__(kThreads) placeBlocksKernel(const PlaceArgs a, const PlaceBatch batch)
{
    using A = Access<T, 8>;
    __shared__ float sCos[128];
    __shared__ float sSin[128];

    const CtaTokens tokens = ctaTokens(batch);
    const int b = tokens.block;
    const int len = batch.length[b];
    const int t0 = tokens.first;
    const int nt = tokens.count;
    const int half = a.head_dim >> 1;

    fillRotationTable(sCos, sSin, a.inv_freq, half, batch.delta[b]);
    __syncthreads();

    const int vecs = half / 8;
    const int work = a.n_heads * nt * vecs;
    const std::int64_t layer = blockIdx.y;
    const std::int64_t srcHead = static_cast<std::int64_t>(len) * a.head_dim; // contiguous sources
    const std::int64_t src0 = layer * a.n_heads * srcHead + static_cast<std::int64_t>(t0) * a.head_dim;
    const T* ks = static_cast<const T*>(batch.k[b]) + src0;
    const T* vs = static_cast<const T*>(batch.v[b]) + src0;
    const std::int64_t dst0 = layer * a.dst_layer_stride + static_cast<std::int64_t>(batch.dst_start[b] + t0) * a.dst_token_stride;
    T* kd = static_cast<T*>(a.k_dst) + dst0;
    T* vd = static_cast<T*>(a.v_dst) + dst0;

    for (int base = threadIdx.x; base < work; base += kUnroll * kThreads) {
        uint4 k1[kUnroll], k2[kUnroll], v1[kUnroll], v2[kUnroll];
        std::int64_t dOff[kUnroll];
        int col[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int w = base + u * kThreads;
            if (w < work) {
                const WorkItem item = workItem<8>(w, vecs, nt);
                col[u] = item.col;
                const std::int64_t so = item.h * srcHead + static_cast<std::int64_t>(item.t) * a.head_dim + col[u];
                dOff[u] = item.h * a.dst_head_stride + item.t * a.dst_token_stride + col[u];
                k1[u] = A::load(ks + so);
                k2[u] = A::load(ks + so + half);
                v1[u] = A::load(vs + so);
                v2[u] = A::load(vs + so + half);
            }
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int w = base + u * kThreads;
            if (w < work) {
                float f1[8], f2[8], o1[8], o2[8];
                A::unpack(k1[u], f1);
                A::unpack(k2[u], f2);
                rotatePairs(sCos, sSin, col[u], f1, f2, o1, o2);
                A::store(kd + dOff[u], A::pack(o1));
                A::store(kd + dOff[u] + half, A::pack(o2));
                A::store(vd + dOff[u], v1[u]);
                A::store(vd + dOff[u] + half, v2[u]);
            }
        }
    }
}

template <typename T>
void launchPlace(const PlaceBlocksParams& p, const PlaceArgs& args, cudaStream_t stream)
{
    PlaceBatch batch;
    for (int first = 0; first < p.n_blocks; first += kPlaceBatch) {
        batch.n = 0;
        int ctas = 0;
        for (int i = first; i < std::min(first + kPlaceBatch, p.n_blocks); ++i) {
            const PlaceBlock& blk = p.blocks[i];
            if (blk.length == 0)
                continue;
            const int j = batch.n++;
            batch.k[j] = blk.k;
            batch.v[j] = blk.v;
            batch.dst_start[j] = blk.dst_start;
            batch.length[j] = blk.length;
            batch.delta[j] = blk.delta;
            batch.cta_prefix[j] = ctas;
            ctas += ctasOf(blk.length);
        }
        batch.cta_prefix[batch.n] = ctas;
        if (ctas == 0)
            continue;
        placeBlocksKernel<T><<<dim3(static_cast<unsigned>(ctas), static_cast<unsigned>(p.n_layers)), kThreads, 0, stream>>>(args, batch);
        detail::checkLaunch("place_blocks", "placeBlocksKernel");
    }
}

} // namespace

void place_blocks_cuda(const PlaceBlocksParams& p, cudaStream_t stream)
{
    using detail::aligned16;
    using detail::require;
    const char* op = "place_blocks";
    require(p.k_dst != nullptr && p.v_dst != nullptr && p.k_dst != p.v_dst, op, "k_dst and v_dst must be set and distinct");
    require(p.n_layers >= 1 && p.n_layers <= 65535, op, "n_layers must be in 1..65535");
    require(p.n_heads >= 1, op, "n_heads must be >= 1");
    require(p.head_dim >= 16 && p.head_dim <= 256 && p.head_dim % 16 == 0, op,
            "head_dim must be a multiple of 16 in 16..256, got " + std::to_string(p.head_dim));
    require(aligned16(p.k_dst) && aligned16(p.v_dst) && p.dst_layer_stride % 8 == 0 && p.dst_head_stride % 8 == 0
                && p.dst_token_stride % 8 == 0,
            op, "the destinations need 16-byte aligned pointers and strides that are multiples of 8");
    require(p.inv_freq != nullptr, op, "inv_freq (host, head_dim/2 values) must be set");
    require(p.n_blocks >= 0 && (p.n_blocks == 0 || p.blocks != nullptr), op, "blocks (host) must be set");
    for (int i = 0; i < p.n_blocks; ++i) {
        const PlaceBlock& b = p.blocks[i];
        const std::string which = "block " + std::to_string(i);
        require(b.length >= 0 && b.dst_start >= 0 && static_cast<std::int64_t>(b.dst_start) + b.length <= p.dst_tokens, op,
                which + " does not fit in the destinations' " + std::to_string(p.dst_tokens) + " token rows");
        require(b.length == 0 || (b.k != nullptr && b.v != nullptr && aligned16(b.k) && aligned16(b.v)), op,
                which + " needs 16-byte aligned k and v sources");
    }
    PlaceArgs args{};
    args.k_dst = p.k_dst;
    args.v_dst = p.v_dst;
    args.n_heads = p.n_heads;
    args.head_dim = p.head_dim;
    args.dst_layer_stride = p.dst_layer_stride;
    args.dst_head_stride = p.dst_head_stride;
    args.dst_token_stride = p.dst_token_stride;
    for (int i = 0; i < p.head_dim / 2; ++i)
        args.inv_freq[i] = p.inv_freq[i];
    if (p.dtype == DType::bf16)
        launchPlace<__nv_bfloat16>(p, args, stream);
    else
        launchPlace<__half>(p, args, stream);
}

} // namespace blocklens::kernels
