// Block-attention prefill (see block_prefill.cuh).
//
// Versions (all over the work list of detail/prefill_plan.cuh, plus combineKernel for split tiles):
//   simple (Impl::simple): one warp per (head, query row), keys one at a time (warp-reduced dot
//          product), online softmax in fp32. Any even head_dim <= 256. The correctness baseline.
//   fast   (Impl::fast, default on GPUs other than compute capability 9.0, head_dim 128 with
//          16-byte aligned rows): FlashAttention-2 style, mma.sync tensor cores
//          (detail/attention_tile.cuh), one CTA per work item; tiles of 128 query rows (8 warps,
//          1 CTA per SM: registers) or 64 (4 warps, 2 per SM).
//   hopper (Impl::hopper, default on compute capability 9.0): wgmma + TMA, persistent and
//          warp-specialised (block_prefill_sm90.cu); 128-row tiles, 128-key stages.
// Bench: bench/bench_kernels.cpp; ceilings (SDPA dense causal, FlexAttention, varlen flash) from
// tools/reference/attention_ceilings.py in the same device call (tools/device/kernels.sh).
#include "block_prefill.cuh"

#include "detail/attention_tile.cuh"
#include "detail/block_prefill_sm90.cuh"
#include "detail/launch.hpp"
#include "detail/prefill_plan.cuh"
#include "detail/warp_row.cuh"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace blocklens::kernels {
namespace {

using detail::BlockStarts;
using detail::LocalTiles;
using detail::PrefillArgs;
using detail::PrefillItem;
using bf16 = __nv_bfloat16;
namespace tile = detail::tile;

// Q + 2 K + 2 V tiles: 96 KB for 128-row tiles (8 warps, 1 CTA per SM by registers), 80 KB for
// 64-row tiles (4 warps, 2 CTAs per SM).
template <int WARPS>
constexpr int smemBytes()
{
    return (WARPS * 16 + 4 * tile::kBc) * tile::kD * 2;
}

template <int WARPS>
__global__ void __launch_bounds__(WARPS * 32, 8 / WARPS)
    prefillFastKernel(const PrefillArgs a, const BlockStarts bs, const LocalTiles lt)
{
    constexpr int kBr = WARPS * 16, kThreads = WARPS * 32;
    extern __shared__ uint4 smemRaw[];
    bf16* sQ = reinterpret_cast<bf16*>(smemRaw);
    bf16* sK = sQ + kBr * tile::kD;               // 2 stages
    bf16* sV = sK + 2 * tile::kBc * tile::kD;     // 2 stages

    const PrefillItem w = detail::decodeItem(a, bs, lt, static_cast<int>(blockIdx.x));
    if (w.unused)
        return; // an unused chunk slot
    const int head = w.head, q0 = w.q0, q1 = w.q1, k0 = w.k0, k1 = w.k1, gitem = w.gitem;
    const bool partial = w.partial;
    const int n = a.n_tokens;

    const int warp = static_cast<int>(threadIdx.x) >> 5, lane = static_cast<int>(threadIdx.x) & 31;
    const int g = lane >> 2, t4 = lane & 3;
    const int kvh = head / a.group;
    const bf16* qBase = a.q + head * a.q_head_stride;
    const bf16* kBase = a.k + kvh * a.k_head_stride;
    const bf16* vBase = a.v + kvh * a.v_head_stride;

    // Prologue: {Q, K_0} then {V_0}.
    tile::loadTile<kBr, kThreads>(sQ, qBase, a.q_token_stride, q0, n);
    tile::loadTile<tile::kBc, kThreads>(sK, kBase, a.k_token_stride, k0, n);
    detail::cpAsyncCommit();
    tile::loadTile<tile::kBc, kThreads>(sV, vBase, a.v_token_stride, k0, n);
    detail::cpAsyncCommit();
    detail::cpAsyncWait<1>();
    __syncthreads();
    std::uint32_t qa[8][4];
    tile::loadQFragments(qa, sQ, warp, lane);

    float o[16][4];
#pragma unroll
    for (int dt = 0; dt < 16; ++dt)
#pragma unroll
        for (int e = 0; e < 4; ++e)
            o[dt][e] = 0.f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
    const int rowBase = q0 + warp * 16 + g; // rows rowBase and rowBase + 8
    const int nkt = (k1 - k0 + tile::kBc - 1) / tile::kBc;

    for (int j = 0; j < nkt; ++j) {
        const int kt = k0 + j * tile::kBc;
        bf16* sKcur = sK + (j & 1) * tile::kBc * tile::kD;
        bf16* sVcur = sV + (j & 1) * tile::kBc * tile::kD;
        if (j + 1 < nkt)
            tile::loadTile<tile::kBc, kThreads>(sK + ((j + 1) & 1) * tile::kBc * tile::kD, kBase, a.k_token_stride, kt + tile::kBc, n);
        detail::cpAsyncCommit();

        float s[8][4];
        tile::computeScores(s, qa, sKcur, lane);
        if (kt + tile::kBc - 1 > q0 || kt + tile::kBc > k1) { // diagonal or the range's end: mask
#pragma unroll
            for (int nt = 0; nt < 8; ++nt)
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int col = kt + nt * 8 + 2 * t4 + (e & 1);
                    const int row = rowBase + (e >> 1) * 8;
                    if (col > row || col >= k1)
                        s[nt][e] = -INFINITY;
                }
        }
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            float mx = -INFINITY;
#pragma unroll
            for (int nt = 0; nt < 8; ++nt)
                mx = fmaxf(mx, fmaxf(s[nt][2 * r], s[nt][2 * r + 1]));
            mx = tile::quadMax(mx) * a.scale_log2;
            const float mNew = fmaxf(m[r], mx);
            const float mUse = mNew == -INFINITY ? 0.f : mNew;
            const float alpha = detail::exp2Fast(m[r] - mUse);
            m[r] = mNew;
            l[r] *= alpha;
#pragma unroll
            for (int dt = 0; dt < 16; ++dt) {
                o[dt][2 * r] *= alpha;
                o[dt][2 * r + 1] *= alpha;
            }
#pragma unroll
            for (int nt = 0; nt < 8; ++nt)
#pragma unroll
                for (int e = 2 * r; e < 2 * r + 2; ++e) {
                    const float p = detail::exp2Fast(fmaf(s[nt][e], a.scale_log2, -mUse));
                    s[nt][e] = p;
                    l[r] += p;
                }
        }

