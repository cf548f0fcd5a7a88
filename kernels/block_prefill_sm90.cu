// Block-attention prefill on Hopper (sm_90a): the work list of detail/prefill_plan.cuh run by a
// persistent, warp-specialised FlashAttention kernel on wgmma and TMA.
//
// One CTA per SM, 384 threads:
//   warp 8 (producer; warps 9-11 idle, their registers given to the consumers by setmaxnreg):
//          takes work items (an atomic counter, fetched one item ahead: longest first, whoever is
//          free next) and streams each item's Q tile (128 rows) and K and V tiles (128 keys) into
//          shared memory with TMA, 128-byte swizzled; rings of 2 Q slots, 2 K and 2 V stages, each
//          slot guarded by a "full" mbarrier (TMA bytes landed) and an "empty" one (the consumers
//          are done with it). The producer runs ahead across items, so the next item's Q and
//          first tiles load while the current item finishes.
//   warps 0-7 (two consumer warpgroups, 64 query rows each), per item of n key tiles, in n "MMA
//          phases". Phase j > 0 issues S_j = Q K_j^T (wgmma, both operands in shared memory) and
//          O += P_{j-1} V_{j-1} (wgmma, P from registers: the S accumulator layout is the A-operand
//          layout); the mask and online softmax of S_j run while that P V still executes, then O is
//          rescaled and P packed (FlashAttention-3's intra-warpgroup overlap). Phase 0 issues S_0 with the
//          previous item's last P V and waits for both; the previous O is staged in its Q slot and
//          written by one TMA store per warpgroup before the new item's first softmax. So an item
//          costs no extra phase of its own, which matters for blocks of a few hundred tokens.
//          The two warpgroups take turns to issue their phases (named barriers, "ping-pong"), so
//          one's softmax runs while the other's MMAs keep the tensor cores busy.
// Shared memory: 2 Q slots + 2 K stages + 2 V stages of 32 KB = 192 KB, plus barriers.
#include "detail/block_prefill_sm90.cuh"

#include "detail/attention_tile.cuh" // quadMax, quadSum
#include "detail/sm90.cuh"

#include <cudaTypedefs.h> // PFN_cuTensorMapEncodeTiled

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <string>

#if defined(__CUDA_ARCH__) && !defined(__CUDA_ARCH_FEAT_SM90_ALL)
#error "block_prefill_sm90.cu must be compiled for sm_90a only (wgmma)"
#endif

namespace blocklens::kernels::detail {
namespace {

constexpr int kD = 128;                       // head dim
constexpr int kRows = kSm90Rows;              // query rows per item
constexpr int kKeys = kSm90Keys;              // keys per K/V stage
constexpr int kConsumerWarps = 8;             // two warpgroups of 64 rows
// + a producer warpgroup: one warp of it works, but register reallocation (setmaxnreg) moves
// registers between whole warpgroups (ptxas budgets 384 threads either way).
constexpr int kThreads = kConsumerWarps * 32 + 128;
constexpr int kProducerRegisters = 24;
constexpr int kConsumerRegisters = 240;       // 128 * 24 + 256 * 240 <= 65536
constexpr int kAtomBytes = 128 * 128;         // one 64-column atom of a 128-row tile
constexpr int kTileBytes = 2 * kAtomBytes;    // a 128 x 128 bf16 tile
constexpr int kBarrierBytes = 128;           // 12 mbarriers + 2 work indices
constexpr int kSmemBytes = 6 * kTileBytes + kBarrierBytes + 1024; // + alignment slack

static_assert(kRows == 128 && kKeys == 128, "tile shapes are fixed by the wgmma shape m64n128k16");

struct Shared {
    std::uint32_t base; // 1024-aligned shared address of the tiles
    std::uint64_t* bars;
    volatile int* items; // [2]: the work index in each Q slot, -1 = no more work

