// The built-in segmenters. Their defaults were chosen on shared/data/segdev.jsonl with the
// `eval` command (docs/benchmarks.md has the figures); every cue they use is generic (shapes of
// lines, blank-line gaps, indentation, definition keywords, lexical cohesion), never a string
// specific to a source in that set.
#include "usecases/segmenters.hpp"

#include "learn/learned_scorer.hpp"
#if BLOCKLENS_WITH_TORCH
#include "learn/cut_marker_builtin.hpp"
#endif
#include "segment/structural_scorer.hpp"
#include "segment/texttiling_scorer.hpp"
#include "util/error.hpp"

namespace blocklens::segment {
namespace {

std::vector<Segmenter> makeBuiltins()
{
    std::vector<Segmenter> out;

    SegmenterSpec fixed;
    fixed.name = "fixed";
    fixed.summary = "fixed-size windows of target-tokens tokens (baseline)";
    fixed.freeDecoder = DecoderKind::Even;
    out.emplace_back(fixed);

    SegmenterSpec recursive;
    recursive.name = "recursive";
    recursive.summary = "recursive separators (paragraph, line, sentence) packed into chunks of at most target-tokens (baseline)";
    recursive.rules = Rule::Paragraph | Rule::Line | Rule::Sentence;
    recursive.scorer = std::make_shared<SeparatorScorer>();
    recursive.freeDecoder = DecoderKind::Recursive;
    out.emplace_back(recursive);

    SegmenterSpec paragraphs;
    paragraphs.name = "paragraphs";
    paragraphs.summary = "blank-line paragraph breaks, all equal; sizes decide (baseline)";
    paragraphs.rules = static_cast<RuleSet>(Rule::Paragraph);
    paragraphs.scorer = std::make_shared<UniformScorer>();
    paragraphs.freeDecoder = DecoderKind::Dp;
    out.emplace_back(paragraphs);

    auto structuralScorer = std::make_shared<StructuralScorer>();
    SegmenterSpec structural;
    structural.name = "structural";
    structural.summary = "structural heuristics: headings, numbering, definitions, rare blank-line gaps, indentation";
    structural.rules = Rule::Line | Rule::Heading | Rule::Code;
    structural.scorer = structuralScorer;
    structural.freeDecoder = DecoderKind::Threshold;
    structural.threshold = 0.8;
    structural.depth = 2;
    structural.targetTokens = 1024;
    // A comment line or "namespace x {" alone is no block (issue 15: util.py gave ten one-token
    // "#" blocks): below this size a block joins its neighbour.
    structural.minTokens = kDefaultMinTokens;
    out.emplace_back(structural);

    SegmenterSpec texttiling;
    texttiling.name = "texttiling";
    texttiling.summary = "TextTiling (Hearst 1997): lexical-cohesion depth at paragraph breaks";
    texttiling.rules = Rule::Line | Rule::Paragraph;
    texttiling.scorer = std::make_shared<TextTilingScorer>(TextTilingParams{120, 20, 3, true});
    texttiling.freeDecoder = DecoderKind::Hearst;
    texttiling.depth = 2;
    texttiling.targetTokens = 1024;
    texttiling.minTokens = 8;
    out.emplace_back(texttiling);

    SegmenterSpec hybrid;
    hybrid.name = "hybrid";
    hybrid.summary = "structural heuristics plus TextTiling depth (weight 0.2): the best non-learned segmenter";
    hybrid.rules = Rule::Line | Rule::Heading | Rule::Code;
    hybrid.scorer = std::make_shared<WeightedSumScorer>(std::vector<WeightedSumScorer::Term>{
        {structuralScorer, 1.0, 0.0},
        {std::make_shared<TextTilingScorer>(TextTilingParams{120, 20, 3, false}), 0.2, 1.0}});
    hybrid.freeDecoder = DecoderKind::Threshold;
    hybrid.threshold = 0.8;
    hybrid.depth = 2;
    hybrid.targetTokens = 1024;
    hybrid.minTokens = kDefaultMinTokens;
    out.emplace_back(hybrid);

    // The learned segmenter (core/learn): its model is read from resources/segmenters/ on first use.
    out.emplace_back(learn::builtinLearnedSpec());
#if BLOCKLENS_WITH_TORCH
    // The paper's segmenter form with the checkpoint trained here (resources/segmenters/cut-markers/),
    // read on first use; it needs the engine, so a build without libtorch does not list it.
    out.emplace_back(learn::builtinCutMarkerSpec());
#endif

    SegmenterSpec regex;
    regex.name = "regex";
    regex.summary = "cut at every match of --regex PATTERN (PCRE2, multiline), like the paper's segmenter";
    regex.rules = static_cast<RuleSet>(Rule::Regex);
    regex.scorer = std::make_shared<UniformScorer>();
    regex.freeDecoder = DecoderKind::Threshold;
    regex.threshold = 0.5;
    regex.depth = 0;
    out.emplace_back(regex);
    return out;
}

} // namespace

std::span<const Segmenter> builtinSegmenters()
{
    static const std::vector<Segmenter> all = makeBuiltins();
    return all;
}

const Segmenter& findSegmenter(std::string_view name)
{
    std::string known;
    for (const auto& s : builtinSegmenters()) {
        if (s.name() == name)
            return s;
        known += (known.empty() ? "" : ", ") + s.name();
    }
    throw Error("unknown segmenter '" + std::string(name) + "' (known: " + known + ")");
}

} // namespace blocklens::segment