        detail::cpAsyncWait<1>(); // V_j has landed (K_{j+1} may still be in flight)
        __syncthreads();
        if (j + 1 < nkt)
            tile::loadTile<tile::kBc, kThreads>(sV + ((j + 1) & 1) * tile::kBc * tile::kD, vBase, a.v_token_stride, kt + tile::kBc, n);
        detail::cpAsyncCommit();
        tile::accumulatePV(o, s, sVcur, lane);
        detail::cpAsyncWait<1>(); // K_{j+1} has landed
        __syncthreads();
    }

#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const float lTot = tile::quadSum(l[r]);
        const float inv = 1.f / lTot;
        const int row = rowBase + r * 8;
        if (row >= q1)
            continue;
        if (!partial) {
            bf16* out = a.o + head * a.o_head_stride + static_cast<std::int64_t>(row) * a.o_token_stride + 2 * t4;
#pragma unroll
            for (int dt = 0; dt < 16; ++dt)
                *reinterpret_cast<__nv_bfloat162*>(out + dt * 8) = __floats2bfloat162_rn(o[dt][2 * r] * inv, o[dt][2 * r + 1] * inv);
        } else {
            const std::size_t prow = (static_cast<std::size_t>(head) * a.n_gitems + gitem) * kBr + (row - q0);
            float* out = a.part_o + prow * tile::kD + 2 * t4;
#pragma unroll
            for (int dt = 0; dt < 16; ++dt)
                *reinterpret_cast<float2*>(out + dt * 8) = make_float2(o[dt][2 * r] * inv, o[dt][2 * r + 1] * inv);
            if (t4 == 0)
                a.part_lse[prow] = m[r] + log2f(lTot);
        }
    }
}

