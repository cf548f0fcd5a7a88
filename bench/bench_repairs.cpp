// TTFT of every repair of block-cached attention beside plain block-cached and full attention, with
// what its FLOPs say it should cost (issue 18's speed row: "a variant costs no more than its extra
// FLOPs say").
//
//   bench_repairs [--model DIR] [--input FILE] [--reps N] [--variants v1,v2,...]
//
// One process, one model, one input: the document (default: the demo document followed by its
// first 68%, about 2k tokens of the demo model) cut by the default segmenter, its last block the
// query. Every variant runs once untimed (its blocks cached, and a warm-up), then all variants are
// timed round-robin, `reps` rounds (full, block-cached, v1, v2, ..., full, block-cached, ...), so a
// change of machine load reaches every variant alike; TTFT is the median of its rounds. Block-cached
// variants find every block cached (the TTFT each query pays once the context is cached).
// "extra / extra FLOPs, paired": per round, the variant's TTFT minus that round's block-cached
// TTFT, as a share of that round's full TTFT, over the variant's extra FLOPs as a share of the
// full prefill's; the median over rounds (1.00: it costs exactly what its extra FLOPs say).
// "expected" is the variant's prefill FLOPs per query (RunStats) as a share of a full prefill's
// (RunStats too). RunStats counts what runs: when only the last position's logits are wanted the
// engine runs the last layer's attention, output projection and MLP for the last row alone
// (runner.cpp prefillFull), about 15% less than every row on the demo model at 2k tokens; the
// bench derives that figure on its own as well and stops if RunStats disagrees. "CPU / full" is
// the same share in this thread's CPU time (user + system), beside the run's minor page faults;
// "assembly / full" the block-cached variants' lookup and placement of the cached blocks (K
// re-rotated to its slots, V copied: work no FLOP count includes), a share of the full TTFT.
#include "document/document.hpp"
#include "engine/flops.hpp"
#include "engine/model_bundle.hpp"
#include "engine/repairs.hpp"
#include "engine/runner.hpp"
#include "segment/segmenter.hpp"
#include "segment/token_blocks.hpp"
#include "usecases/comparison.hpp"
#include "usecases/segmenters.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/resource.h>

using namespace blocklens;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// This thread's CPU time (user + system) in milliseconds and its minor page faults so far: a run's
// wall-clock TTFT beside the CPU it used and the fresh pages it touched (in a sandbox a page fault
// can cost more than its CPU time shows).
struct CpuUse {
    double ms = 0;
    double faults = 0;
};

CpuUse cpuUse()
{
    rusage r{};
    getrusage(RUSAGE_THREAD, &r);
    const auto ms = [](const timeval& t) { return 1e3 * static_cast<double>(t.tv_sec) + 1e-3 * static_cast<double>(t.tv_usec); };
    return {ms(r.ru_utime) + ms(r.ru_stime), static_cast<double>(r.ru_minflt)};
}

std::vector<std::string> splitList(const std::string& s)
{
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty())
            out.push_back(item);
    return out;
}

std::string demoInput()
{
    std::ifstream f(std::string(BLOCKLENS_SOURCE_DIR) + "/resources/demo/block-attention.md", std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    const std::string text = s.str();
    // The demo document and then its first 68% (cut at a byte that starts a code point): about 2k
    // tokens of the demo model, inside its 2,048 positions.
    std::size_t cut = text.size() * 68 / 100;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut;
    return text + text.substr(0, cut);
}

// What a full prefill of n tokens executes when the last layer runs its last row alone, derived
// here apart from engine/flops.cpp: the counted forward minus that layer's attention, output
// projection and MLP for rows [0, n - 1), plus the first token's logits row.
double executedFullFlops(const engine::ModelConfig& c, std::int64_t n)
{
    const double h = static_cast<double>(c.hiddenSize);
    const engine::FlopCount counted = engine::forwardFlops(c, n, engine::attendedPairs(0, n, 0, c.slidingWindow), 1);
    const double skippedRows = static_cast<double>(n - 1);
    const double skippedLinear = 2 * skippedRows * (h * static_cast<double>(c.qDim()) + 3 * h * static_cast<double>(c.intermediateSize));
    const double lastLayerPairs = static_cast<double>(engine::attendedPairs(0, n, 0, c.slidingWindow));
    const double lastRowPairs = static_cast<double>(engine::attendedPairs(n - 1, 1, 0, c.slidingWindow));
    const double skippedAttention = 4 * static_cast<double>(c.numHeads * c.headDim) * (lastLayerPairs - lastRowPairs);
    return counted.total() - skippedLinear - skippedAttention;
}

} // namespace

