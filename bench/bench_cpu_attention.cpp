// The CPU's fp32 attention (core/engine/torch/cpu_attention.hpp) per (query, key) pair, for the
// query patterns the engine gives it: a full prefill's causal chunks, a recompute's groups of
// consecutive tokens at each cut, recompute-frac's probe (every context token after the first
// block) and its lone scattered tokens. Issue 18's speed line asks a repair to cost no more than
// its extra FLOPs say, and a repair's attention FLOPs are its pairs: so each pattern's cost per
// pair beside the prefill's shows whether its attention runs as efficiently.
//
//   bench_cpu_attention [--keys N] [--reps N]
//
// The demo model's attention shape (8 query heads of 32, 4 KV heads), random fp32 values, one
// thread. The chunks are the engine's own: attend()'s for the prefill, attendAtSlots()'s for the
// rest (both called as the engine calls them). Patterns are timed round-robin, `reps` rounds after
// one untimed call each; the figure is the median round.
#include "engine/torch/attention.hpp"
#include "engine/torch/attention_at_slots.hpp"

#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace blocklens::engine::detail;

namespace {

struct Pattern {
    std::string name;
    std::vector<std::int64_t> slots; // query slots, ascending; empty: the causal prefill of every key
    std::vector<double> ms;
    double pairs = 0;
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    std::int64_t keys = 2013; // the bench_repairs input's length
    int reps = 15;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--keys"))
            keys = std::max<std::int64_t>(256, std::atoll(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--reps"))
            reps = std::max(1, std::atoi(argv[i + 1]));
    }
    const c10::NoGradGuard noGrad;
    at::set_num_threads(1);
    at::manual_seed(1);
    const std::int64_t heads = 8, kvHeads = 4, d = 32;
    const double scale = 1.0 / std::sqrt(double(d));
    const at::Tensor k = at::randn({kvHeads, keys, d}), v = at::randn({kvHeads, keys, d}); // [kv_heads, keys, d]
    const std::int64_t block = 130;                                                        // bench_repairs' blocks: ~140 tokens

    std::vector<Pattern> patterns(4);
    patterns[0].name = "full prefill (causal chunks)";
    patterns[1].name = "recompute-first:16 (16 tokens at each cut)";
    patterns[2].name = "recompute-frac probe (every token after the first block)";
    patterns[3].name = "recompute-frac:0.05 (every 20th token)";
    for (std::int64_t b = block; b < keys; b += block)
        for (std::int64_t t = b; t < std::min(b + 16, keys); ++t)
            patterns[1].slots.push_back(t);
    for (std::int64_t s = block; s < keys; ++s)
        patterns[2].slots.push_back(s);
    for (std::int64_t s = block; s < keys; s += 20)
        patterns[3].slots.push_back(s);
    for (auto& p : patterns) {
        if (p.slots.empty())
            p.pairs = double(keys) * double(keys + 1) / 2;
        for (const auto s : p.slots)
            p.pairs += double(s + 1);
    }

    std::vector<at::Tensor> queries; // [heads, n, d] each, strided as the engine's (a view of [n, heads, d])
    for (const auto& p : patterns)
        queries.push_back(at::randn({p.slots.empty() ? keys : std::int64_t(p.slots.size()), heads, d}).transpose(0, 1));
    std::vector<at::Tensor> slots; // [n] int64 each
    for (const auto& p : patterns)
        slots.push_back(at::tensor(p.slots, at::TensorOptions().dtype(at::kLong)));
    const auto run = [&](std::size_t i) {
        if (patterns[i].slots.empty())
            return attend(queries[i], k, v, {0, 0, std::nullopt, scale});
        return attendAtSlots(queries[i], k, v, slots[i], {0, 0, std::nullopt, scale});
    };
    for (std::size_t i = 0; i < patterns.size(); ++i) // untimed: warms caches and the allocator
        run(i);
    for (int round = 0; round < reps; ++round)
        for (std::size_t i = 0; i < patterns.size(); ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            run(i);
            patterns[i].ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }

    std::printf("CPU fp32 attention, %lld keys, 8 query heads of 32 over 4 KV heads, one thread, median of %d rounds\n\n",
                static_cast<long long>(keys), reps);
    std::printf("| queries | count | (query, key) pairs | time | ns per pair | per pair / prefill's |\n");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    const double prefillNs = median(patterns[0].ms) * 1e6 / patterns[0].pairs;
    for (const auto& p : patterns) {
        const double ms = median(p.ms), ns = ms * 1e6 / p.pairs;
        std::printf("| %s | %lld | %.0f | %.2f ms | %.2f | %.3f |\n", p.name.c_str(),
                    static_cast<long long>(p.slots.empty() ? keys : std::int64_t(p.slots.size())), p.pairs, ms, ns, ns / prefillNs);
    }
    return 0;
}