// One warp per (row of the last block, head) whose tile was split: merges the chunks' partials.
__global__ void __launch_bounds__(256) combineKernel(const PrefillArgs a)
{
    constexpr int kD = tile::kD;
    const std::int64_t w = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
    const int lane = static_cast<int>(threadIdx.x) & 31;
    const std::int64_t rowsLast = a.n_tokens - a.last_start;
    if (w >= rowsLast * a.n_heads)
        return;
    const int head = static_cast<int>(w % a.n_heads);
    const int r = static_cast<int>(w / a.n_heads);
    const int qt = r / a.br, rr = r % a.br;
    const int q0 = a.last_start + qt * a.br;
    const int nc = detail::chunksOfTile(a, q0);
    if (nc == 1)
        return; // written directly
    const std::size_t base = (static_cast<std::size_t>(head) * a.n_gitems + static_cast<std::size_t>(qt) * a.n_chunks) * a.br + rr;
    float mx = -INFINITY;
    for (int c = 0; c < nc; ++c)
        mx = fmaxf(mx, a.part_lse[base + static_cast<std::size_t>(c) * a.br]);
    float wsum = 0.f;
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int c = 0; c < nc; ++c) {
        const std::size_t prow = base + static_cast<std::size_t>(c) * a.br;
        const float wgt = exp2f(a.part_lse[prow] - mx);
        const float4 x = *reinterpret_cast<const float4*>(a.part_o + prow * kD + lane * 4);
        wsum += wgt;
        acc.x += wgt * x.x;
        acc.y += wgt * x.y;
        acc.z += wgt * x.z;
        acc.w += wgt * x.w;
    }
    const float inv = 1.f / wsum;
    bf16* out = a.o + head * a.o_head_stride + static_cast<std::int64_t>(a.last_start + r) * a.o_token_stride + lane * 4;
    const __nv_bfloat162 lo = __floats2bfloat162_rn(acc.x * inv, acc.y * inv);
    const __nv_bfloat162 hi = __floats2bfloat162_rn(acc.z * inv, acc.w * inv);
    uint2 packed;
    packed.x = *reinterpret_cast<const std::uint32_t*>(&lo);
    packed.y = *reinterpret_cast<const std::uint32_t*>(&hi);
    *reinterpret_cast<uint2*>(out) = packed;
}



// One warp per (head, query row); lanes split the head dim (dims lane + 32 i).
__global__ void __launch_bounds__(256) prefillSimpleKernel(const PrefillArgs a, const BlockStarts bs)
{
    constexpr int kMaxPerLane = 8; // head_dim <= 256
    const std::int64_t w = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
    const int lane = static_cast<int>(threadIdx.x) & 31;
    if (w >= static_cast<std::int64_t>(a.n_tokens) * a.n_heads)
        return;
    const int head = static_cast<int>(w % a.n_heads);
    const int row = static_cast<int>(w / a.n_heads);
    int lo = 0, hi = bs.n_blocks - 1; // block of row
    while (lo < hi) {
        const int mid = (lo + hi + 1) >> 1;
        if (bs.s[mid] <= row)
            lo = mid;
        else
            hi = mid - 1;
    }
    const int kBegin = lo == bs.n_blocks - 1 ? 0 : bs.s[lo];
    const int kvh = head / a.group;
    const bf16* qRow = a.q + head * a.q_head_stride + static_cast<std::int64_t>(row) * a.q_token_stride;
    float qv[kMaxPerLane], acc[kMaxPerLane] = {};
    detail::loadLaneDims(qRow, lane, a.head_dim, qv);
    float m = -INFINITY, l = 0.f;
    for (int j = kBegin; j <= row; ++j) {
        const bf16* kRow = a.k + kvh * a.k_head_stride + static_cast<std::int64_t>(j) * a.k_token_stride;
        const bf16* vRow = a.v + kvh * a.v_head_stride + static_cast<std::int64_t>(j) * a.v_token_stride;
        const float s = detail::warpDot(qv, kRow, lane, a.head_dim) * a.scale_log2;
        const float mNew = fmaxf(m, s);
        const float alpha = exp2f(m - mNew);
        const float p = exp2f(s - mNew);
        l = l * alpha + p;
#pragma unroll
        for (int i = 0; i < kMaxPerLane; ++i) {
            const int c = lane + 32 * i;
            acc[i] = acc[i] * alpha + (c < a.head_dim ? p * __bfloat162float(vRow[c]) : 0.f);
        }
        m = mNew;
    }
    bf16* out = a.o + head * a.o_head_stride + static_cast<std::int64_t>(row) * a.o_token_stride;
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
        const int c = lane + 32 * i;
        if (c < a.head_dim)
            out[c] = __float2bfloat16_rn(acc[i] / l);
    }
}

