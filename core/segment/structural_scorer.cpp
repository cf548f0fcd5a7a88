#include "segment/structural_scorer.hpp"

#include <algorithm>
#include <map>

namespace blocklens::segment {

std::string formatNumber(double v); // segmentation.cpp

Params StructuralScorer::params() const
{
    return {{"rare_gap", formatNumber(w_.rareGap)},
            {"any_gap", formatNumber(w_.anyGap)},
            {"isolated_short", formatNumber(w_.isolatedShort)},
            {"body_factor", formatNumber(w_.bodyFactor)}};
}

double StructuralScorer::headingStrength(const SegmentContext& ctx, std::size_t line) const
{
    const LineInfo& info = ctx.layout[line];
    const LineShape& s = ctx.shapes[line];
    if (info.blank || info.fence)
        return 0.0;
    double h = 0.0;
    if (s.atxLevel > 0)
        h = std::max(h, w_.atx - w_.atxStep * (s.atxLevel - 1));
    if (s.setext)
        h = std::max(h, w_.setext);
    const bool unpunctuated = !s.terminalPunct;
    if (s.numbering >= 2 && info.width <= w_.numberedWidth && unpunctuated)
        h = std::max(h, w_.numbered - w_.numberedStep * (s.numbering - 1));
    if (s.numbering == 1 && info.width <= w_.numberedWidth && unpunctuated)
        h = std::max(h, w_.numberedSingle);
    const bool isolated = isIsolated(ctx.layout, line);
    if (s.allCaps && isolated && info.width <= w_.shortWidth)
        h = std::max(h, w_.caps);
    if (s.definitionIndent >= 0)
        h = std::max(h, s.definitionIndent == 0 ? w_.definitionTop
                        : s.definitionIndent <= 4 ? w_.definitionNested
                                                  : w_.definitionDeep);
    if (isolated && unpunctuated && info.width <= w_.shortWidth)
        h = std::max(h, w_.isolatedShort);
    // Column 0 right after a closing brace (or "end") at column 0: the next top-level construct
    // of a braced language (C, C++, Java, JS, Go, Rust ...), whose definitions have no keyword.
    if (info.indent == 0 && line > 0) {
        const std::size_t above = ctx.layout.previousNonBlank(line);
        if (above != static_cast<std::size_t>(-1) && ctx.layout[above].indent == 0) {
            const std::string_view prev = ctx.layout.trimmed(above);
            const std::string_view self = ctx.layout.trimmed(line);
            if ((prev == "}" || prev == "};" || prev == "end") && !self.starts_with("}"))
                h = std::max(h, w_.topLevel);
        }
    }
    return h;
}

std::vector<double> StructuralScorer::lineScores(const SegmentContext& ctx) const
{
    const TextLayout& layout = ctx.layout;
    const std::size_t n = layout.size();

    // Share of non-blank lines (below a gap) whose gap is at least g, for every gap size g.
    std::map<std::uint32_t, std::size_t> gapCounts;
    std::size_t gaps = 0;
    for (std::size_t i = 1; i < n; ++i)
        if (!layout[i].blank && layout[i].blankBefore > 0) {
            ++gapCounts[layout[i].blankBefore];
            ++gaps;
        }
    std::map<std::uint32_t, double> atLeast;
    std::size_t acc = 0;
    for (auto it = gapCounts.rbegin(); it != gapCounts.rend(); ++it) {
        acc += it->second;
        atLeast[it->first] = static_cast<double>(acc) / static_cast<double>(gaps);
    }
    auto gapScore = [&](std::uint32_t g) {
        return g == 0 ? 0.0 : w_.rareGap * (1.0 - atLeast[g]) + w_.anyGap;
    };

    std::vector<double> heading(n, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        heading[i] = headingStrength(ctx, i);

    std::vector<double> score(n, 0.0);
    for (std::size_t i = 1; i < n; ++i) {
        const LineInfo& line = layout[i];
        if (line.blank)
            continue;
        double s = heading[i] + gapScore(line.blankBefore);
        if (line.fence)
            s *= w_.fenceFactor;
        // The first line under a heading belongs to the heading's block.
        const std::size_t above = layout.previousNonBlank(i);
        if (above != static_cast<std::size_t>(-1) && heading[above] >= 0.4 && !layout[above].fence
            && heading[above] > heading[i])
            s *= w_.bodyFactor;
        score[i] = s;
    }
    // Comments and decorators directly above a definition open its block.
    for (std::size_t i = 1; i < n; ++i) {
        if (ctx.shapes[i].definitionIndent < 0 || layout[i].fence)
            continue;
        std::size_t start = i;
        while (start > 0 && !layout[start - 1].blank && ctx.shapes[start - 1].attachable
               && layout[start - 1].indent == layout[i].indent && ctx.shapes[start - 1].definitionIndent < 0)
            --start;
        if (start < i && start > 0) {
            score[start] = std::max(score[start], heading[i] + gapScore(layout[start].blankBefore));
            score[i] *= w_.attachedFactor;
        }
    }
    return score;
}

std::vector<double> StructuralScorer::score(const SegmentContext& ctx, std::span<const Candidate> candidates) const
{
    const auto lines = lineScores(ctx);
    std::vector<double> out;
    out.reserve(candidates.size());
    for (const auto& c : candidates)
        out.push_back(c.offset == ctx.layout[c.line].begin ? lines[c.line] : w_.inlineScore);
    return out;
}

} // namespace blocklens::segment