    __device__ std::uint32_t q(int slot) const { return base + slot * kTileBytes; }
    __device__ std::uint32_t k(int stage) const { return base + (2 + stage) * kTileBytes; }
    __device__ std::uint32_t v(int stage) const { return base + (4 + stage) * kTileBytes; }
    __device__ std::uint32_t qFull(int slot) const { return smemAddr(bars + slot); }
    __device__ std::uint32_t qEmpty(int slot) const { return smemAddr(bars + 2 + slot); }
    __device__ std::uint32_t kFull(int stage) const { return smemAddr(bars + 4 + stage); }
    __device__ std::uint32_t kEmpty(int stage) const { return smemAddr(bars + 6 + stage); }
    __device__ std::uint32_t vFull(int stage) const { return smemAddr(bars + 8 + stage); }
    __device__ std::uint32_t vEmpty(int stage) const { return smemAddr(bars + 10 + stage); }
};

// Which outer dimension of a tensor map comes first (see makeTensorMap).
struct MapOrder {
    bool qHeadsInner;
    bool kHeadsInner;
    bool vHeadsInner;
    bool oHeadsInner;
};

// Loads rows [row0, row0 + 128) x 128 dims of (head) as two swizzled column atoms.
__device__ __forceinline__ void loadTile(std::uint32_t dst, const CUtensorMap* map, std::uint32_t bar, int row0, int head, bool headsInner)
{
    const int c1 = headsInner ? head : row0, c2 = headsInner ? row0 : head;
    sm90::tmaLoad3d(dst, map, bar, 0, c1, c2);
    sm90::tmaLoad3d(dst + kAtomBytes, map, bar, 64, c1, c2);
}

template <class Starts, class Tiles>
__device__ void produce(const Shared& sh, const CUtensorMap* tmQ, const CUtensorMap* tmK, const CUtensorMap* tmV,
                        const PrefillArgs& a, const Starts& bs, const Tiles& lt, MapOrder order, unsigned* counter, int total)
{
    sm90::prefetchTensorMap(tmQ);
    sm90::prefetchTensorMap(tmK);
    sm90::prefetchTensorMap(tmV);
    int stage = 0;
    std::uint32_t phase = 0;
    int next = static_cast<int>(blockIdx.x);
    // The next work index is fetched one item ahead: the atomic's round trip (~1 us) then overlaps
    // with the current item's loads instead of stalling the pipeline between short items.
    const auto fetch = [&] {
        const int work = counter ? static_cast<int>(atomicAdd(counter, 1u)) : next;
        next += static_cast<int>(gridDim.x);
        return work;
    };
    int ahead = fetch();
    for (int it = 0;; ++it) {
        // the next item with work (unused chunk slots are skipped here, so consumers never see them)
        int work;
        PrefillItem w;
        for (;;) {
            work = ahead;
            if (work < total)
                ahead = fetch();
            if (work >= total)
                break;
            w = decodeItem(a, bs, lt, work);
            if (!w.unused)
                break;
        }
        const int slot = it & 1;
        sm90::mbarWait(sh.qEmpty(slot), ((it >> 1) & 1) ^ 1);
        if (work >= total) {
            sh.items[slot] = -1;
            sm90::mbarArrive(sh.qFull(slot));
            return;
        }
        sh.items[slot] = work;
        sm90::mbarArriveExpectTx(sh.qFull(slot), kTileBytes);
        loadTile(sh.q(slot), tmQ, sh.qFull(slot), w.q0, w.head, order.qHeadsInner);
        const int kvHead = w.head / a.group;
        for (int kt = w.k0; kt < w.k1; kt += kKeys) {
            sm90::mbarWait(sh.kEmpty(stage), phase ^ 1);
            sm90::mbarArriveExpectTx(sh.kFull(stage), kTileBytes);
            loadTile(sh.k(stage), tmK, sh.kFull(stage), kt, kvHead, order.kHeadsInner);
            sm90::mbarWait(sh.vEmpty(stage), phase ^ 1);
            sm90::mbarArriveExpectTx(sh.vFull(stage), kTileBytes);
            loadTile(sh.v(stage), tmV, sh.vFull(stage), kt, kvHead, order.vHeadsInner);
            if (++stage == 2) {
                stage = 0;
                phase ^= 1;
            }
        }
    }
}

// Online softmax of one S tile (keys kt..kt+127) for this thread's rows row0 and row0 + 8: masks
// keys past the diagonal and past k1, updates the running max m and sum l, leaves the
// probabilities in S (fp32, packed into P by packP) and in alpha the factor O must be rescaled by
// (both applied by the caller once the previous P V has finished). Reductions run as independent
// chains: this code is latency-bound (one warp per scheduler runs it while the tensor cores wait).
__device__ __forceinline__ void softmaxTile(float (&s)[64], float (&m)[2], float (&l)[2], float (&alpha)[2], int kt, int q0, int k1,
                                            int row0, int t4, float scaleLog2)
{
    if (kt + kKeys - 1 > q0 || kt + kKeys > k1) { // the diagonal or the range's end
#pragma unroll
        for (int jj = 0; jj < 16; ++jj)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int col = kt + jj * 8 + 2 * t4 + (e & 1);
                const int row = row0 + (e >> 1) * 8;
                if (col > row || col >= k1)
                    s[4 * jj + e] = -INFINITY;
            }
    }
    float mUse[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        float t[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}; // 4 independent chains
#pragma unroll
        for (int jj = 0; jj < 16; ++jj)
            t[jj & 3] = fmaxf(t[jj & 3], fmaxf(s[4 * jj + 2 * r], s[4 * jj + 2 * r + 1]));
        const float mx = tile::quadMax(fmaxf(fmaxf(t[0], t[1]), fmaxf(t[2], t[3]))) * scaleLog2;
        const float mNew = fmaxf(m[r], mx);
        mUse[r] = mNew == -INFINITY ? 0.f : mNew;
        alpha[r] = exp2Fast(m[r] - mUse[r]);
        m[r] = mNew;
    }
    float sum[2][2] = {{0.f, 0.f}, {0.f, 0.f}};
#pragma unroll
    for (int jj = 0; jj < 16; ++jj) {
#pragma unroll
        for (int e = 0; e < 4; ++e)
            s[4 * jj + e] = exp2Fast(fmaf(s[4 * jj + e], scaleLog2, -mUse[e >> 1]));
        sum[0][jj & 1] += s[4 * jj + 0] + s[4 * jj + 1];
        sum[1][jj & 1] += s[4 * jj + 2] + s[4 * jj + 3];
    }
#pragma unroll
    for (int r = 0; r < 2; ++r)
        l[r] = fmaf(l[r], alpha[r], sum[r][0] + sum[r][1]);
}

// P (bf16) from the probabilities in S, in the A-operand layout of the P V step: keys 16 kk ..
// 16 kk + 15 are S column groups 2 kk and 2 kk + 1. Done once the previous P V has finished
// reading P, so one set of P registers suffices.
__device__ __forceinline__ void packP(const float (&s)[64], std::uint32_t (&p)[8][4])
{
#pragma unroll
    for (int kk = 0; kk < 8; ++kk) {
        p[kk][0] = packBf16(s[8 * kk + 0], s[8 * kk + 1]);
        p[kk][1] = packBf16(s[8 * kk + 2], s[8 * kk + 3]);
        p[kk][2] = packBf16(s[8 * kk + 4], s[8 * kk + 5]);
        p[kk][3] = packBf16(s[8 * kk + 6], s[8 * kk + 7]);
    }
}

// O *= alpha per row; skipped when no row max of the warp moved (alpha = 1 everywhere), which is
// most tiles of a long key range.
__device__ __forceinline__ void rescaleO(float (&o)[64], const float (&alpha)[2])
{
    if (!__any_sync(0xffffffffu, alpha[0] != 1.f || alpha[1] != 1.f))
        return;
#pragma unroll
    for (int jj = 0; jj < 16; ++jj) {
        o[4 * jj + 0] *= alpha[0];
        o[4 * jj + 1] *= alpha[0];
        o[4 * jj + 2] *= alpha[1];
        o[4 * jj + 3] *= alpha[1];
    }
}

// Named barriers (0 is __syncthreads) through which the two consumer warpgroups take turns, and
// one per warpgroup for its output store.
constexpr int kTurnBarrier0 = 1;
constexpr int kGroupBarrier0 = 3;
constexpr int kConsumerThreads = kConsumerWarps * 32;

__device__ __forceinline__ void waitTurn(int wg)
{
    asm volatile("bar.sync %0, %1;\n" ::"r"(kTurnBarrier0 + wg), "n"(kConsumerThreads) : "memory");
}
__device__ __forceinline__ void passTurn(int wg)
{
    asm volatile("bar.arrive %0, %1;\n" ::"r"(kTurnBarrier0 + (wg ^ 1)), "n"(kConsumerThreads) : "memory");
}

// S = Q K^T: 8 steps of 16 dims; dims 64.. live in the second column atom.
__device__ __forceinline__ void issueScores(float (&s)[64], std::uint32_t qRows, std::uint32_t kTile)
{
#pragma unroll
    for (int kk = 0; kk < 8; ++kk) {
        const std::uint32_t off = (kk >> 2) * kAtomBytes + (kk & 3) * 32;
        const std::uint64_t descQ = sm90::descSw128(qRows + off, 16, 1024), descK = sm90::descSw128(kTile + off, 16, 1024);
        if (kk == 0)
            sm90::wgmmaSSFirst(s, descQ, descK);
        else
            sm90::wgmmaSS(s, descQ, descK, 1);
    }
}

// O += P V: 8 steps of 16 keys.
__device__ __forceinline__ void issuePV(float (&o)[64], const std::uint32_t (&p)[8][4], std::uint32_t vTile)
{
#pragma unroll
    for (int kk = 0; kk < 8; ++kk)
        sm90::wgmmaRS(o, p[kk], sm90::descSw128(vTile + kk * 16 * 128, kAtomBytes, 1024), 1);
}

// The issue-and-wait part of one MMA phase, straight-line code for each case (a wgmma issued under
// a run-time condition makes ptxas serialize the whole pipeline):
//   WAIT_ALL = false: S_j and the P V in two groups, returns once S_j is done (P V may run on);
//   WAIT_ALL = true:  one group (PV may be absent), returns once everything is done.
template <bool WITH_PV, bool WAIT_ALL>
__device__ __forceinline__ void mmaPhase(float (&s)[64], float (&o)[64], const std::uint32_t (&p)[8][4], std::uint32_t qRows,
                                         std::uint32_t kTile, std::uint32_t vTile, int wg)
{
    waitTurn(wg);
    sm90::wgmmaFence();
    issueScores(s, qRows, kTile);
    if constexpr (WAIT_ALL) {
        if constexpr (WITH_PV)
            issuePV(o, p, vTile);
        sm90::wgmmaCommit();
        passTurn(wg);
        sm90::wgmmaWait<0>();
        sm90::fenceRegisters(s);
        sm90::fenceRegisters(o);
    } else {
        sm90::wgmmaCommit();
        issuePV(o, p, vTile);
        sm90::wgmmaCommit();
        passTurn(wg);
        sm90::wgmmaWait<1>(); // S_j done; the P V may still run
        sm90::fenceRegisters(s);
    }
}


// Writes this thread's two rows of O / l and frees the item's Q slot (one arrival per warpgroup),
// or, for a TMA store, returns true: the caller frees the slot (releaseStagedSlot) once the store
// has read it. (Freeing it later, after the next softmax, was measured slower: the producer then
// loads the next-but-one Q too late for one-tile items.)
// Whole 64-row groups of bf16 output go through shared memory (the item's Q slot, no longer read:
// conflict-free 4-byte stores in the Q tile's swizzled layout) and one TMA store per warpgroup;
// ragged groups are stored from registers (rows past the block's end belong to other items), and
// split tiles of the last block write fp32 partials and log2-sum-exps for combineKernel.
struct OutputMap {
    const CUtensorMap* map; // bf16 O, boxes of 64 dims x 64 rows x 1 head
    bool headsInner;
};

__device__ __forceinline__ bool finishItem(const Shared& sh, const OutputMap& om, int slot, const PrefillArgs& a, const PrefillItem& w,
                                           const float (&o)[64], const float (&m)[2], const float (&l)[2], int wg, int wq, int lane)
{
    const int g = lane >> 2, t4 = lane & 3;
    const int rowInTile = wg * 64 + wq * 16 + g; // rows rowInTile and rowInTile + 8 of the tile
    float inv[2];
#pragma unroll
    for (int r = 0; r < 2; ++r)
        inv[r] = 1.f / tile::quadSum(l[r]);
    const bool viaTma = !w.partial && w.q0 + wg * 64 + 64 <= w.q1; // the same for the whole warpgroup
    if (viaTma) {
        const std::uint32_t base = sh.q(slot);
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const int row = rowInTile + 8 * r; // swizzle phase: row % 8 = g
#pragma unroll
            for (int jj = 0; jj < 16; ++jj) {
                const std::uint32_t addr = base + (jj >> 3) * kAtomBytes + row * 128 + (((jj & 7) ^ g) << 4) + t4 * 4;
                sm90::storeShared32(addr, packBf16(o[4 * jj + 2 * r] * inv[r], o[4 * jj + 2 * r + 1] * inv[r]));
            }
        }
        sm90::fenceProxyAsync();
        asm volatile("bar.sync %0, 128;\n" ::"r"(kGroupBarrier0 + wg) : "memory");
        if (wq == 0 && lane == 0) {
            const int row0 = w.q0 + wg * 64;
            const int c1 = om.headsInner ? w.head : row0, c2 = om.headsInner ? row0 : w.head;
            sm90::tmaStore3d(om.map, base + wg * 64 * 128, 0, c1, c2);
            sm90::tmaStore3d(om.map, base + kAtomBytes + wg * 64 * 128, 64, c1, c2);
            sm90::bulkCommit();
        }
        return true;
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const int row = w.q0 + rowInTile + r * 8;
        if (row >= w.q1)
            continue;
        if (!w.partial) {
            bf16* out = a.o + w.head * a.o_head_stride + static_cast<std::int64_t>(row) * a.o_token_stride + 2 * t4;
#pragma unroll
            for (int jj = 0; jj < 16; ++jj)
                *reinterpret_cast<__nv_bfloat162*>(out + jj * 8) =
                    __floats2bfloat162_rn(o[4 * jj + 2 * r] * inv[r], o[4 * jj + 2 * r + 1] * inv[r]);
        } else {
            const std::size_t prow = (static_cast<std::size_t>(w.head) * a.n_gitems + w.gitem) * kRows + (row - w.q0);
            float* out = a.part_o + prow * kD + 2 * t4;
#pragma unroll
            for (int jj = 0; jj < 16; ++jj)
                *reinterpret_cast<float2*>(out + jj * 8) = make_float2(o[4 * jj + 2 * r] * inv[r], o[4 * jj + 2 * r + 1] * inv[r]);
            if (t4 == 0)
                a.part_lse[prow] = m[r] - log2f(inv[r]); // m + log2(l)
        }
    }
    if (wq == 0 && lane == 0)
        sm90::mbarArrive(sh.qEmpty(slot));
    return false;
}