int smCount()
{
    int dev = 0, sms = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess || sms <= 0) {
        cudaGetLastError(); // clear
        return 132;
    }
    return sms;
}

struct GlobalPlan {
    int n_gtiles = 0;
    int n_chunks = 1;
    int chunk = 0;
    std::size_t bytes = 0; // workspace for partials (0 when no tile is split)
};

// The kernel a launch runs and the shape of its work items.
enum class Route { simple, mma, hopper };

struct Shape {
    int rows;       // query rows per tile
    int keys;       // keys per pipeline step
    int ctasPerSm;  // CTAs resident per SM
};

Shape shapeOf(Route r, int mmaRows)
{
    if (r == Route::hopper)
        return {detail::kSm90Rows, detail::kSm90Keys, 1};
    return {mmaRows, tile::kBc, mmaRows == 64 ? 2 : 1};
}

// Splits the last block's tiles along the keys only when its longest tile (all n keys) would run
// longer than a fair share of the whole launch's work per CTA slot: then into chunks of about half
// that share (at least 2048 keys). Measured on the H200 (32k tokens, 64 blocks): splitting a
// launch that is already balanced costs ~2% (partials + merge), so balanced launches are left alone.
GlobalPlan planGlobal(const BlockStarts& bs, int n, int heads, Shape shape, int forcedChunk, std::size_t available)
{
    GlobalPlan p;
    const int br = shape.rows, bc = shape.keys;
    const int lastStart = bs.s[bs.n_blocks - 1];
    p.n_gtiles = (n - lastStart + br - 1) / br;
    const int q0Max = lastStart + (p.n_gtiles - 1) * br;
    const auto roundUp = [bc](long long x) { return static_cast<int>(std::min<long long>((x + bc - 1) / bc * bc, 1 << 30)); };
    if (forcedChunk > 0) {
        p.chunk = roundUp(forcedChunk);
    } else {
        // steps = (query tile, key tile) pairs, per head
        double steps = 0;
        for (int b = 0; b + 1 < bs.n_blocks; ++b) {
            const int len = bs.s[b + 1] - bs.s[b];
            for (int t = 0; t * br < len; ++t)
                steps += (std::min((t + 1) * br, len) + bc - 1) / bc;
        }
        for (int t = 0; t < p.n_gtiles; ++t)
            steps += (std::min(lastStart + (t + 1) * br, n) + bc - 1) / bc;
        const double slots = static_cast<double>(smCount()) * shape.ctasPerSm;
        const double fair = steps * heads / slots;
        const double longest = (n + bc - 1) / bc;
        p.chunk = longest <= fair ? (1 << 30) : std::max(2048, roundUp(static_cast<long long>(fair / 2) * bc));
    }
    if (p.n_gtiles == 0) { // every block local (last_block_global = false): nothing to split
        p.n_chunks = 1;
        p.chunk = 1 << 30;
        return p;
    }
    for (;;) {
        p.n_chunks = q0Max / p.chunk + 1;
        p.bytes = p.n_chunks > 1
                      ? static_cast<std::size_t>(heads) * p.n_gtiles * p.n_chunks * br * (tile::kD + 1) * sizeof(float)
                      : 0;
        if (p.bytes <= available)
            return p;
        p.chunk = roundUp(2LL * p.chunk);
    }
}

// Measured on the H200 (bench_kernels, 2k..64k tokens, blocks of 128..2048): 64-row tiles (2 CTAs
// per SM) beat 128-row tiles (1 CTA per SM) at every shape, by 4 to 30%.
constexpr int kDefaultTileRows = 64;

// The Hopper route keeps its work counter at the start of the workspace (partials follow).
constexpr std::size_t kCounterBytes = 256;

template <int WARPS>
void launchFast(const PrefillArgs& a, const BlockStarts& bs, const LocalTiles& lt, unsigned ctas, cudaStream_t stream)
{
    detail::checkCuda(cudaFuncSetAttribute(prefillFastKernel<WARPS>, cudaFuncAttributeMaxDynamicSharedMemorySize, smemBytes<WARPS>()),
                      "block_prefill", "cudaFuncSetAttribute");
    prefillFastKernel<WARPS><<<ctas, WARPS * 32, smemBytes<WARPS>(), stream>>>(a, bs, lt);
    detail::checkLaunch("block_prefill", "prefillFastKernel");
}

