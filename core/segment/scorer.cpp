#include "segment/scorer.hpp"

#include <algorithm>
#include <sstream>

namespace blocklens::segment {

std::string formatNumber(double v); // segmentation.cpp

std::vector<double> SeparatorScorer::score(const SegmentContext& ctx, std::span<const Candidate> candidates) const
{
    std::vector<double> out;
    out.reserve(candidates.size());
    for (const auto& c : candidates) {
        const LineInfo& line = ctx.layout[c.line];
        const bool lineStart = c.offset == line.begin;
        double s = 0;
        if (lineStart && (line.blankBefore > 0 || has(c.rules, Rule::Heading) || has(c.rules, Rule::Code)))
            s = 3;
        else if (lineStart)
            s = 2;
        else if (has(c.rules, Rule::Sentence))
            s = 1;
        out.push_back(s);
    }
    return out;
}

std::string WeightedSumScorer::name() const
{
    std::string n;
    for (const auto& t : terms_)
        n += (n.empty() ? "" : "+") + t.scorer->name();
    return n;
}

Params WeightedSumScorer::params() const
{
    Params p;
    for (const auto& t : terms_) {
        const std::string prefix = t.scorer->name() + ".";
        p.emplace_back(prefix + "weight", formatNumber(t.weight));
        if (t.clampAt > 0)
            p.emplace_back(prefix + "cap", formatNumber(t.clampAt));
        for (const auto& [k, v] : t.scorer->params())
            p.emplace_back(prefix + k, v);
    }
    return p;
}

std::vector<double> WeightedSumScorer::score(const SegmentContext& ctx, std::span<const Candidate> candidates) const
{
    std::vector<double> sum(candidates.size(), 0.0);
    for (const auto& t : terms_) {
        const auto s = t.scorer->score(ctx, candidates);
        for (std::size_t i = 0; i < s.size(); ++i)
            sum[i] += t.weight * (t.clampAt > 0 ? std::min(s[i], t.clampAt) : s[i]);
    }
    return sum;
}

} // namespace blocklens::segment
