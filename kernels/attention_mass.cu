// Attention-mass probe (see attention_mass.cuh).
//
// Per pass over a group of heads (as many as the workspace holds):
//   1. block log-sum-exps, scratch [pass_heads, n_blocks, n] (log2 units, scaled scores):
//        simple (Impl::simple): one warp per (head, query row), keys one at a time (warp-reduced
//               dot product), an online (max, sum) per key block. Any even head_dim <= 256.
//        fast   (Impl::fast, default for head_dim 128 with 16-byte aligned rows): one CTA per
//               (128-query tile, head), S = Q K^T on tensor cores (detail/attention_tile.cuh) over
//               64-key tiles double-buffered by cp.async; per row an online (max, sum) of the
//               current key block, stored when the block ends. A tile that lies in one block and
//               below the diagonal takes the unmasked path; others are cut at block boundaries.
//   2. finalizeKernel: per (head, row) the masses exp2(lse_b - lse) over the row's visible blocks
//      (in place in the scratch), token_mass rows (zeros after the row's block).
//   3. reduceKernel: block_mass[qb][kb] = mean over the rows of block qb (deterministic order).
// Bench: bench/bench_kernels.cpp; ceiling: SDPA causal forward of the same layer,
// tools/reference/attention_ceilings.py, same device call (tools/device/kernels.sh).
#include "attention_mass.cuh"

#include "detail/attention_tile.cuh"
#include "detail/launch.hpp"
#include "detail/warp_row.cuh"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

namespace blocklens::kernels {
namespace {

using detail::BlockStarts;
using bf16 = __nv_bfloat16;
namespace tile = detail::tile;

constexpr int kMaxPassHeads = 256;

struct MassArgs {
    const bf16* q;
    const bf16* k;
    int n_tokens;
    int group;                                  // query heads per KV head
    int head_dim;                               // simple path only (fast: 128)
    std::int64_t q_head_stride, q_token_stride; // elements
    std::int64_t k_head_stride, k_token_stride;
    float scale_log2;                           // softmax_scale * log2(e)
    float* scratch;                             // [pass_heads][n_blocks][n_tokens]
    int pass_heads;
    int out_head0;                              // output head of pass head 0
    std::int32_t head_ids[kMaxPassHeads];       // query head of each pass head
};

constexpr int kFastSmemBytes = (tile::kBr + 2 * tile::kBc) * tile::kD * 2; // Q + 2 K tiles: 64 KB

__global__ void __launch_bounds__(tile::kThreads, 2) massFastKernel(const MassArgs a, const BlockStarts bs)
{
    extern __shared__ uint4 smemRaw[];
    bf16* sQ = reinterpret_cast<bf16*>(smemRaw);
    bf16* sK = sQ + tile::kBr * tile::kD; // 2 stages

    const int n = a.n_tokens, nb = bs.n_blocks;
    const int hl = static_cast<int>(blockIdx.x % static_cast<unsigned>(a.pass_heads));
    const int nQt = (n + tile::kBr - 1) / tile::kBr;
    const int qt = nQt - 1 - static_cast<int>(blockIdx.x / static_cast<unsigned>(a.pass_heads)); // longest first
    const int head = a.head_ids[hl];
    const int q0 = qt * tile::kBr;
    const int kEnd = min(q0 + tile::kBr, n); // keys [0, kEnd)

    const int warp = static_cast<int>(threadIdx.x) >> 5, lane = static_cast<int>(threadIdx.x) & 31;
    const int g = lane >> 2, t4 = lane & 3;
    const bf16* qBase = a.q + head * a.q_head_stride;
    const bf16* kBase = a.k + (head / a.group) * a.k_head_stride;
    float* out = a.scratch + static_cast<std::size_t>(hl) * nb * n;

    tile::loadTile<tile::kBr>(sQ, qBase, a.q_token_stride, q0, n);
    tile::loadTile<tile::kBc>(sK, kBase, a.k_token_stride, 0, n);
    detail::cpAsyncCommit();
    detail::cpAsyncWait<0>();
    __syncthreads();
    std::uint32_t qa[8][4];
    tile::loadQFragments(qa, sQ, warp, lane);

    const int rowBase = q0 + warp * 16 + g; // rows rowBase, rowBase + 8
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
    int cur = 0;            // current key block
    int curEnd = bs.s[1];   // its end

    // Stores the current block's log-sum-exp of both rows and starts the next block.
    auto flush = [&]() {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const float lTot = tile::quadSum(l[r]);
            const int row = rowBase + r * 8;
            if (t4 == 0 && row < n)
                out[static_cast<std::size_t>(cur) * n + row] = lTot > 0.f ? m[r] + log2f(lTot) : -INFINITY;
            m[r] = -INFINITY;
            l[r] = 0.f;
        }
        ++cur;
        curEnd = cur < nb ? bs.s[cur + 1] : INT_MAX;
    };
    // Online update of both rows with the columns [c0, c1) of the tile at kt (masked unless FULL).
    auto update = [&](const float (&s)[8][4], int kt, int c0, int c1, bool full) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const int row = rowBase + r * 8;
            float v[16];
            float mx = -INFINITY;
#pragma unroll
            for (int nt = 0; nt < 8; ++nt)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                    const int col = kt + nt * 8 + 2 * t4 + e;
                    float x = s[nt][2 * r + e];
                    if (!full && (col < c0 || col >= c1 || col > row))
                        x = -INFINITY;
                    v[nt * 2 + e] = x;
                    mx = fmaxf(mx, x);
                }
            mx = tile::quadMax(mx) * a.scale_log2;
            const float mNew = fmaxf(m[r], mx);
            if (mNew == -INFINITY)
                continue; // nothing visible yet in this block (uniform over the quad)
            const float alpha = detail::exp2Fast(m[r] - mNew);
            float sum = 0.f;
#pragma unroll
            for (int i = 0; i < 16; ++i)
                sum += detail::exp2Fast(fmaf(v[i], a.scale_log2, -mNew));
            l[r] = l[r] * alpha + sum;
            m[r] = mNew;
        }
    };

    const int nkt = (kEnd + tile::kBc - 1) / tile::kBc;
    for (int j = 0; j < nkt; ++j) {
        const int kt = j * tile::kBc;
        if (j + 1 < nkt)
            tile::loadTile<tile::kBc>(sK + ((j + 1) & 1) * tile::kBc * tile::kD, kBase, a.k_token_stride, kt + tile::kBc, n);
        detail::cpAsyncCommit();
        float s[8][4];
        tile::computeScores(s, qa, sK + (j & 1) * tile::kBc * tile::kD, lane);

        const int tileEnd = min(kt + tile::kBc, kEnd);
        if (curEnd >= kt + tile::kBc && kt + tile::kBc - 1 <= q0 && tileEnd == kt + tile::kBc) {
            update(s, kt, kt, tileEnd, true);
            if (curEnd == kt + tile::kBc)
                flush();
        } else {
            for (int c = kt; c < tileEnd;) {
                const int segEnd = min(curEnd, tileEnd);
                update(s, kt, c, segEnd, false);
                if (segEnd == curEnd)
                    flush();
                c = segEnd;
            }
        }
        detail::cpAsyncWait<0>();
        __syncthreads();
    }
    if (cur < nb && bs.s[cur] < kEnd)
        flush(); // the block that holds the tile's last keys
}

