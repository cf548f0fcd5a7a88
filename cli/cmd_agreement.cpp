// blocklens-cli agreement: how far a dataset's annotators agree (core/analysis/annotator_agreement).
#include "analysis/annotator_agreement.hpp"
#include "cli/command.hpp"
#include "cli/input.hpp"
#include "cli/json_output.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;
using namespace blocklens::analysis;

json number(double v) { return std::isnan(v) ? json(nullptr) : json(v); }
json number(const std::optional<double>& v) { return v ? number(*v) : json(nullptr); }

std::string fixed(double v)
{
    if (std::isnan(v))
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", v);
    return buf;
}
std::string fixed(const std::optional<double>& v) { return v ? fixed(*v) : "-"; }

std::string levelName(int level) { return level == 0 ? "types" : std::to_string(level); }

json coefficientsJson(const ChanceCorrected& c)
{
    return {{"actual", number(c.actual)},   {"pi", number(c.pi)},
            {"kappa", number(c.kappa)},     {"expected_pi", number(c.expectedPi)},
            {"expected_kappa", number(c.expectedKappa)}, {"bias", number(c.bias())},
            {"items", c.items},             {"pairs", c.pairs}};
}

json measuresJson(const PairMeasures& m)
{
    return {{"b", m.b},
            {"s", m.s},
            {"edit_distance", m.editDistance},
            {"additions", m.additions},
            {"substitutions", m.substitutions},
            {"transpositions", m.transpositions},
            {"matches", m.matches},
            {"pk", number(m.pk)},
            {"windowdiff", number(m.windowDiff)}};
}

json levelJson(const LevelAgreement& l)
{
    json j;
    j["level"] = levelName(l.level);
    j["b"] = coefficientsJson(l.byB);
    j["s"] = coefficientsJson(l.byS);
    j["mean_b"] = l.meanB;
    j["mean_s"] = l.meanS;
    j["pk"] = number(l.pk);
    j["windowdiff"] = number(l.windowDiff);
    json pairs = json::array();
    for (const auto& p : l.pairs)
        pairs.push_back({{"annotator_a", p.a},
                         {"annotator_b", p.b},
                         {"documents", p.documents},
                         {"mean_b", p.meanB},
                         {"mean_s", p.meanS},
                         {"pi_b", number(p.byB.pi)},
                         {"kappa_b", number(p.byB.kappa)},
                         {"edit_distance", p.editDistance},
                         {"additions", p.additions},
                         {"substitutions", p.substitutions},
                         {"transpositions", p.transpositions},
                         {"matches", p.matches},
                         {"pk", number(p.pk)},
                         {"windowdiff", number(p.windowDiff)}});
    j["pairs"] = std::move(pairs);
    json docs = json::array();
    for (const auto& d : l.documents) {
        json pairsOfDoc = json::array();
        for (const auto& p : d.pairs) {
            json m = {{"annotator_a", p.a}, {"annotator_b", p.b}};
            m.update(measuresJson(p.measures));
            pairsOfDoc.push_back(std::move(m));
        }
        docs.push_back({{"id", d.id},
                        {"row", d.row},
                        {"annotators", d.annotators},
                        {"mean_b", d.meanB},
                        {"mean_s", d.meanS},
                        {"pi_b", number(d.byB.pi)},
                        {"pairs", std::move(pairsOfDoc)}});
    }
    j["documents"] = std::move(docs);
    json queue = json::array();
    for (std::size_t i : disagreementQueue(l))
        queue.push_back(l.documents[i].row);
    j["queue"] = std::move(queue); // rows, most disagreed first
    return j;
}

