#include "segment/segmenter.hpp"

#include "segment/texttiling_scorer.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cmath>

namespace blocklens::segment {

Granularity Granularity::target(std::size_t tokens)
{
    Granularity g;
    g.mode = GranularityMode::TargetTokens;
    g.targetTokens = tokens;
    return g;
}

Granularity Granularity::exactBlocks(std::size_t n)
{
    Granularity g;
    g.mode = GranularityMode::Blocks;
    g.blocks = n;
    return g;
}

Granularity Granularity::thresholdDepth(double threshold, int depth)
{
    Granularity g;
    g.mode = GranularityMode::Threshold;
    g.threshold = threshold;
    g.depth = depth;
    return g;
}

namespace {

std::string_view decoderName(DecoderKind k)
{
    switch (k) {
    case DecoderKind::Threshold: return "threshold";
    case DecoderKind::Hearst: return "threshold (TextTiling cutoff: mean - sd/2)";
    case DecoderKind::Dp: return "dynamic program (target size)";
    case DecoderKind::Even: return "fixed-size";
    case DecoderKind::Recursive: return "recursive separators";
    }
    return "?";
}

} // namespace

std::vector<ParamInfo> Segmenter::parameters() const
{
    std::vector<ParamInfo> p;
    p.push_back({"candidates", spec_.rules ? rulesToString(spec_.rules) : "token starts", "where a block may start"});
    p.push_back({"scorer", spec_.scorer ? spec_.scorer->name() : "none", "how candidates are rated"});
    if (spec_.scorer)
        for (const auto& [k, v] : spec_.scorer->params())
            p.push_back({"scorer." + k, v, ""});
    p.push_back({"decoder", std::string(decoderName(spec_.freeDecoder)), "what it does without --target-tokens/--blocks/--threshold"});
    switch (spec_.freeDecoder) {
    case DecoderKind::Threshold:
        p.push_back({"threshold", formatNumber(spec_.threshold), "cut where the score is at least this"});
        [[fallthrough]];
    case DecoderKind::Hearst:
        p.push_back({"depth", std::to_string(spec_.depth), "times a block over target-tokens is split again at its best candidate"});
        p.push_back({"target-tokens", std::to_string(spec_.targetTokens), "blocks larger than this are refined"});
        break;
    case DecoderKind::Dp:
    case DecoderKind::Even:
    case DecoderKind::Recursive:
        p.push_back({"target-tokens", std::to_string(spec_.targetTokens),
                     spec_.freeDecoder == DecoderKind::Recursive ? "chunk size (never exceeded)" : "block size"});
        break;
    }
    p.push_back({"min-tokens", std::to_string(spec_.minTokens), "no smaller block by choice"});
    p.push_back({"max-tokens", std::to_string(spec_.maxTokens), "hard maximum, never exceeded"});
    if (spec_.scorer)
        p.push_back({"size-weight", formatNumber(spec_.sizeWeight), "dynamic program: weight of ((size - target) / target)^2"});
    return p;
}

Segmenter::Scored Segmenter::score(const Document& doc, const TokenGrid& grid, const SegmentOptions& options) const
{
    if (grid.textLength() != doc.length())
        throw Error("the token grid was built for a text of " + std::to_string(grid.textLength())
                    + " code points, the document has " + std::to_string(doc.length()));
    Scored out;
    RuleSet rules = spec_.rules;
    if (!options.regex.empty())
        rules |= Rule::Regex;
    if (rules == 0 || !spec_.scorer)
        return out;
    if (has(rules, Rule::Regex) && options.regex.empty())
        throw Error("segmenter '" + spec_.name + "' needs a pattern (--regex PATTERN)");
    const TextLayout layout(doc);
    const auto shapes = lineShapes(layout);
    out.candidates = findCandidates(layout, shapes, {rules, options.regex});
    const SegmentContext ctx{doc, layout, shapes, grid};
    out.scores = spec_.scorer->score(ctx, out.candidates);
    if (out.scores.size() != out.candidates.size())
        throw Error("scorer '" + spec_.scorer->name() + "' returned " + std::to_string(out.scores.size())
                    + " scores for " + std::to_string(out.candidates.size()) + " candidates");
    return out;
}

Segmentation Segmenter::segment(const Document& doc, const TokenGrid& grid, const SegmentOptions& options) const
{
    const Granularity& g = options.granularity;
    SizeLimits limits;
    limits.minTokens = std::max<std::size_t>(1, g.minTokens.value_or(spec_.minTokens));
    limits.maxTokens = g.maxTokens.value_or(spec_.maxTokens);
    if (limits.maxTokens == 0)
        throw Error("the maximum block size must be at least 1 token");
    if (!g.minTokens && limits.minTokens > limits.maxTokens)
        limits.minTokens = limits.maxTokens; // an explicit maximum wins over the default minimum
    if (!g.minTokens && g.mode == GranularityMode::Blocks)
        limits.minTokens = 1; // so does an explicit block count: "exactly N blocks" is what was asked
    if (limits.minTokens > limits.maxTokens)
        throw Error("the minimum block size (" + std::to_string(limits.minTokens) + ") exceeds the maximum ("
                    + std::to_string(limits.maxTokens) + ")");
    if (g.mode == GranularityMode::Blocks && g.blocks == 0)
        throw Error("the number of blocks must be at least 1");
    if (g.mode == GranularityMode::TargetTokens && g.targetTokens == 0)
        throw Error("the target block size must be at least 1 token");
    if (g.mode == GranularityMode::Threshold && (g.depth < 0 || !std::isfinite(g.threshold)))
        throw Error("the threshold must be a number and the depth at least 0");

    Provenance prov;
    prov.segmenter = spec_.name;
    prov.version = segmentVersionString();
    prov.tokenUnit = grid.unit();
    auto param = [&](std::string k, std::string v) { prov.parameters.emplace_back(std::move(k), std::move(v)); };

    const Scored scored = score(doc, grid, options);
    const ScoredCuts cuts = snapToGrid(scored.candidates, scored.scores, grid);
    if (spec_.rules)
        param("candidates", rulesToString(spec_.rules | (options.regex.empty() ? 0u : static_cast<RuleSet>(Rule::Regex))));
    if (!options.regex.empty())
        param("regex", options.regex);
    if (spec_.scorer) {
        param("scorer", spec_.scorer->name());
        for (const auto& [k, v] : spec_.scorer->params())
            param("scorer." + k, v);
    }

    std::vector<std::size_t> result;
    const bool scoreless = !spec_.scorer;
    auto dp = [&](std::size_t target, std::size_t blocks) {
        DpParams p;
        p.targetTokens = target;
        p.blocks = blocks;
        p.sizeWeight = blocks > 0 ? spec_.exactSizeWeight : spec_.sizeWeight;
        param("decoder", "dp");
        if (blocks > 0)
            param("blocks", std::to_string(blocks));
        else
            param("target_tokens", std::to_string(target));
        param("size_weight", formatNumber(p.sizeWeight));
        return decodeDp(cuts, grid, p, limits);
    };
    auto threshold = [&](double t, int depth, std::size_t splitAbove) {
        param("decoder", "threshold");
        param("threshold", formatNumber(t));
        param("depth", std::to_string(depth));
        param("split_above_tokens", std::to_string(splitAbove));
        return decodeThreshold(cuts, grid, {t, depth, splitAbove}, limits);
    };
    auto even = [&](std::size_t target, std::size_t blocks) {
        param("decoder", "fixed");
        param(blocks > 0 ? "blocks" : "target_tokens", std::to_string(blocks > 0 ? blocks : target));
        return decodeEven(grid, target, blocks, limits);
    };
    auto recursive = [&](std::size_t chunk) {
        param("decoder", "recursive");
        param("chunk_tokens", std::to_string(chunk));
        return decodeRecursive(cuts, grid, chunk, limits);
    };

    switch (g.mode) {
    case GranularityMode::Blocks:
        result = scoreless ? even(0, g.blocks) : dp(0, g.blocks);
        break;
    case GranularityMode::TargetTokens:
        result = scoreless ? even(g.targetTokens, 0)
            : spec_.freeDecoder == DecoderKind::Recursive ? recursive(g.targetTokens)
                                                          : dp(g.targetTokens, 0);
        break;
    case GranularityMode::Threshold:
        if (scoreless)
            throw Error("segmenter '" + spec_.name + "' has no scores to threshold; use --target-tokens or --blocks");
        result = threshold(g.threshold, g.depth, spec_.targetTokens);
        break;
    case GranularityMode::Default:
        switch (spec_.freeDecoder) {
        case DecoderKind::Even: result = even(spec_.targetTokens, 0); break;
        case DecoderKind::Recursive: result = recursive(spec_.targetTokens); break;
        case DecoderKind::Dp: result = dp(spec_.targetTokens, 0); break;
        case DecoderKind::Threshold: result = threshold(spec_.threshold, spec_.depth, spec_.targetTokens); break;
        case DecoderKind::Hearst: {
            std::vector<double> positive;
            for (double s : cuts.scores)
                if (s > 0)
                    positive.push_back(s);
            result = threshold(TextTilingScorer::hearstCutoff(positive), spec_.depth, spec_.targetTokens);
            break;
        }
        }
        break;
    }
    param("min_tokens", std::to_string(limits.minTokens));
    param("max_tokens", std::to_string(limits.maxTokens));
    // The minimum and the hard maximum, once more, whatever the decoder did.
    result = enforceSizeLimits(std::move(result), cuts, grid, limits);
    return makeSegmentation(grid, result, std::move(prov));
}

} // namespace blocklens::segment
