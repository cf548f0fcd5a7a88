// bench_tokenizer: encoding speed of a tokenizer.json on one thread.
//
//   bench_tokenizer [--tokenizer PATH] [--text PATH] [--reps N] [--json] [--fixed-mmap-threshold]
//
// Defaults: the Llama 3 fixture tokenizer and 1 MB of English (both unpacked into the build tree
// at configure time). Loads the tokenizer, encodes the text once to warm up (word cache, page
// faults), then N times (default 5), and prints the median as a markdown table row, with the token
// count so it can be checked against the `tokenizers` library's count for the same file
// (Llama 3 on english-1mb.txt: 228725 tokens). --json also gives the process CPU time of the
// runs (cpu_ms, cold_cpu_ms): on a loaded machine wall-clock time counts the time other processes
// hold the core, CPU time does not (tools/tokenizer_vs_hf/run.sh compares both with the
// `tokenizers` npm package), and the minor page faults of the cold run (cold_faults).
//
// --fixed-mmap-threshold: for comparing the cold runs of texts of different sizes. glibc's malloc
// serves a buffer above its mmap threshold with fresh pages, each faulted in on first use (about
// half of a cold run on the 2-core VM), and below it from memory freed earlier (by loading, by an
// earlier encode), already faulted in. The threshold moves: it starts at 128 KiB and rises to the
// size of each mapped buffer freed, up to 32 MiB. So the pieces and spans of a 4 MB text end up
// in reused memory and those of an 8 MB text (over 32 MiB) in fresh pages: the larger text pays
// faults the smaller one did not, which made 4 -> 8 MB look 2.6x (docs/benchmarks.md). This option
// fixes the threshold at 1 MiB before anything is loaded (mallopt, which also stops it moving),
// so every size gets its large buffers on the same terms.
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string readAll(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw blocklens::Error("cannot open", {.file = path});
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

double millisecondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double processCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

long minorPageFaults()
{
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    return r.ru_minflt;
}

} // namespace

int main(int argc, char** argv)
{
    std::string tokenizerPath = std::string(BLOCKLENS_FIXTURES_DIR) + "/tokenizers/llama3/tokenizer.json";
    std::string textPath = std::string(BLOCKLENS_FIXTURES_DIR) + "/bench/english-1mb.txt";
    int reps = 5;
    bool json = false;
    bool fixedMmapThreshold = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--tokenizer" && i + 1 < argc) {
            tokenizerPath = argv[++i];
        } else if (a == "--text" && i + 1 < argc) {
            textPath = argv[++i];
        } else if (a == "--json") {
            json = true; // one line for scripts: {"ms": median, "cold_ms": first run, "tokens": n}
        } else if (a == "--fixed-mmap-threshold") {
            fixedMmapThreshold = true;
        } else if (a == "--reps" && i + 1 < argc) {
            reps = std::max(1, std::atoi(argv[++i]));
        } else {
            std::cerr << "usage: bench_tokenizer [--tokenizer PATH] [--text PATH] [--reps N] [--json] "
                         "[--fixed-mmap-threshold]\n";
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    if (fixedMmapThreshold && mallopt(M_MMAP_THRESHOLD, 1 << 20) != 1) {
        std::cerr << "bench_tokenizer: error: malloc refused a fixed mmap threshold (mallopt)\n";
        return 1;
    }
    try {
        auto t0 = std::chrono::steady_clock::now();
        const blocklens::Tokenizer tok = blocklens::Tokenizer::fromFile(tokenizerPath);
        const double loadMs = millisecondsSince(t0);
        const std::string text = readAll(textPath);

        t0 = std::chrono::steady_clock::now();
        double c0 = processCpuMs();
        const long f0 = minorPageFaults();
        std::size_t tokens = tok.encode(text).ids.size(); // warm-up (empty word cache)
        const double coldMs = millisecondsSince(t0);
        const double coldCpuMs = processCpuMs() - c0;
        const long coldFaults = minorPageFaults() - f0;
        std::vector<double> ms, cpu;
        for (int r = 0; r < reps; ++r) {
            t0 = std::chrono::steady_clock::now();
            c0 = processCpuMs();
            const auto enc = tok.encode(text);
            ms.push_back(millisecondsSince(t0));
            cpu.push_back(processCpuMs() - c0);
            tokens = enc.ids.size();
        }
        std::sort(ms.begin(), ms.end());
        std::sort(cpu.begin(), cpu.end());
        const double median = ms[ms.size() / 2];
        const double mb = static_cast<double>(text.size()) / 1e6;

        if (json) {
            std::printf("{\"ms\": %.3f, \"cold_ms\": %.3f, \"cpu_ms\": %.3f, \"cold_cpu_ms\": %.3f, \"load_ms\": %.1f, "
                        "\"cold_faults\": %ld, \"tokens\": %zu}\n",
                        median, coldMs, cpu[cpu.size() / 2], coldCpuMs, loadMs, coldFaults, tokens);
            return 0;
        }
        std::printf("tokenizer: %s (%s), loaded in %.0f ms\n", tokenizerPath.c_str(), tok.describe().c_str(), loadMs);
        std::printf("text: %s (%zu bytes)\n", textPath.c_str(), text.size());
        std::printf("token count: %zu\n", tokens);
        std::printf("first (cold word cache) run: %.1f ms\n\n", coldMs);
        std::printf("| tokenizer | text | bytes | tokens | median ms (%d reps, 1 thread) | MB/s |\n", reps);
        std::printf("| --- | --- | ---: | ---: | ---: | ---: |\n");
        auto base = [](const std::string& p) {
            const auto slash = p.find_last_of('/');
            const std::string dir = slash == std::string::npos ? "" : p.substr(0, slash);
            const auto slash2 = dir.find_last_of('/');
            const std::string file = slash == std::string::npos ? p : p.substr(slash + 1);
            return slash2 == std::string::npos ? file : dir.substr(slash2 + 1) + "/" + file;
        };
        std::printf("| %s | %s | %zu | %zu | %.1f | %.2f |\n", base(tokenizerPath).c_str(), base(textPath).c_str(),
                    text.size(), tokens, median, mb / (median / 1000.0));
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench_tokenizer: error: " << e.what() << "\n";
        return 1;
    }
}