// The fields of a work item that storing its output needs (PrefillItem has 7 registers' worth;
// decoding the item again at the store costs a binary search on the critical path).
struct PackedItem {
    int q0;
    int gitem;
    unsigned headRowsPartial; // head << 9 | (q1 - q0) << 1 | partial   (q1 - q0 <= 128)

    __device__ static PackedItem pack(const PrefillItem& w)
    {
        return {w.q0, w.gitem, static_cast<unsigned>(w.head) << 9 | static_cast<unsigned>(w.q1 - w.q0) << 1 | (w.partial ? 1u : 0u)};
    }
    __device__ PrefillItem unpack() const
    {
        PrefillItem w{};
        w.head = static_cast<int>(headRowsPartial >> 9);
        w.q0 = q0;
        w.q1 = q0 + static_cast<int>((headRowsPartial >> 1) & 255u);
        w.gitem = gitem;
        w.partial = (headRowsPartial & 1u) != 0;
        return w;
    }
};

// Frees a Q slot whose staged output a TMA store of this warpgroup is reading (or has read).
__device__ __forceinline__ void releaseStagedSlot(const Shared& sh, int slot, int wq, int lane)
{
    if (wq == 0 && lane == 0) {
        sm90::bulkWaitAll<true>();
        sm90::mbarArrive(sh.qEmpty(slot));
    }
}