int main(int argc, char** argv)
{
    std::string model = std::string(BLOCKLENS_SOURCE_DIR) + "/resources/models/demo";
    std::string inputFile;
    int reps = 9;
    std::vector<std::string> variants = {"block-cached+sink:16", "block-cached+recompute-first:16", "block-cached+recompute-first:64",
                                         "block-cached+recompute-frac:0.15", "block-cached+recompute-frac:1"};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--model"))
            model = argv[i + 1];
        else if (!std::strcmp(argv[i], "--input"))
            inputFile = argv[i + 1];
        else if (!std::strcmp(argv[i], "--reps"))
            reps = std::max(1, std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--variants"))
            variants = splitList(argv[i + 1]);
    }
    try {
        const engine::ModelBundle bundle =
            engine::loadModelBundle(engine::readModelFiles(model, std::nullopt, engine::TokenizerNeed::Required));
        std::string text = demoInput();
        if (!inputFile.empty()) {
            std::ifstream f(inputFile, std::ios::binary);
            std::stringstream s;
            s << f.rdbuf();
            text = s.str();
        }
        const Document doc(text);
        const usecases::DocumentTokens tokens(*bundle.tokenizer, doc);
        const auto& segmenter = segment::findSegmenter(segment::kDefaultSegmenter);
        const auto input = usecases::comparisonInput(
            tokens, segment::tokenBlockStarts(segmenter.segment(doc, tokens.grid())), *bundle.tokenizer, "");
        usecases::ComparisonOptions base;
        base.maxNewTokens = 0;
        engine::RunRequest request = usecases::comparisonRequest(input, base);
        request.logits = engine::LogitsWanted::None;
        request.tokenizerHash = bundle.tokenizerHash();

        std::vector<std::string> names = {"full", "block-cached"};
        names.insert(names.end(), variants.begin(), variants.end());
        std::vector<engine::RunRequest> requests;
        for (const auto& name : names) {
            const engine::AttentionVariant v = engine::parseAttentionVariant(name);
            engine::RunRequest r = request;
            r.mode = v.mode;
            r.repair = v.repair;
            requests.push_back(r);
        }
        const engine::Runner runner(bundle.model);
        std::vector<engine::RunStats> stats(names.size());
        for (std::size_t i = 0; i < names.size(); ++i) // untimed: caches every block, warms up
            runner.run(requests[i]);
        for (std::size_t i = 0; i < names.size(); ++i)
            stats[i] = runner.run(requests[i]).stats; // FLOPs with every block cached
        std::vector<std::vector<double>> ttft(names.size()), cpuMs(names.size()), faults(names.size()), assemble(names.size());
        for (int round = 0; round < reps; ++round)
            for (std::size_t i = 0; i < names.size(); ++i) {
                const CpuUse before = cpuUse();
                const engine::RunStats st = runner.run(requests[i]).stats;
                ttft[i].push_back(st.ttftMs);
                assemble[i].push_back(st.assembleMs);
                const CpuUse after = cpuUse();
                cpuMs[i].push_back(after.ms - before.ms);
                faults[i].push_back(after.faults - before.faults);
            }

        const double full = median(ttft[0]);
        const double fullFlops = stats[0].prefillFlops.total();
        const double derived = executedFullFlops(bundle.config(), static_cast<std::int64_t>(input.ids.size()));
        if (std::abs(fullFlops - derived) > 1e-9 * derived || std::abs(stats[0].fullFlops.total() - derived) > 1e-9 * derived) {
            std::fprintf(stderr, "bench_repairs: RunStats counts %.6g FLOPs for the full prefill (fullFlops %.6g), the bench derives %.6g\n",
                         fullFlops, stats[0].fullFlops.total(), derived);
            return 1;
        }
        const double blockCached = median(ttft[1]) / full, blockCachedFlops = stats[1].prefillFlops.total() / fullFlops;
        std::printf("model %s, %zu tokens in %zu blocks (query block %lld tokens), %d rounds, TTFT = median; a full prefill "
                    "executes %.4g FLOPs (RunStats; derived here: %.4g)\n\n",
                    model.c_str(), input.ids.size(), input.blocks.size(), static_cast<long long>(input.queryTokens), reps, fullFlops,
                    derived);
        std::printf("| variant | TTFT | measured: / full | expected: FLOPs / full | measured extra over block-cached | extra FLOPs / full | "
                    "extra / extra FLOPs, paired | CPU / full | minor page faults | assembly / full |\n");
        std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        const double fullCpu = median(cpuMs[0]);
        for (std::size_t i = 0; i < names.size(); ++i) {
            const double t = median(ttft[i]), share = t / full;
            const double flops = stats[i].prefillFlops.total() / fullFlops;
            // Paired: each round's extra over that round's block-cached run, as a share of that round's
            // full TTFT, over the extra FLOPs' share; the median over rounds (drift between rounds
            // cancels). 1.00 = the variant costs exactly what its extra FLOPs say.
            const double extraFlops = flops - blockCachedFlops;
            std::string paired = "-";
            if (i > 1 && extraFlops > 1e-9) {
                std::vector<double> ratio;
                for (int round = 0; round < reps; ++round)
                    ratio.push_back((ttft[i][round] - ttft[1][round]) / ttft[0][round] / extraFlops);
                char cell[32];
                std::snprintf(cell, sizeof cell, "%.3f", median(ratio));
                paired = cell;
            }
            std::printf("| `%s` | %.1f ms | %.3f | %.3f | %+.3f | %+.3f | %s | %.3f | %.0f | %.3f |\n", names[i].c_str(), t, share, flops,
                        i == 0 ? 0.0 : share - blockCached, i == 0 ? 0.0 : extraFlops, paired.c_str(), median(cpuMs[i]) / fullCpu,
                        median(faults[i]), median(assemble[i]) / full);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_repairs: %s\n", e.what());
        return 1;
    }
    return 0;
}