void printText(std::ostream& out, const std::string& dataset, const DatasetAgreement& r, bool documents)
{
    out << "dataset '" << dataset << "': " << r.documents << " rows; " << r.compared << " compared (two or more annotators), "
        << r.singleAnnotator << " left out with one annotator, " << r.unannotated << " with none\n";
    out << "annotators: ";
    for (std::size_t i = 0; i < r.annotators.size(); ++i)
        out << (i ? ", " : "") << r.annotators[i];
    out << (r.annotators.empty() ? "(none)\n" : "\n");
    for (const auto& l : r.levels) {
        out << "\nlevel " << levelName(l.level)
            << (l.level == 0 ? " (every boundary, its level as its type)" : " (boundaries of level <= " + levelName(l.level) + ")")
            << "\n";
        out << "  pi(B) " << fixed(l.byB.pi) << "  kappa(B) " << fixed(l.byB.kappa) << "  pi(S) " << fixed(l.byS.pi)
            << "  kappa(S) " << fixed(l.byS.kappa) << "  bias " << fixed(l.byB.bias()) << "\n";
        out << "  mean B " << fixed(l.meanB) << "  mean S " << fixed(l.meanS) << "  Pk " << fixed(l.pk) << "  WindowDiff "
            << fixed(l.windowDiff) << "\n";
        if (l.pairs.empty())
            continue;
        out << "  pair                      docs  B       S       pi(B)   Pk      WD      add  sub  near\n";
        for (const auto& p : l.pairs) {
            std::string name = p.a + " / " + p.b;
            if (name.size() < 24)
                name.resize(24, ' ');
            char line[256];
            std::snprintf(line, sizeof line, "  %s  %4zu  %-6s  %-6s  %-6s  %-6s  %-6s  %4zu %4zu %4zu\n", name.c_str(),
                          p.documents, fixed(p.meanB).c_str(), fixed(p.meanS).c_str(), fixed(p.byB.pi).c_str(),
                          fixed(p.pk).c_str(), fixed(p.windowDiff).c_str(), p.additions, p.substitutions, p.transpositions);
            out << line;
        }
        if (!documents)
            continue;
        out << "  most disagreed first:\n";
        out << "  row   document              annotators  B       S\n";
        for (std::size_t i : disagreementQueue(l)) {
            const auto& d = l.documents[i];
            std::string id = d.id;
            if (id.size() < 20)
                id.resize(20, ' ');
            char line[256];
            std::snprintf(line, sizeof line, "  %-5zu %s  %10zu  %-6s  %-6s\n", d.row, id.c_str(), d.annotators.size(),
                          fixed(d.meanB).c_str(), fixed(d.meanS).c_str());
            out << line;
        }
    }
}

} // namespace

Command agreementCommand()
{
    ArgSpec spec("--dataset NAME|ID [--db PATH] [--level L] [--near-miss N] [--documents] [--json]",
                 "Agreement between the annotators of a dataset: segeval's boundary similarity B, segmentation "
                 "similarity S, boundary edit distance, Fleiss' pi and kappa on B and S, and Pk / WindowDiff between "
                 "each pair, per level; documents with one annotator are left out and counted.");
    spec.option("db", "PATH", "workspace database file (default: $BLOCKLENS_DB, else the user's data directory)")
        .option("dataset", "NAME|ID", "the dataset whose annotators to compare")
        .option("level", "L", "only level L (1..9: boundaries of level <= L), or 'types' (levels as boundary types); "
                              "default: every level used, then 'types'")
        .option("near-miss", "N", "longest near miss (transposition) in lines + 1, segeval's n_t", "2")
        .flag("documents", "also list every compared document, most disagreed first (in --json: \"documents\" in "
                           "row order and \"queue\", their rows most disagreed first)")
        .flag("json", "print JSON");
    return {"agreement", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (!a.has("dataset"))
                    throw UsageError{"agreement needs --dataset NAME|ID"};
                AgreementOptions options;
                if (a.has("level")) {
                    const std::string level = a.value("level");
                    if (level == "types")
                        options.levels = {0};
                    else {
                        const auto l = a.integer("level");
                        if (l < 1 || l > 9)
                            throw UsageError{"--level must be 1..9 or 'types', not '" + level + "'"};
                        options.levels = {static_cast<int>(l)};
                    }
                }
                const auto span = a.integer("near-miss");
                if (span < 2)
                    throw UsageError{"--near-miss must be 2 or more (2: boundaries on neighbouring lines are near misses)"};
                options.transpositionSpan = static_cast<std::size_t>(span);
                auto st = openWorkspace(a, store::OpenMode::ReadOnly);
                const auto documents = loadAnnotatorVersions(st, a.value("dataset"));
                const auto r = measureAgreement(documents, options);
                if (a.flag("json")) {
                    json j;
                    j["db"] = st.path().string();
                    j["dataset"] = a.value("dataset");
                    j["near_miss"] = options.transpositionSpan;
                    j["documents"] = r.documents;
                    j["compared"] = r.compared;
                    j["single_annotator"] = r.singleAnnotator;
                    j["unannotated"] = r.unannotated;
                    j["annotators"] = r.annotators;
                    json levels = json::array();
                    for (const auto& l : r.levels)
                        levels.push_back(levelJson(l));
                    j["levels"] = std::move(levels);
                    io.out << jsonText(j) << "\n";
                } else {
                    printText(io.out, a.value("dataset"), r, a.flag("documents"));
                }
                return 0;
            }};
}

} // namespace blocklens::cli