// The MMA phases run as one stream across items: an item of n key tiles has n phases; phase j
// issues S_j and then the P V of the tile before it, which for j = 0 is the previous item's last
// tile. Within an item only S_j is waited for before its softmax, so the softmax overlaps the
// warpgroup's own P V (O is rescaled once that has finished; P is double-buffered in registers).
// At j = 0 both are waited for: the previous item's O is stored before the new item's softmax.
// So short items (blocks of a few hundred tokens: 1-4 tiles) cost no extra phase of their own.
template <class Starts, class Tiles>
__device__ void consume(const Shared& sh, const CUtensorMap* tmO, bool oHeadsInner, const PrefillArgs& a, const Starts& bs,
                        const Tiles& lt, int warp, int lane)
{
    const OutputMap om{tmO, oHeadsInner};
    const int wg = warp >> 2, wq = warp & 3, g = lane >> 2, t4 = lane & 3;
    const int rowInTile = wg * 64 + wq * 16 + g; // this thread's rows: q0 + rowInTile and + 8
    float s[64], o[64];
    std::uint32_t p[8][4]; // P of the last softmaxed tile (its P V is issued in the next phase)
#pragma unroll
    for (int i = 0; i < 64; ++i) {
        s[i] = 0.f;
        o[i] = 0.f; // finite: a new item's first softmax zeroes O by rescaling it with 0
    }
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f}, alpha[2];
    int stage = 0;
    std::uint32_t phase = 0;
    int prevStage = 0;          // the K/V stage of the last softmaxed tile (its V is still to be used)
    std::uint32_t prevPhase = 0;
    bool pending = false;       // the previous item's last P V is not issued yet
    PackedItem prev{};          // the previous item (what storing its output needs, in 3 registers: they are tight)
    int prevSlot = 0;           // the previous item's Q slot (its O is staged there)
    if (wg == 1)
        passTurn(wg); // warpgroup 0 issues first
    for (int it = 0;; ++it) {
        const int slot = it & 1;
        sm90::mbarWait(sh.qFull(slot), (it >> 1) & 1);
        const int work = sh.items[slot];
        if (work < 0) {
            if (pending) { // the last item's last P V
                sm90::mbarWait(sh.vFull(prevStage), prevPhase);
                waitTurn(wg);
                sm90::wgmmaFence();
                issuePV(o, p, sh.v(prevStage));
                sm90::wgmmaCommit();
                passTurn(wg);
                sm90::wgmmaWait<0>();
                sm90::fenceRegisters(o);
                if (lane == 0)
                    sm90::mbarArrive(sh.vEmpty(prevStage));
                if (finishItem(sh, om, prevSlot, a, prev.unpack(), o, m, l, wg, wq, lane))
                    releaseStagedSlot(sh, prevSlot, wq, lane);
            }
            if (wq == 0 && lane == 0)
                sm90::bulkWaitAll<false>(); // this warpgroup's output stores have landed
            return;
        }
        const PrefillItem w = decodeItem(a, bs, lt, work);
        const std::uint32_t qRows = sh.q(slot) + wg * 64 * 128;
        const int nkt = (w.k1 - w.k0 + kKeys - 1) / kKeys;

        for (int j = 0; j < nkt; ++j) {
            const bool values = j > 0 || pending;
            sm90::mbarWait(sh.kFull(stage), phase);
            if (values)
                sm90::mbarWait(sh.vFull(prevStage), prevPhase);
            const std::uint32_t kTile = sh.k(stage), vTile = sh.v(prevStage);
            if (j > 0) {
                // S_j, then the P V of the tile before; the softmax of S_j runs while that P V
                // still executes
                mmaPhase<true, false>(s, o, p, qRows, kTile, vTile, wg);
                if (lane == 0)
                    sm90::mbarArrive(sh.kEmpty(stage));
                softmaxTile(s, m, l, alpha, w.k0 + j * kKeys, w.q0, w.k1, w.q0 + rowInTile, t4, a.scale_log2);
                sm90::wgmmaWait<0>();
                sm90::fenceRegisters(o);
                sm90::fenceRegisters(p);
            } else {
                // The previous item's O must be complete before this item's first softmax. (Running
                // that softmax under the previous item's last P V too, with its m and l set aside,
                // was measured 3-11% slower at the target shape.)
                if (pending) {
                    mmaPhase<true, true>(s, o, p, qRows, kTile, vTile, wg);
                    if (finishItem(sh, om, prevSlot, a, prev.unpack(), o, m, l, wg, wq, lane))
                        releaseStagedSlot(sh, prevSlot, wq, lane);
                } else { // the first item of this CTA
                    mmaPhase<false, true>(s, o, p, qRows, kTile, vTile, wg);
                }
                if (lane == 0)
                    sm90::mbarArrive(sh.kEmpty(stage));
                m[0] = m[1] = -INFINITY;
                l[0] = l[1] = 0.f;
                softmaxTile(s, m, l, alpha, w.k0, w.q0, w.k1, w.q0 + rowInTile, t4, a.scale_log2);
            }
            if (values && lane == 0)
                sm90::mbarArrive(sh.vEmpty(prevStage));
            rescaleO(o, alpha);
            packP(s, p);
            prevStage = stage;
            prevPhase = phase;
            if (++stage == 2) {
                stage = 0;
                phase ^= 1;
            }
        }
        pending = true;
        prev = PackedItem::pack(w);
        prevSlot = slot;
    }
}

