#pragma once
// Features of a boundary candidate for the learned segmenter: one row of numbers per candidate,
// computed from the same per-document context every scorer gets (segment::SegmentContext).
//
// Every feature is a generic cue (no string of any particular document source appears here):
//  - line shape of the candidate line and its neighbours: Markdown/setext headings (and the
//    heading level relative to the coarsest one in the document, and how many deeper atx levels
//    the document uses below it), section numbers, capitalised
//    lines, definitions in code and the comments above them, indentation and its change, width
//    relative to the document's typical line, the first character's class, closing punctuation of
//    the previous line, blank-line gaps before and after (also how rare that gap is in the
//    document), code fences (the opening line apart from the lines inside), and the structural
//    scorer's own heading strength and score;
//  - lexical cohesion: cosine of tf-idf word vectors of the W words before and after the
//    candidate for several W (raw, z-scored within the document, and TextTiling depth), and the
//    rate of words never seen before in the document just after the candidate versus before;
//  - style shift: how much line width, indentation and the shares of digits, capitals and
//    punctuation change between the lines just before and just after the candidate;
//  - relative position in the document and a few whole-document shares (blank lines, headings,
//    definition lines of source code, lines in Markdown code fences) so the small model can weigh
//    cues per kind of document.
//
// Values are finite (never NaN/inf) and deterministic; the cost is linear in the text length
// plus the number of candidates. Candidates that do not start a line get the features of their
// line with `inline` = 1.
#include "segment/scorer.hpp"

#include <memory>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::learn {

// Row-major [rows, cols] matrix of float32 feature values.
struct FeatureMatrix {
    std::size_t rows = 0, cols = 0;
    std::vector<float> values;
    float at(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
    const float* row(std::size_t r) const { return values.data() + r * cols; }
};

// The names of the columns computeFeatures() returns, in order (stable identifiers: a model file
// lists the names it was trained with and is matched by name).
std::span<const std::string_view> featureNames();

FeatureMatrix computeFeatures(const segment::SegmentContext& ctx, std::span<const segment::Candidate> candidates);

// A feature still computed so that models trained before it was replaced keep loading, but never
// used by new training (learn::trainModel): doc_code_share, which counted Markdown fence lines
// and source-code definitions as one share (replaced by doc_definition_share and doc_fence_share),
// fence, which was 1 on a code fence's opening line and on every line inside it alike (replaced
// by fence_open and fence_inside: the opening line may start a block, the others never), and
// atx_top, 1 for an atx heading at the document's smallest atx level: whether that level is a page
// title, a section or a `# comment` depends on the source's conventions (in the markdown fold,
// pages joined into one document start with `# Title`, a level every other source uses for
// comments and shell prompts only), so a model learned "top level = not a heading" (replaced by
// atx_levels_below).
bool isLegacyFeature(std::string_view name);

// ---- language-model features (optional; see learn/lm_features.cpp) -----------------------------
// Hidden states of a language model over a document: one row per token of the model's tokenizer,
// the final-norm hidden state scaled to unit length.
struct LmStates {
    std::vector<std::size_t> tokenBegin; // code-point offset where each token begins, ascending
    std::size_t width = 0;
    std::vector<float> unit;             // [tokens, width]
    std::size_t tokens() const noexcept { return tokenBegin.size(); }
    const float* row(std::size_t t) const { return unit.data() + t * width; }
};

// Where LmStates come from (learn/lm_states.hpp: a model loaded by the engine). A plain interface,
// so the learned scorer and the model file stay free of the engine.
class LmStateSource {
public:
    virtual ~LmStateSource() = default;
    virtual LmStates states(const Document& doc) const = 0;
    virtual std::string describe() const = 0; // e.g. the model directory and its fingerprint
};

// Names of the language-model feature columns (cosine of the mean hidden states of the tokens
// left and right of the candidate at several window sizes, their depth and z-score in the
// document, the cosine of the two tokens at the cut, the change of the windows' coherence).
std::span<const std::string_view> lmFeatureNames();
// featureNames(), then lmFeatureNames() when `withLm`: the columns of computeFeatures(..., lm).
std::vector<std::string_view> allFeatureNames(bool withLm);
// computeFeatures(ctx, candidates) with the language-model columns appended.
FeatureMatrix computeFeatures(const segment::SegmentContext& ctx, std::span<const segment::Candidate> candidates,
                              const LmStates& lm);

} // namespace blocklens::learn