struct Checked {
    BlockStarts bs;
    Route route;
    float scale;
    int mmaRows; // mma route: query rows per tile
};

// forLaunch = false (workspace and FLOP queries): the shape only, no pointers, no fast-path demand.
void validate(const BlockPrefillParams& p, Checked& c, bool forLaunch)
{
    using detail::require;
    const char* op = "block_prefill";
    if (forLaunch)
        require(p.q && p.k && p.v && p.o, op, "q, k, v and o must be set");
    require(p.n_tokens >= 1, op, "n_tokens must be >= 1");
    require(p.n_heads >= 1 && p.n_kv_heads >= 1 && p.n_heads % p.n_kv_heads == 0, op,
            "n_heads must be a positive multiple of n_kv_heads");
    require(p.head_dim >= 2 && p.head_dim <= 256 && p.head_dim % 2 == 0, op, "head_dim must be even and in 2..256");
    detail::loadBlockStarts(op, p.block_starts, p.n_blocks, p.n_tokens, c.bs);
    if (!p.last_block_global) {
        // Every block local: an empty global block [n, n) is appended, so the work list has no
        // global tiles and the real last block is planned like the others.
        require(p.n_blocks < kMaxBlocks, op,
                "with last_block_global = false n_blocks must be at most " + std::to_string(kMaxBlocks - 1));
        c.bs.s[p.n_blocks + 1] = p.n_tokens;
        c.bs.n_blocks = p.n_blocks + 1;
    }
    const bool aligned = detail::aligned16(p.q) && detail::aligned16(p.k) && detail::aligned16(p.v) && detail::aligned16(p.o)
                         && p.q_head_stride % 8 == 0 && p.q_token_stride % 8 == 0 && p.k_head_stride % 8 == 0
                         && p.k_token_stride % 8 == 0 && p.v_head_stride % 8 == 0 && p.v_token_stride % 8 == 0
                         && p.o_head_stride % 8 == 0 && p.o_token_stride % 8 == 0;
    const bool fastOk = p.head_dim == tile::kD && (aligned || !forLaunch);
    require(!forLaunch || (p.impl != Impl::fast && p.impl != Impl::hopper) || fastOk, op,
            "the tensor-core paths need head_dim 128, 16-byte aligned pointers and strides that are multiples of 8");
    require(p.tile_rows == 0 || p.tile_rows == 64 || p.tile_rows == 128, op, "tile_rows must be 0 (automatic), 64 or 128");
    const bool hopperOk = fastOk && detail::block_prefill_sm90_supported();
    require(!forLaunch || p.impl != Impl::hopper || hopperOk, op, "Impl::hopper needs a compute capability 9.0 GPU (H100/H200)");
    if (p.impl == Impl::simple || !fastOk)
        c.route = Route::simple;
    else if (p.impl == Impl::hopper || (p.impl == Impl::automatic && p.tile_rows == 0 && hopperOk))
        c.route = Route::hopper;
    else
        c.route = Route::mma;
    c.scale = p.softmax_scale > 0 ? p.softmax_scale : 1.f / std::sqrt(static_cast<float>(p.head_dim));
    c.mmaRows = p.tile_rows == 0 ? kDefaultTileRows : p.tile_rows;
}

PrefillArgs baseArgs(const BlockPrefillParams& p, float scale)
{
    PrefillArgs a{};
    a.q = static_cast<const bf16*>(p.q);
    a.k = static_cast<const bf16*>(p.k);
    a.v = static_cast<const bf16*>(p.v);
    a.o = static_cast<bf16*>(p.o);
    a.n_tokens = p.n_tokens;
    a.n_heads = p.n_heads;
    a.group = p.n_heads / p.n_kv_heads;
    a.head_dim = p.head_dim;
    a.q_head_stride = p.q_head_stride;
    a.q_token_stride = p.q_token_stride;
    a.k_head_stride = p.k_head_stride;
    a.k_token_stride = p.k_token_stride;
    a.v_head_stride = p.v_head_stride;
    a.v_token_stride = p.v_token_stride;
    a.o_head_stride = p.o_head_stride;
    a.o_token_stride = p.o_token_stride;
    a.scale_log2 = scale * 1.4426950408889634f;
    return a;
}

} // namespace