template <class Starts, class Tiles>
__global__ void __launch_bounds__(kThreads, 1)
    prefillSm90Kernel(const __grid_constant__ CUtensorMap tmQ, const __grid_constant__ CUtensorMap tmK,
                      const __grid_constant__ CUtensorMap tmV, const __grid_constant__ CUtensorMap tmO, const PrefillArgs a,
                      const Starts bs, const Tiles lt, const MapOrder order, unsigned* counter)
{
    extern __shared__ unsigned char smemRaw[];
    const std::uint32_t raw = smemAddr(smemRaw);
    const std::uint32_t pad = (1024u - (raw & 1023u)) & 1023u;
    Shared sh;
    sh.base = raw + pad;
    sh.bars = reinterpret_cast<std::uint64_t*>(smemRaw + pad + 6 * kTileBytes);
    sh.items = reinterpret_cast<volatile int*>(sh.bars + 12);
    const int warp = static_cast<int>(threadIdx.x) >> 5, lane = static_cast<int>(threadIdx.x) & 31;
    if (threadIdx.x == 0) {
        for (int i = 0; i < 2; ++i) {
            sm90::mbarInit(sh.qFull(i), 1);
            sm90::mbarInit(sh.qEmpty(i), 2); // one arrival per consumer warpgroup, after its O store
            sm90::mbarInit(sh.kFull(i), 1);
            sm90::mbarInit(sh.kEmpty(i), kConsumerWarps);
            sm90::mbarInit(sh.vFull(i), 1);
            sm90::mbarInit(sh.vEmpty(i), kConsumerWarps);
        }
        sm90::fenceBarrierInit();
    }
    __syncthreads();
    const int total = (a.n_gitems + a.n_litems) * a.n_heads;
    if (warp >= kConsumerWarps) {
        sm90::setMaxRegisters<kProducerRegisters, false>();
        if (warp == kConsumerWarps && lane == 0)
            produce(sh, &tmQ, &tmK, &tmV, a, bs, lt, order, counter, total);
        return;
    }
    sm90::setMaxRegisters<kConsumerRegisters, true>();
    consume(sh, &tmO, order.oHeadsInner, a, bs, lt, warp, lane);
}

