// Benchmark of the CUDA kernels (issue 6), not a test: each kernel timed with CUDA events after
// warm-up, median of many repetitions, inputs rotating between two sets where they would fit in
// L2, over Llama-3-8B attention shapes (32 query heads, 8 KV heads, head dim 128, bf16), next to a
// ceiling measured in the same run (device-to-device copy GB/s for the memory-bound RoPE). The
// attention ceilings (SDPA dense causal, FlexAttention, libtorch's varlen flash attention) come
// from tools/reference/attention_ceilings.py run right after in the same device call
// (tools/device/kernels.sh).
//   bench_kernels [--json FILE] [--quick] [--prefill-only | --prefill-target]
// --prefill-target: the Hopper kernel at 32k tokens / 64 blocks only, back to back and per-call
// synchronised (with the launcher's host time).
#include "attention_mass.cuh"
#include "block_prefill.cuh"
#include "fill.cuh"
#include "rope_reencode.cuh"

#include "reference/rope.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

using namespace blocklens::kernels;

namespace {

void check(cudaError_t e, const char* what)
{
    if (e != cudaSuccess) {
        std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
        std::exit(1);
    }
}

struct Buffer {
    void* p = nullptr;
    std::size_t bytes = 0;
    explicit Buffer(std::size_t b) : bytes(b) { check(cudaMalloc(&p, b == 0 ? 16 : b), "cudaMalloc"); }
    ~Buffer() { cudaFree(p); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
};

FILE* jsonOut = nullptr;
void json(const std::string& line)
{
    if (jsonOut) {
        std::fprintf(jsonOut, "%s\n", line.c_str());
        std::fflush(jsonOut);
    }
}

// Median time in ms of fn(rep) over `reps` repetitions after `warmup` calls; reps adapt so that one
// row takes about `budgetMs` of device time (at least 5, at most maxReps).
// Median time of fn(r) on the GPU: CUDA events around each call, calls enqueued back to back and
// one synchronisation at the end (as triton.testing.do_bench and a model's forward pass run them),
// so the host's launch work overlaps the previous call instead of leaving the GPU idle inside
// the timed interval. The first call, timed alone, sizes the loop to about budgetMs.
double medianMs(const std::function<void(int)>& fn, int warmup = 3, int maxReps = 50, double budgetMs = 300)
{
    for (int i = 0; i < warmup; ++i)
        fn(i);
    check(cudaDeviceSynchronize(), "warm-up");
    std::vector<cudaEvent_t> ev(2 * static_cast<std::size_t>(maxReps));
    for (auto& e : ev)
        check(cudaEventCreate(&e), "event");
    check(cudaEventRecord(ev[0]), "record");
    fn(0);
    check(cudaEventRecord(ev[1]), "record");
    check(cudaEventSynchronize(ev[1]), "sync");
    float first = 0;
    check(cudaEventElapsedTime(&first, ev[0], ev[1]), "elapsed");
    const int reps = std::max(5, std::min(maxReps, static_cast<int>(budgetMs / std::max(first, 1e-3f))));
    for (int r = 0; r < reps; ++r) {
        check(cudaEventRecord(ev[2 * r]), "record");
        fn(r);
        check(cudaEventRecord(ev[2 * r + 1]), "record");
    }
    check(cudaDeviceSynchronize(), "sync");
    check(cudaGetLastError(), "kernel");
    std::vector<float> t(static_cast<std::size_t>(reps));
    for (int r = 0; r < reps; ++r)
        check(cudaEventElapsedTime(&t[static_cast<std::size_t>(r)], ev[2 * r], ev[2 * r + 1]), "elapsed");
    for (auto& e : ev)
        cudaEventDestroy(e);
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

// The same with a synchronisation after every call: the host's launch work is then inside each
// interval (reported for the prefill target next to the back-to-back figure).
// hostUs (optional): the median host time of one call (the launcher's own work: checks, plan,
// tensor maps, parameter copy), read with a host clock around the call.
double medianMsSynced(const std::function<void(int)>& fn, int warmup = 3, int maxReps = 50, double* hostUs = nullptr)
{
    std::vector<double> host;
    for (int i = 0; i < warmup; ++i)
        fn(i);
    check(cudaDeviceSynchronize(), "warm-up");
    cudaEvent_t a, b;
    check(cudaEventCreate(&a), "event");
    check(cudaEventCreate(&b), "event");
    std::vector<float> t;
    for (int r = 0; r < maxReps; ++r) {
        check(cudaEventRecord(a), "record");
        const auto h0 = std::chrono::steady_clock::now();
        fn(r);
        host.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - h0).count());
        check(cudaEventRecord(b), "record");
        check(cudaEventSynchronize(b), "sync");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, a, b), "elapsed");
        t.push_back(ms);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    std::sort(t.begin(), t.end());
    std::sort(host.begin(), host.end());
    if (hostUs)
        *hostUs = host[host.size() / 2];
    return t[t.size() / 2];
}

