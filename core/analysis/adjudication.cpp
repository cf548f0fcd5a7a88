#include "analysis/adjudication.hpp"

#include "store/store.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace blocklens::analysis {

std::vector<Boundary> AdjudicationPlan::majority() const
{
    std::vector<Boundary> out;
    for (const auto& b : boundaries)
        if (b.majority)
            out.push_back({b.offset, b.level});
    return out;
}

std::vector<std::size_t> AdjudicationPlan::contested() const
{
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < boundaries.size(); ++i)
        if (boundaries[i].contested)
            out.push_back(i);
    return out;
}

AdjudicationPlan planAdjudication(const std::vector<AnnotatorVersion>& versions)
{
    if (versions.size() < 2)
        throw Error("adjudication needs the versions of two or more annotators, not " + std::to_string(versions.size()));
    AdjudicationPlan plan;
    struct Marks {
        std::vector<std::string> annotators;
        std::map<int, std::size_t> levels; // level -> how many gave it
    };
    std::map<std::size_t, Marks> byOffset;
    for (const auto& v : versions) {
        if (std::find(plan.annotators.begin(), plan.annotators.end(), v.annotator) != plan.annotators.end())
            throw Error("annotator '" + v.annotator + "' has two versions in one adjudication; keep one per annotator");
        plan.annotators.push_back(v.annotator);
        for (const auto& b : v.boundaries) {
            auto& m = byOffset[b.offset];
            if (m.annotators.empty() || m.annotators.back() != v.annotator) {
                m.annotators.push_back(v.annotator);
                ++m.levels[b.level];
            }
        }
    }
    const std::size_t n = versions.size();
    for (auto& [offset, m] : byOffset) {
        BoundaryVotes votes;
        votes.offset = offset;
        std::size_t best = 0;
        for (const auto& [level, count] : m.levels) // ascending level: a tie keeps the coarser
            if (count > best) {
                best = count;
                votes.level = level;
            }
        votes.majority = 2 * m.annotators.size() > n;
        votes.contested = m.annotators.size() < n || m.levels.size() > 1;
        votes.annotators = std::move(m.annotators);
        plan.boundaries.push_back(std::move(votes));
    }
    return plan;
}

std::optional<bool> verdictAt(const std::vector<store::AdjudicationDecision>& decisions, std::size_t offset)
{
    std::optional<bool> verdict;
    for (const auto& d : decisions)
        if (!d.undone && d.boundary.offset == offset)
            verdict = d.accepted;
    return verdict;
}

std::vector<Boundary> applyDecisions(std::vector<Boundary> bs, const std::vector<store::AdjudicationDecision>& decisions)
{
    for (const auto& d : decisions) {
        if (d.undone)
            continue;
        const auto at = std::lower_bound(bs.begin(), bs.end(), d.boundary.offset,
                                         [](const Boundary& x, std::size_t offset) { return x.offset < offset; });
        const bool present = at != bs.end() && at->offset == d.boundary.offset;
        if (d.accepted && present)
            at->level = d.boundary.level;
        else if (d.accepted)
            bs.insert(at, d.boundary);
        else if (present)
            bs.erase(at);
    }
    return bs;
}

std::int64_t openAdjudicatedVersion(store::Store& store, std::int64_t documentId, const AdjudicationPlan& plan,
                                    const std::string& reviewer)
{
    if (const auto existing = store.latestAdjudicated(documentId))
        return *existing;
    store::NewSegmentation s;
    s.documentId = documentId;
    s.segmenter = "adjudicated";
    s.params = nlohmann::json{{"annotators", plan.annotators}, {"start", "majority"}}.dump();
    s.author = reviewer;
    s.boundaries = plan.majority();
    return store.addSegmentation(s);
}

} // namespace blocklens::analysis