std::size_t block_prefill_workspace_bytes(const BlockPrefillParams& p)
{
    Checked c;
    validate(p, c, false);
    if (c.route == Route::simple)
        return 0;
    const std::size_t partials =
        planGlobal(c.bs, p.n_tokens, p.n_heads, shapeOf(c.route, c.mmaRows), p.global_chunk, std::numeric_limits<std::size_t>::max()).bytes;
    return c.route == Route::hopper ? kCounterBytes + partials : partials;
}

double block_prefill_flops(const BlockPrefillParams& p)
{
    Checked c;
    validate(p, c, false);
    const int nb = c.bs.n_blocks;
    double pairs = 0;
    for (int b = 0; b < nb; ++b) {
        const double len = c.bs.s[b + 1] - c.bs.s[b];
        pairs += len * (len + 1) / 2;
    }
    pairs += static_cast<double>(c.bs.s[nb] - c.bs.s[nb - 1]) * c.bs.s[nb - 1]; // last block x all earlier keys (0 when local)
    return 4.0 * p.head_dim * p.n_heads * pairs;
}

void block_prefill_cuda(const BlockPrefillParams& p, cudaStream_t stream)
{
    const char* op = "block_prefill";
    Checked c;
    validate(p, c, true);
    PrefillArgs a = baseArgs(p, c.scale);
    const int nb = c.bs.n_blocks;

    if (c.route == Route::simple) {
        const std::int64_t warps = static_cast<std::int64_t>(p.n_tokens) * p.n_heads;
        const auto blocks = static_cast<unsigned>((warps * 32 + 255) / 256);
        prefillSimpleKernel<<<blocks, 256, 0, stream>>>(a, c.bs);
        detail::checkLaunch(op, "prefillSimpleKernel");
        return;
    }

    // Hopper: the work counter first (when the workspace has room), the partials after it.
    const bool hopper = c.route == Route::hopper;
    auto* workspace = static_cast<unsigned char*>(p.workspace);
    std::size_t available = p.workspace ? p.workspace_bytes : 0;
    unsigned* counter = nullptr;
    if (hopper && available >= kCounterBytes) {
        counter = reinterpret_cast<unsigned*>(workspace);
        workspace += kCounterBytes;
        available -= kCounterBytes;
    }
    const Shape shape = shapeOf(c.route, c.mmaRows);
    a.br = shape.rows;
    a.last_start = c.bs.s[nb - 1];
    const GlobalPlan plan = planGlobal(c.bs, p.n_tokens, p.n_heads, shape, p.global_chunk, available);
    a.n_gtiles = plan.n_gtiles;
    a.n_chunks = plan.n_chunks;
    a.chunk = plan.chunk;
    a.n_gitems = plan.n_gtiles * plan.n_chunks;
    if (plan.bytes > 0) {
        a.part_o = reinterpret_cast<float*>(workspace);
        a.part_lse = a.part_o + static_cast<std::size_t>(p.n_heads) * a.n_gitems * a.br * tile::kD;
    }
    LocalTiles lt;
    int tiles = 0;
    for (int b = 0; b + 1 < nb; ++b) {
        lt.prefix[b] = tiles;
        tiles += (c.bs.s[b + 1] - c.bs.s[b] + a.br - 1) / a.br;
    }
    lt.prefix[std::max(nb - 1, 0)] = tiles;
    a.n_litems = tiles;

    const long long ctas = static_cast<long long>(a.n_gitems + a.n_litems) * p.n_heads;
    detail::require(ctas < (1LL << 31), op, "too many work items");
    if (hopper)
        detail::block_prefill_sm90(a, c.bs, lt, counter, stream);
    else if (a.br == 128)
        launchFast<8>(a, c.bs, lt, static_cast<unsigned>(ctas), stream);
    else
        launchFast<4>(a, c.bs, lt, static_cast<unsigned>(ctas), stream);
    if (plan.n_chunks > 1) {
        const std::int64_t warps = static_cast<std::int64_t>(p.n_tokens - a.last_start) * p.n_heads;
        combineKernel<<<static_cast<unsigned>((warps * 32 + 255) / 256), 256, 0, stream>>>(a);
        detail::checkLaunch(op, "combineKernel");
    }
}

} // namespace blocklens::kernels