PFN_cuTensorMapEncodeTiled_v12000 tensorMapEncoder()
{
    static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
        void* p = nullptr;
        cudaDriverEntryPointQueryResult found{};
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &found) != cudaSuccess
            || found != cudaDriverEntryPointSuccess)
            p = nullptr;
        return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
    }();
    require(fn != nullptr, "block_prefill", "the driver has no cuTensorMapEncodeTiled (CUDA 12+ driver needed)");
    return fn;
}

// A 3-D bf16 tensor map over [heads][tokens][128] with the given element strides, boxes of 64 dims
// x 128 tokens x 1 head, 128-byte swizzle, zero fill beyond the last token. The two outer
// dimensions are ordered by stride (TMA wants increasing strides); a box of one head makes the
// shared-memory layout the same either way.
struct TensorMapShape {
    bool headsInner; // coordinates (dim, head, token) instead of (dim, token, head)
};

CUtensorMap makeTensorMap(const bf16* base, int heads, int tokens, std::int64_t headStride, std::int64_t tokenStride, TensorMapShape& shape,
                          unsigned boxRows = kRows)
{
    if (heads == 1)
        headStride = tokenStride * tokens; // unused; any valid stride
    shape.headsInner = headStride < tokenStride;
    const cuuint64_t dimT = static_cast<cuuint64_t>(tokens), dimH = static_cast<cuuint64_t>(heads);
    const cuuint64_t strideT = static_cast<cuuint64_t>(tokenStride) * 2, strideH = static_cast<cuuint64_t>(headStride) * 2;
    const cuuint64_t dims[3] = {static_cast<cuuint64_t>(kD), shape.headsInner ? dimH : dimT, shape.headsInner ? dimT : dimH};
    const cuuint64_t strides[2] = {shape.headsInner ? strideH : strideT, shape.headsInner ? strideT : strideH};
    const cuuint32_t box[3] = {64, shape.headsInner ? 1u : boxRows, shape.headsInner ? boxRows : 1u};
    const cuuint32_t elementStrides[3] = {1, 1, 1};
    CUtensorMap map{};
    const CUresult r = tensorMapEncoder()(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 3, const_cast<bf16*>(base), dims, strides, box,
                                          elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                          CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    require(r == CUDA_SUCCESS, "block_prefill", "cuTensorMapEncodeTiled failed (error " + std::to_string(static_cast<int>(r)) + ")");
    return map;
}

// One instantiation's launch; its shared-memory limit is raised once per device (host work here
// lands inside short launches' wall time).
template <class Starts, class Tiles>
void launchSm90(int dev, unsigned ctas, cudaStream_t stream, const CUtensorMap& tmQ, const CUtensorMap& tmK, const CUtensorMap& tmV,
                const CUtensorMap& tmO, const PrefillArgs& a, const Starts& bs, const Tiles& lt, MapOrder order, unsigned* counter)
{
    const char* op = "block_prefill";
    {
        static std::mutex mutex;
        static std::array<bool, 64> attributeSet{};
        std::lock_guard lock(mutex);
        bool& done = attributeSet[static_cast<std::size_t>(dev) % attributeSet.size()];
        if (!done) {
            checkCuda(cudaFuncSetAttribute(prefillSm90Kernel<Starts, Tiles>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes), op,
                      "cudaFuncSetAttribute");
            done = true;
        }
    }
    prefillSm90Kernel<Starts, Tiles><<<ctas, kThreads, kSmemBytes, stream>>>(tmQ, tmK, tmV, tmO, a, bs, lt, order, counter);
    checkLaunch(op, "prefillSm90Kernel");
}

} // namespace

