// bench_agreement: agreement between three annotators on shared/data/segdev.jsonl (280
// documents), as `blocklens-cli agreement` computes it (target: under 1 s).
//
// Setup (not timed): the dataset is imported into a fresh workspace in a temporary directory and
// every document gets three manual versions made from its reference boundaries: "ann" keeps them,
// "bob" moves every 5th one line down (near misses), "cy" drops every 7th and adds one in the
// middle of every 4th block. Timed, median of the runs after two warm-ups: opening the workspace
// read-only (with its quick_check), loading the versions and texts, and measuring every level;
// and the measuring alone.
//
//   bench_agreement [DATASET.jsonl] [RUNS]      defaults: shared/data/segdev.jsonl, 9
#include "analysis/annotator_agreement.hpp"
#include "bench_harness.hpp"
#include "document/dataset.hpp"
#include "segment/metrics.hpp"
#include "store/store.hpp"

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <unistd.h>

using namespace blocklens;
namespace fs = std::filesystem;

namespace {

// The version of one annotator, built on the reference's lines (see the header comment).
std::vector<Boundary> variant(const Document& doc, int annotator)
{
    const auto starts = doc.lineStarts();
    std::map<std::size_t, int> lines; // line -> level
    std::size_t previous = 0, i = 0;
    for (const auto& b : doc.reference()) {
        const std::size_t offset = b.offset;
        const auto found = segment::boundaryLines(starts, std::span<const std::size_t>(&offset, 1));
        if (found.empty())
            continue;
        std::size_t line = found.front();
        ++i;
        if (annotator == 1 && i % 5 == 0 && line + 1 < starts.size())
            ++line;
        if (annotator == 2 && i % 7 == 0)
            continue;
        if (annotator == 2 && i % 4 == 0 && line - previous >= 4)
            lines.emplace((previous + line) / 2, b.level);
        lines.emplace(line, b.level);
        previous = line;
    }
    std::vector<Boundary> out;
    for (const auto& [line, level] : lines)
        if (line > 0 && starts[line] < doc.length())
            out.push_back({starts[line], level});
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    const fs::path dataset = argc > 1 ? fs::path(argv[1]) : fs::path(BLOCKLENS_SOURCE_DIR "/../shared/data/segdev.jsonl");
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 9;
    const fs::path dir = fs::temp_directory_path() / ("bench_agreement-" + std::to_string(getpid()));
    try {
        fs::create_directories(dir);
        const fs::path db = dir / "workspace.db";
        const Dataset ds = loadDataset(dataset);
        std::size_t boundaries = 0, lines = 0;
        {
            auto st = store::Store::open(db);
            store::ImportOptions o;
            o.name = "dev";
            const auto rows = st.datasetRows(st.importDataset(ds, o).datasetId);
            store::Store::Batch batch(st);
            for (std::size_t r = 0; r < rows.size(); ++r) {
                const Document& doc = ds.documents[r];
                lines += doc.lineStarts().size();
                for (int a = 0; a < 3; ++a) {
                    auto b = variant(doc, a);
                    boundaries += b.size();
                    st.addSegmentation({rows[r].documentId, "manual", "{}", a == 0 ? "ann" : a == 1 ? "bob" : "cy",
                                        std::nullopt, std::move(b)});
                }
            }
            batch.commit();
        }
        analysis::DatasetAgreement result;
        const auto whole = bench::measure(runs, [&] {
            store::OpenOptions o;
            o.mode = store::OpenMode::ReadOnly;
            auto st = store::Store::open(db, o);
            result = analysis::measureAgreement(analysis::loadAnnotatorVersions(st, "dev"));
        });
        std::vector<analysis::AnnotatedDocument> docs;
        {
            store::OpenOptions o;
            o.mode = store::OpenMode::ReadOnly;
            auto st = store::Store::open(db, o);
            docs = analysis::loadAnnotatorVersions(st, "dev");
        }
        const auto measureOnly = bench::measure(runs, [&] { result = analysis::measureAgreement(docs); });
        std::printf("dataset %s: %zu documents, %zu lines, 3 annotators, %zu boundaries in all versions\n",
                    dataset.string().c_str(), ds.documents.size(), lines, boundaries);
        std::printf("levels measured: %zu (1..deepest, then types); compared documents: %zu\n", result.levels.size(),
                    result.compared);
        for (const auto& l : result.levels)
            std::printf("  level %-5s pi(B) %.4f  kappa(B) %.4f  mean B %.4f  mean S %.4f\n",
                        l.level == 0 ? "types" : std::to_string(l.level).c_str(), l.byB.pi, l.byB.kappa, l.meanB, l.meanS);
        std::printf("%-48s %10s %10s\n", "step", "median ms", "min ms");
        std::printf("%-48s %10.1f %10.1f\n", "open + load versions + measure (as the CLI)", whole.median, whole.min);
        std::printf("%-48s %10.1f %10.1f\n", "measure only (every level)", measureOnly.median, measureOnly.min);
        std::printf("target: open + load + measure under 1000 ms: %s\n", whole.median < 1000 ? "met" : "NOT met");
    } catch (const Error& e) {
        std::fprintf(stderr, "bench_agreement: %s\n", e.what());
        fs::remove_all(dir);
        return 1;
    }
    fs::remove_all(dir);
    return 0;
}
