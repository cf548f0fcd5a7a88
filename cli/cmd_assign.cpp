// blocklens-cli assign: split a dataset among annotators, with a share of rows done twice for
// agreement (core/campaign/assignment), stored in the workspace; or show the plan, or an
// annotator's next row.
#include "campaign/assignment.hpp"
#include "cli/command.hpp"
#include "cli/input.hpp"
#include "cli/json_output.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <map>
#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

struct Counts {
    std::map<std::string, std::size_t> rows;   // per annotator
    std::map<std::string, std::size_t> shared; // "a / b" -> rows both have
    std::size_t sharedRows = 0;
};

Counts countPlan(const store::AssignmentPlan& plan)
{
    Counts c;
    for (const auto& who : plan.annotators)
        c.rows[who] = 0;
    for (const auto& row : plan.rows) {
        for (const auto& who : row)
            ++c.rows[who];
        if (row.size() > 1)
            ++c.sharedRows;
        for (std::size_t i = 0; i < row.size(); ++i)
            for (std::size_t j = i + 1; j < row.size(); ++j)
                ++c.shared[row[i] + " / " + row[j]];
    }
    return c;
}

json planJson(const std::string& dataset, const store::AssignmentPlan& plan, bool withRows)
{
    const Counts c = countPlan(plan);
    json j;
    j["dataset"] = dataset;
    j["annotators"] = plan.annotators;
    j["overlap"] = plan.overlap;
    j["seed"] = plan.seed;
    j["created_by"] = plan.createdBy;
    j["created_at"] = plan.createdAt;
    j["rows"] = plan.rows.size();
    j["shared_rows"] = c.sharedRows;
    j["per_annotator"] = c.rows;
    j["per_pair"] = c.shared;
    if (withRows)
        j["assignments"] = plan.rows;
    return j;
}

void printPlan(std::ostream& out, const std::string& dataset, const store::AssignmentPlan& plan)
{
    const Counts c = countPlan(plan);
    out << "dataset '" << dataset << "': " << plan.rows.size() << " rows for " << plan.annotators.size()
        << " annotators, " << c.sharedRows << " of them shared by two (overlap " << plan.overlap << ", seed " << plan.seed
        << ")\n";
    for (const auto& who : plan.annotators)
        out << "  " << who << ": " << c.rows.at(who) << " rows\n";
    for (const auto& [pair, n] : c.shared)
        out << "  shared by " << pair << ": " << n << " rows\n";
}

store::Id datasetId(store::Store& st, const std::string& name)
{
    const auto id = st.findDataset(name);
    if (!id)
        throw Error("no dataset named '" + name + "' in this workspace (list them with 'blocklens-cli db export --query datasets')",
                    {.file = st.path().string()});
    return *id;
}

} // namespace

Command assignCommand()
{
    ArgSpec spec("--dataset NAME|ID (--annotators a,b,c [--overlap F] [--seed N] [--replace] | --show | --next NAME) "
                 "[--db PATH] [--json]",
                 "Split a dataset among annotators, a share of its rows given to two of them for agreement, and store "
                 "the plan in the workspace; --show prints the stored plan, --next an annotator's next row.");
    spec.option("db", "PATH", "workspace database file (default: $BLOCKLENS_DB, else the user's data directory)")
        .option("dataset", "NAME|ID", "the dataset to split")
        .option("annotators", "a,b,c", "the annotators' names, separated by commas")
        .option("overlap", "F", "share of rows (0..1) given to two annotators", "0.2")
        .option("seed", "N", "seed of the random choice of shared rows (same seed, same plan)", "1")
        .flag("replace", "replace the dataset's stored plan (the annotators' versions are kept)")
        .flag("show", "print the stored plan")
        .option("next", "NAME", "the first row assigned to NAME that NAME has not yet marked reviewed")
        .flag("json", "print JSON (with --show: every row's annotators)");
    return {"assign", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (!a.has("dataset"))
                    throw UsageError{"assign needs --dataset NAME|ID"};
                const int modes = int(a.has("annotators")) + int(a.flag("show")) + int(a.has("next"));
                if (modes != 1)
                    throw UsageError{"assign needs exactly one of --annotators a,b,c, --show or --next NAME"};
                const std::string name = a.value("dataset");
                if (a.flag("show") || a.has("next")) {
                    auto st = openWorkspace(a, store::OpenMode::ReadOnly);
                    const store::Id id = datasetId(st, name);
                    if (a.has("next")) {
                        const auto row = st.nextAssignedRow(id, a.value("next"));
                        if (a.flag("json")) {
                            json j;
                            j["dataset"] = name;
                            j["annotator"] = a.value("next");
                            j["row"] = row ? json(*row) : json(nullptr);
                            io.out << jsonText(j) << "\n";
                        } else if (row) {
                            io.out << *row << "\n";
                        } else {
                            io.out << "nothing left for " << a.value("next") << " in '" << name << "'\n";
                        }
                        return 0;
                    }
                    const auto plan = st.assignmentPlan(id);
                    if (!plan)
                        throw Error("dataset '" + name + "' has no assignment (make one with --annotators a,b,c)",
                                    {.file = st.path().string()});
                    if (a.flag("json"))
                        io.out << jsonText(planJson(name, *plan, true)) << "\n";
                    else
                        printPlan(io.out, name, *plan);
                    return 0;
                }
                campaign::AssignmentRequest request;
                request.annotators = campaign::parseAnnotatorList(a.value("annotators"));
                request.overlap = a.number("overlap");
                const auto seed = a.integer("seed");
                if (seed < 0)
                    throw UsageError{"--seed must be 0 or more"};
                request.seed = static_cast<std::uint64_t>(seed);
                auto st = openWorkspace(a, store::OpenMode::Existing);
                const store::Id id = datasetId(st, name);
                request.rows = st.datasetRows(id).size();
                const auto result = campaign::planAssignment(request);
                store::AssignmentPlan plan;
                plan.annotators = request.annotators;
                plan.overlap = request.overlap;
                plan.seed = request.seed;
                if (const char* user = std::getenv("USER"))
                    plan.createdBy = user;
                plan.rows = result.rows;
                st.setAssignmentPlan(id, plan, a.flag("replace"));
                const auto stored = *st.assignmentPlan(id);
                if (a.flag("json"))
                    io.out << jsonText(planJson(name, stored, false)) << "\n";
                else
                    printPlan(io.out, name, stored);
                return 0;
            }};
}

} // namespace blocklens::cli