// One warp per (pass head, query row).
__global__ void __launch_bounds__(256) massSimpleKernel(const MassArgs a, const BlockStarts bs)
{
    constexpr int kMaxPerLane = 8; // head_dim <= 256
    const std::int64_t w = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
    const int lane = static_cast<int>(threadIdx.x) & 31;
    const int n = a.n_tokens, nb = bs.n_blocks;
    if (w >= static_cast<std::int64_t>(n) * a.pass_heads)
        return;
    const int hl = static_cast<int>(w % a.pass_heads);
    const int row = static_cast<int>(w / a.pass_heads);
    const int head = a.head_ids[hl];
    const bf16* qRow = a.q + head * a.q_head_stride + static_cast<std::int64_t>(row) * a.q_token_stride;
    const bf16* kHead = a.k + (head / a.group) * a.k_head_stride;
    float* out = a.scratch + static_cast<std::size_t>(hl) * nb * n + row;
    float qv[kMaxPerLane];
    detail::loadLaneDims(qRow, lane, a.head_dim, qv);
    int b = 0, bEnd = bs.s[1];
    float m = -INFINITY, l = 0.f;
    for (int j = 0; j <= row; ++j) {
        if (j == bEnd) { // block b is complete
            if (lane == 0)
                out[static_cast<std::size_t>(b) * n] = m + log2f(l);
            ++b;
            bEnd = bs.s[b + 1];
            m = -INFINITY;
            l = 0.f;
        }
        const bf16* kRow = kHead + static_cast<std::int64_t>(j) * a.k_token_stride;
        const float s = detail::warpDot(qv, kRow, lane, a.head_dim) * a.scale_log2;
        const float mNew = fmaxf(m, s);
        l = l * exp2f(m - mNew) + exp2f(s - mNew);
        m = mNew;
    }
    if (lane == 0)
        out[static_cast<std::size_t>(b) * n] = m + log2f(l);
}