bool block_prefill_sm90_supported()
{
    static std::mutex mutex;
    static std::array<signed char, 64> known{}; // per device: 0 unknown, 1 yes, -1 no
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    std::lock_guard lock(mutex);
    signed char& k = known[static_cast<std::size_t>(dev) % known.size()];
    if (k == 0) {
        int major = 0, minor = 0;
        const bool ok = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) == cudaSuccess
                        && cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) == cudaSuccess;
        cudaGetLastError();
        k = ok && major == 9 && minor == 0 ? 1 : -1;
    }
    return k > 0;
}

void block_prefill_sm90(const PrefillArgs& a, const BlockStarts& bs, const LocalTiles& lt, unsigned* counter, cudaStream_t stream)
{
    const char* op = "block_prefill";
    require(a.br == kRows, op, "the Hopper kernel's plan must use 128-row tiles");
    TensorMapShape qs{}, ks{}, vs{}, os{};
    const int kvHeads = a.n_heads / a.group;
    const CUtensorMap tmQ = makeTensorMap(a.q, a.n_heads, a.n_tokens, a.q_head_stride, a.q_token_stride, qs);
    const CUtensorMap tmK = makeTensorMap(a.k, kvHeads, a.n_tokens, a.k_head_stride, a.k_token_stride, ks);
    const CUtensorMap tmV = makeTensorMap(a.v, kvHeads, a.n_tokens, a.v_head_stride, a.v_token_stride, vs);
    const CUtensorMap tmO = makeTensorMap(a.o, a.n_heads, a.n_tokens, a.o_head_stride, a.o_token_stride, os, kRows / 2);
    const MapOrder order{qs.headsInner, ks.headsInner, vs.headsInner, os.headsInner};

    int dev = 0, sms = 0;
    checkCuda(cudaGetDevice(&dev), op, "cudaGetDevice");
    checkCuda(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), op, "cudaDeviceGetAttribute");
    const long long total = static_cast<long long>(a.n_gitems + a.n_litems) * a.n_heads;
    const unsigned ctas = static_cast<unsigned>(std::max(1LL, std::min<long long>(total, sms)));
    if (counter)
        checkCuda(cudaMemsetAsync(counter, 0, sizeof(unsigned), stream), op, "cudaMemsetAsync");
    if (bs.n_blocks <= kSmallBlocks) { // small parameter tables (see SmallBlockStarts)
        SmallBlockStarts sbs;
        SmallLocalTiles slt;
        sbs.n_blocks = bs.n_blocks;
        std::copy(bs.s, bs.s + bs.n_blocks + 1, sbs.s);
        std::copy(lt.prefix, lt.prefix + bs.n_blocks, slt.prefix);
        launchSm90(dev, ctas, stream, tmQ, tmK, tmV, tmO, a, sbs, slt, order, counter);
    } else {
        launchSm90(dev, ctas, stream, tmQ, tmK, tmV, tmO, a, bs, lt, order, counter);
    }
}

} // namespace blocklens::kernels::detail