std::vector<std::int32_t> evenStarts(int n, int block)
{
    std::vector<std::int32_t> s;
    for (int x = 0; x < n; x += block)
        s.push_back(x);
    s.push_back(n);
    return s;
}

double copyCeiling()
{
    const std::size_t bytes = std::size_t(1) << 31; // 2 GiB each way
    Buffer src(bytes), dst(bytes);
    fill_random_cuda(src.p, DType::bf16, bytes / 2, 1, 1.f, nullptr);
    const double ms = medianMs([&](int) { check(cudaMemcpyAsync(dst.p, src.p, bytes, cudaMemcpyDeviceToDevice, nullptr), "copy"); }, 3, 20);
    const double gbps = 2.0 * bytes / (ms * 1e6);
    std::printf("| device-to-device copy (ceiling) | 2 GiB | %.3f ms | %.0f GB/s (read + write) |\n", ms, gbps);
    json("{\"op\":\"copy\",\"bytes\":" + std::to_string(bytes) + ",\"ms\":" + std::to_string(ms) + ",\"gbps\":" + std::to_string(gbps) + "}");
    return gbps;
}

void benchRope(double copyGbps, bool quick)
{
    const int layers = 32, heads = 8, dim = 128, block = 512;
    const auto invFreq = ref::ropeInvFreq(dim, 500000.0, ref::RopeScaling{"llama3", 8.0, 1.0, 4.0, 8192});
    std::vector<int> sizes = quick ? std::vector<int>{8192} : std::vector<int>{2048, 8192, 32768, 65536};
    for (int n : sizes)
        for (bool copy : {false, true}) {
            if (copy && n != 32768 && !quick)
                continue;
            const std::size_t elems = static_cast<std::size_t>(layers) * heads * n * dim;
            Buffer a(elems * 2), b(elems * 2);
            fill_random_cuda(a.p, DType::bf16, elems, 2, 1.f, nullptr);
            fill_random_cuda(b.p, DType::bf16, elems, 3, 1.f, nullptr);
            std::vector<RopeBlock> blocks;
            for (int s = 0; s < n; s += block)
                blocks.push_back({s, s, std::min(block, n - s), s + 4096});
            RopeReencodeParams p;
            p.dtype = DType::bf16;
            p.n_layers = layers;
            p.n_heads = heads;
            p.head_dim = dim;
            p.src_layer_stride = p.dst_layer_stride = static_cast<std::int64_t>(heads) * n * dim;
            p.src_head_stride = p.dst_head_stride = static_cast<std::int64_t>(n) * dim;
            p.src_token_stride = p.dst_token_stride = dim;
            p.blocks = blocks.data();
            p.n_blocks = static_cast<int>(blocks.size());
            p.inv_freq = invFreq.data();
            const double ms = medianMs([&](int r) {
                if (copy) { // a -> b and b -> a alternately
                    p.src = r % 2 ? b.p : a.p;
                    p.dst = r % 2 ? a.p : b.p;
                } else {    // in place on a, then b
                    p.src = p.dst = r % 2 ? b.p : a.p;
                }
                rope_reencode_cuda(p, nullptr);
            });
            const double gbps = 2.0 * elems * 2 / (ms * 1e6);
            std::printf("| rope re-encode %s, K of 32 layers x 8 KV heads x %d tokens x 128, bf16, blocks of %d | %.1f MB | %.3f ms | %.0f GB/s = %.0f%% of copy |\n",
                        copy ? "copy" : "in place", n, block, elems * 2 / 1e6, ms, gbps, 100.0 * gbps / copyGbps);
            json("{\"op\":\"rope\",\"mode\":\"" + std::string(copy ? "copy" : "inplace") + "\",\"n\":" + std::to_string(n) + ",\"ms\":" + std::to_string(ms)
                 + ",\"gbps\":" + std::to_string(gbps) + ",\"copy_gbps\":" + std::to_string(copyGbps) + "}");
        }
}