// Thread per (pass head, row): block log-sum-exps -> masses (in place), token_mass row.
__global__ void __launch_bounds__(256) finalizeKernel(const MassArgs a, const BlockStarts bs, float* tokenMass)
{
    __shared__ std::int32_t starts[kMaxBlocks + 1];
    const int nb = bs.n_blocks, n = a.n_tokens;
    for (int i = static_cast<int>(threadIdx.x); i <= nb; i += blockDim.x)
        starts[i] = bs.s[i];
    __syncthreads();
    const int row = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    const int hl = static_cast<int>(blockIdx.y);
    if (row >= n)
        return;
    int lo = 0, hi = nb - 1; // block of row
    while (lo < hi) {
        const int mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= row)
            lo = mid;
        else
            hi = mid - 1;
    }
    const int qb = lo;
    float* col = a.scratch + static_cast<std::size_t>(hl) * nb * n + row; // entry b at col[b * n]
    float m = -INFINITY, l = 0.f;
    for (int b = 0; b <= qb; ++b) {
        const float x = col[static_cast<std::size_t>(b) * n];
        if (x == -INFINITY)
            continue;
        if (x > m) {
            l = l * exp2f(m - x) + 1.f;
            m = x;
        } else {
            l += exp2f(x - m);
        }
    }
    const float inv = 1.f / l;
    float* tm = tokenMass ? tokenMass + (static_cast<std::size_t>(a.out_head0 + hl) * n + row) * nb : nullptr;
    for (int b = 0; b <= qb; ++b) {
        const float x = col[static_cast<std::size_t>(b) * n];
        const float mass = x == -INFINITY ? 0.f : exp2f(x - m) * inv;
        col[static_cast<std::size_t>(b) * n] = mass;
        if (tm)
            tm[b] = mass;
    }
    if (tm)
        for (int b = qb + 1; b < nb; ++b)
            tm[b] = 0.f;
}

// CTA per (query block, pass head); warp per key block: mean of the masses over the query block's rows.
__global__ void __launch_bounds__(256) reduceKernel(const MassArgs a, const BlockStarts bs, float* blockMass)
{
    const int qb = static_cast<int>(blockIdx.x), hl = static_cast<int>(blockIdx.y);
    const int nb = bs.n_blocks, n = a.n_tokens;
    const int s0 = bs.s[qb], s1 = bs.s[qb + 1];
    const float invLen = 1.f / static_cast<float>(s1 - s0);
    const int warp = static_cast<int>(threadIdx.x) >> 5, lane = static_cast<int>(threadIdx.x) & 31;
    float* outRow = blockMass + (static_cast<std::size_t>(a.out_head0 + hl) * nb + qb) * nb;
    for (int kb = warp; kb < nb; kb += blockDim.x / 32) {
        float sum = 0.f;
        if (kb <= qb) {
            const float* col = a.scratch + (static_cast<std::size_t>(hl) * nb + kb) * n;
            for (int r = s0 + lane; r < s1; r += 32)
                sum += col[r];
#pragma unroll
            for (int off = 16; off > 0; off >>= 1)
                sum += __shfl_xor_sync(0xffffffffu, sum, off);
        }
        if (lane == 0)
            outRow[kb] = sum * invLen;
    }
}

struct Checked {
    BlockStarts bs;
    bool fast;
    float scale;
    int outHeads;
};

