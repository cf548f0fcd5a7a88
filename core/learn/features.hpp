#pragma once
// Features of a boundary candidate for the learned segmenter: one row of numbers per candidate,
// computed from the same per-document context every scorer gets (segment::SegmentContext).
//
// Every feature is a generic cue (no string of any particular document source appears here):
//  - line shape of the candidate line and its neighbours: Markdown/setext headings (and the
//    heading level relative to the coarsest one in the document), section numbers, capitalised
//    lines, definitions in code and the comments above them, indentation and its change, width
//    relative to the document's typical line, the first character's class, closing punctuation of
//    the previous line, blank-line gaps before and after (also how rare that gap is in the
//    document), code fences, and the structural scorer's own heading strength and score;
//  - lexical cohesion: cosine of tf-idf word vectors of the W words before and after the
//    candidate for several W (raw, z-scored within the document, and TextTiling depth), and the
//    rate of words never seen before in the document just after the candidate versus before;
//  - style shift: how much line width, indentation and the shares of digits, capitals and
//    punctuation change between the lines just before and just after the candidate;
//  - relative position in the document and a few whole-document shares (blank lines, headings,
//    code lines) so the small model can weigh cues per kind of document.
//
// Values are finite (never NaN/inf) and deterministic; the cost is linear in the text length
// plus the number of candidates. Candidates that do not start a line get the features of their
// line with `inline` = 1.
#include "segment/scorer.hpp"

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

} // namespace blocklens::learn