struct Qkv {
    Buffer q, k, v, o;
    Qkv(int n, int heads, int kv, int dim)
        : q(static_cast<std::size_t>(heads) * n * dim * 2), k(static_cast<std::size_t>(kv) * n * dim * 2),
          v(static_cast<std::size_t>(kv) * n * dim * 2), o(static_cast<std::size_t>(heads) * n * dim * 2)
    {
        static std::uint64_t seed = 100;
        fill_random_cuda(q.p, DType::bf16, q.bytes / 2, ++seed, 1.f, nullptr);
        fill_random_cuda(k.p, DType::bf16, k.bytes / 2, ++seed, 1.f, nullptr);
        fill_random_cuda(v.p, DType::bf16, v.bytes / 2, ++seed, 1.f, nullptr);
        fill_random_cuda(o.p, DType::bf16, o.bytes / 2, ++seed, 1.f, nullptr);
    }
};

// targetOnly: the Hopper kernel at issue 6's target shape only (for profilers).
void benchPrefill(bool quick, bool targetOnly = false)
{
    const int heads = 32, kv = 8, dim = 128;
    std::vector<int> sizes = quick ? std::vector<int>{8192} : targetOnly ? std::vector<int>{32768} : std::vector<int>{2048, 8192, 32768, 65536};
    for (int n : sizes) {
        Qkv set0(n, heads, kv, dim), set1(n, heads, kv, dim);
        for (int block : {128, 512, 2048}) {
            if (block >= n || (quick && block != 512) || (targetOnly && block != 512))
                continue;
            const auto starts = evenStarts(n, block);
            BlockPrefillParams p;
            p.n_tokens = n;
            p.n_heads = heads;
            p.n_kv_heads = kv;
            p.head_dim = dim;
            p.q_head_stride = p.o_head_stride = static_cast<std::int64_t>(n) * dim;
            p.q_token_stride = p.o_token_stride = dim;
            p.k_head_stride = p.v_head_stride = static_cast<std::int64_t>(n) * dim;
            p.k_token_stride = p.v_token_stride = dim;
            p.block_starts = starts.data();
            p.n_blocks = static_cast<int>(starts.size()) - 1;
            const double flops = block_prefill_flops(p);
            // 1 = hopper (wgmma/TMA, the default on the H200); fast (mma.sync) with 64- / 128-row tiles;
            // 0 = simple; at the target shape also forced last-block chunks for both tensor-core
            // kernels (-2048, -8192 keys; -1: no split) to see what the split-KV plan buys
            for (int variant : {1, 64, 128, 0, -2048, -8192, -1, -10001, -10002, -20000}) {
                const Impl impl = variant == 1 || variant <= -10000 ? Impl::hopper : variant ? Impl::fast : Impl::simple;
                if (impl == Impl::simple && !(n == 2048 && block == 512))
                    continue; // the simple kernel once, for scale
                if (targetOnly && variant != 1 && variant != -20000)
                    continue;
                if (variant < 0 && !(n == 32768 && block == 512))
                    continue;
                p.impl = impl;
                p.tile_rows = variant > 1 ? variant : 0; // forced-chunk rows: default tiles
                p.global_chunk = variant == -1 || variant == -10001 ? (1 << 30)
                                 : variant == -20000                 ? 0
                                 : variant == -10002                 ? 4096
                                 : variant < 0                       ? -variant
                                                                     : 0;
                Buffer ws(block_prefill_workspace_bytes(p));
                p.workspace = ws.p;
                p.workspace_bytes = ws.bytes;
                const auto call = [&](int r) {
                    const Qkv& s = r % 2 ? set1 : set0;
                    p.q = s.q.p;
                    p.k = s.k.p;
                    p.v = s.v.p;
                    p.o = s.o.p;
                    block_prefill_cuda(p, nullptr);
                };
                double hostUs = 0;
                const double ms = variant == -20000 ? medianMsSynced(call, 3, 50, &hostUs) : medianMs(call);
                const double tflops = flops / (ms * 1e9);
                const std::string name = variant == 1        ? "hopper"
                                         : variant == 64     ? "fast"
                                         : variant == 128    ? "fast128"
                                         : variant == 0      ? "simple"
                                         : variant == -1     ? "fast-nosplit"
                                         : variant == -10001 ? "hopper-nosplit"
                                         : variant == -10002 ? "hopper-chunk4096"
                                         : variant == -20000 ? "hopper-synced"
                                                             : "fast-chunk" + std::to_string(-variant);
                std::printf("| block prefill (%s), %d tokens, blocks of %d (%d blocks), 32 heads / 8 KV, d128 | %.2f GFLOP kept | %.3f ms | %.1f TFLOP/s |\n",
                            name.c_str(), n, block, p.n_blocks, flops / 1e9, ms, tflops);
                json("{\"op\":\"prefill\",\"impl\":\"" + name + "\",\"n\":" + std::to_string(n)
                     + ",\"block\":" + std::to_string(block) + ",\"ms\":" + std::to_string(ms) + ",\"tflops\":" + std::to_string(tflops)
                     + ",\"flops\":" + std::to_string(flops) + ",\"workspace\":" + std::to_string(ws.bytes)
                     + (variant == -20000 ? ",\"host_us\":" + std::to_string(hostUs) : std::string()) + "}");
                if (variant == -20000)
                    std::printf("|   (host time of one launch: %.1f us) | | | |\n", hostUs);
            }
        }
    }
}

