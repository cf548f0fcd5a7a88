// bench_store: importing shared/data/segdev.jsonl (280 documents, 13 MB) into a fresh workspace.
//
// Each run creates a new database file in a temporary directory, opens it (creating the schema),
// imports the already loaded dataset in one transaction and closes it; loading the JSONL is timed
// separately. Prints the median of the runs (the target is an import under 5 s).
//
//   bench_store [DATASET.jsonl] [RUNS]      defaults: shared/data/segdev.jsonl, 5
#include "document/dataset.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

using namespace blocklens;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

} // namespace

int main(int argc, char** argv)
{
    const fs::path dataset = argc > 1 ? fs::path(argv[1]) : fs::path(BLOCKLENS_SOURCE_DIR "/../shared/data/segdev.jsonl");
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    try {
        std::vector<double> load, create, import, total;
        Dataset ds;
        for (int i = 0; i < runs; ++i) {
            const auto t0 = Clock::now();
            ds = loadDataset(dataset);
            load.push_back(seconds(t0, Clock::now()));
        }
        std::size_t boundaries = 0, bytes = 0;
        for (const auto& d : ds.documents) {
            boundaries += d.reference().size();
            bytes += d.text().size();
        }
        const fs::path dir = fs::temp_directory_path() / ("bench_store-" + std::to_string(getpid()));
        fs::create_directories(dir);
        std::uintmax_t dbBytes = 0;
        for (int i = 0; i < runs; ++i) {
            const fs::path db = dir / ("run" + std::to_string(i) + ".db");
            const auto t0 = Clock::now();
            {
                auto st = store::Store::open(db);
                const auto t1 = Clock::now();
                st.importDataset(ds);
                const auto t2 = Clock::now();
                create.push_back(seconds(t0, t1));
                import.push_back(seconds(t1, t2));
            } // close: checkpoint the WAL into the database file
            total.push_back(seconds(t0, Clock::now()));
            dbBytes = fs::file_size(db);
        }
        fs::remove_all(dir);

        std::printf("bench_store: import of %s into a fresh workspace\n", dataset.filename().c_str());
        std::printf("  %zu documents, %zu boundaries, %.1f MB of text; %d runs, median\n\n", ds.documents.size(),
                    boundaries, bytes / 1e6, runs);
        std::printf("  %-40s %10s\n", "step", "seconds");
        std::printf("  %-40s %10.3f\n", "load JSONL (loadDataset)", median(load));
        std::printf("  %-40s %10.3f\n", "create workspace (open, schema)", median(create));
        std::printf("  %-40s %10.3f\n", "importDataset (one transaction)", median(import));
        std::printf("  %-40s %10.3f\n", "create + import + close", median(total));
        std::printf("  %-40s %10.3f\n", "load + create + import + close", median(load) + median(total));
        std::printf("\n  database file: %.1f MB; %.0f documents/s imported\n", dbBytes / 1e6,
                    ds.documents.size() / median(import));
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "bench_store: error: %s\n", e.what());
        return 1;
    }
}