// forLaunch = false (workspace query): the shape only, no pointers, no fast-path demand.
void validate(const AttentionMassParams& p, Checked& c, bool forLaunch)
{
    using detail::require;
    const char* op = "attention_mass";
    if (forLaunch) {
        require(p.q && p.k, op, "q and k must be set");
        require(p.block_mass || p.token_mass, op, "at least one of block_mass and token_mass must be set");
    }
    require(p.n_tokens >= 1, op, "n_tokens must be >= 1");
    require(p.n_heads >= 1 && p.n_kv_heads >= 1 && p.n_heads % p.n_kv_heads == 0, op,
            "n_heads must be a positive multiple of n_kv_heads");
    require(p.head_dim >= 2 && p.head_dim <= 256 && p.head_dim % 2 == 0, op, "head_dim must be even and in 2..256");
    detail::loadBlockStarts(op, p.block_starts, p.n_blocks, p.n_tokens, c.bs);
    c.outHeads = p.head_ids ? p.n_out_heads : p.n_heads;
    require(c.outHeads >= 1, op, "n_out_heads must be >= 1 with head_ids");
    if (p.head_ids)
        for (int i = 0; i < c.outHeads; ++i)
            require(p.head_ids[i] >= 0 && p.head_ids[i] < p.n_heads, op, "head_ids[" + std::to_string(i) + "] out of range");
    const bool aligned = detail::aligned16(p.q) && detail::aligned16(p.k) && p.q_head_stride % 8 == 0
                         && p.q_token_stride % 8 == 0 && p.k_head_stride % 8 == 0 && p.k_token_stride % 8 == 0;
    const bool fastOk = p.head_dim == tile::kD && aligned;
    require(p.impl != Impl::hopper, op, "Impl::hopper exists for block_prefill only");
    require(!forLaunch || p.impl != Impl::fast || fastOk, op,
            "the fast path needs head_dim 128, 16-byte aligned pointers and strides that are multiples of 8");
    c.fast = p.impl != Impl::simple && fastOk;
    c.scale = p.softmax_scale > 0 ? p.softmax_scale : 1.f / std::sqrt(static_cast<float>(p.head_dim));
}

} // namespace

std::size_t attention_mass_workspace_bytes(const AttentionMassParams& p, int headsPerPass)
{
    Checked c;
    validate(p, c, false);
    const int h = headsPerPass > 0 ? std::min(headsPerPass, c.outHeads) : c.outHeads;
    return static_cast<std::size_t>(h) * p.n_blocks * p.n_tokens * sizeof(float);
}

void attention_mass_cuda(const AttentionMassParams& p, cudaStream_t stream)
{
    const char* op = "attention_mass";
    Checked c;
    validate(p, c, true);
    const std::size_t perHead = static_cast<std::size_t>(p.n_blocks) * p.n_tokens * sizeof(float);
    const std::size_t fit = p.workspace ? p.workspace_bytes / perHead : 0;
    detail::require(fit >= 1, op, "the workspace must hold at least one head: " + std::to_string(perHead) + " bytes");
    const int perPass = static_cast<int>(std::min<std::size_t>({fit, static_cast<std::size_t>(c.outHeads), kMaxPassHeads}));

    MassArgs a{};
    a.q = static_cast<const bf16*>(p.q);
    a.k = static_cast<const bf16*>(p.k);
    a.n_tokens = p.n_tokens;
    a.group = p.n_heads / p.n_kv_heads;
    a.head_dim = p.head_dim;
    a.q_head_stride = p.q_head_stride;
    a.q_token_stride = p.q_token_stride;
    a.k_head_stride = p.k_head_stride;
    a.k_token_stride = p.k_token_stride;
    a.scale_log2 = c.scale * 1.4426950408889634f;
    a.scratch = static_cast<float*>(p.workspace);
    if (c.fast)
        detail::checkCuda(cudaFuncSetAttribute(massFastKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kFastSmemBytes), op,
                          "cudaFuncSetAttribute");

    for (int first = 0; first < c.outHeads; first += perPass) {
        a.pass_heads = std::min(perPass, c.outHeads - first);
        a.out_head0 = first;
        for (int i = 0; i < a.pass_heads; ++i)
            a.head_ids[i] = p.head_ids ? p.head_ids[first + i] : first + i;
        if (c.fast) {
            const long long ctas = static_cast<long long>((p.n_tokens + tile::kBr - 1) / tile::kBr) * a.pass_heads;
            massFastKernel<<<static_cast<unsigned>(ctas), tile::kThreads, kFastSmemBytes, stream>>>(a, c.bs);
            detail::checkLaunch(op, "massFastKernel");
        } else {
            const std::int64_t warps = static_cast<std::int64_t>(p.n_tokens) * a.pass_heads;
            massSimpleKernel<<<static_cast<unsigned>((warps * 32 + 255) / 256), 256, 0, stream>>>(a, c.bs);
            detail::checkLaunch(op, "massSimpleKernel");
        }
        finalizeKernel<<<dim3(static_cast<unsigned>((p.n_tokens + 255) / 256), static_cast<unsigned>(a.pass_heads)), 256, 0, stream>>>(
            a, c.bs, p.token_mass);
        detail::checkLaunch(op, "finalizeKernel");
        if (p.block_mass) {
            reduceKernel<<<dim3(static_cast<unsigned>(p.n_blocks), static_cast<unsigned>(a.pass_heads)), 256, 0, stream>>>(
                a, c.bs, p.block_mass);
            detail::checkLaunch(op, "reduceKernel");
        }
    }
}

} // namespace blocklens::kernels