void benchProbe(bool quick)
{
    const int heads = 32, kv = 8, dim = 128;
    std::vector<int> sizes = quick ? std::vector<int>{8192} : std::vector<int>{8192, 32768};
    for (int n : sizes) {
        Qkv set0(n, heads, kv, dim), set1(n, heads, kv, dim);
        const int nb = 64;
        const auto starts = evenStarts(n, n / nb);
        for (bool withTokens : {false, true}) {
            if (withTokens && n != 32768)
                continue;
            AttentionMassParams p;
            p.n_tokens = n;
            p.n_heads = heads;
            p.n_kv_heads = kv;
            p.head_dim = dim;
            p.q_head_stride = static_cast<std::int64_t>(n) * dim;
            p.q_token_stride = dim;
            p.k_head_stride = static_cast<std::int64_t>(n) * dim;
            p.k_token_stride = dim;
            p.block_starts = starts.data();
            p.n_blocks = nb;
            Buffer bm(static_cast<std::size_t>(heads) * nb * nb * 4);
            Buffer tm(withTokens ? static_cast<std::size_t>(heads) * n * nb * 4 : 16);
            p.block_mass = static_cast<float*>(bm.p);
            p.token_mass = withTokens ? static_cast<float*>(tm.p) : nullptr;
            Buffer ws(attention_mass_workspace_bytes(p));
            p.workspace = ws.p;
            p.workspace_bytes = ws.bytes;
            const double ms = medianMs([&](int r) {
                const Qkv& s = r % 2 ? set1 : set0;
                p.q = s.q.p;
                p.k = s.k.p;
                attention_mass_cuda(p, nullptr);
            });
            const double qkFlops = 2.0 * dim * heads * (static_cast<double>(n) * (n + 1) / 2);
            std::printf("| attention-mass probe, %d tokens, %d blocks, 32 heads / 8 KV, d128%s | %.2f GFLOP (Q K^T, causal) | %.3f ms | %.1f TFLOP/s |\n",
                        n, nb, withTokens ? ", + token_mass" : "", qkFlops / 1e9, ms, qkFlops / (ms * 1e9));
            json("{\"op\":\"probe\",\"n\":" + std::to_string(n) + ",\"blocks\":" + std::to_string(nb) + ",\"token_mass\":" + (withTokens ? "true" : "false")
                 + ",\"ms\":" + std::to_string(ms) + "}");
        }
    }
}

} // namespace

int main(int argc, char** argv)
{
    bool quick = false, prefillOnly = false, targetOnly = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            jsonOut = std::fopen(argv[++i], "w");
        } else if (std::strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (std::strcmp(argv[i], "--prefill-only") == 0) {
            prefillOnly = true;
        } else if (std::strcmp(argv[i], "--prefill-target") == 0) {
            prefillOnly = targetOnly = true;
        } else {
            std::fprintf(stderr, "usage: bench_kernels [--json FILE] [--quick] [--prefill-only | --prefill-target]\n");
            return 2;
        }
    }
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "device");
    std::printf("device: %s, %d SMs, %.0f MB L2\n\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize / 1e6);
    std::printf("| what | size | median | rate |\n| --- | --- | ---: | ---: |\n");
    try {
        if (!prefillOnly) {
            const double copy = copyCeiling();
            benchRope(copy, quick);
            benchProbe(quick);
        }
        benchPrefill(quick, targetOnly);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    if (jsonOut)
        std::fclose(jsonOut);
    return 0;
}
