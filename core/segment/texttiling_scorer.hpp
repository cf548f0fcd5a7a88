#pragma once
// TextTiling (Hearst 1997, "TextTiling: Segmenting Text into Multi-paragraph Subtopic Passages"):
// lexical cohesion drops where the topic changes. At each anchor (a candidate that starts a
// paragraph; every candidate when the text has fewer than three paragraphs) compare the words
// of the `window` words before it with the `window` words after it (cosine of tf-idf vectors,
// idf over pseudo-sentences of 20 words standing in for a stop list, so it works for any
// language), optionally smooth the similarity curve, and score the anchor by its depth: how far
// the similarity falls below the nearest peaks on either side ((left - s) + (right - s), in
// [0, 2]). Other candidates score 0.
//
// Words are runs of letters of at least `minWordLength` code points, lower-cased. The two
// windows slide incrementally, so the cost is linear in the number of words plus anchors.
#include "segment/scorer.hpp"

namespace blocklens::segment {

struct TextTilingParams {
    std::size_t window = 120;       // words on each side of an anchor
    std::size_t pseudoSentence = 20; // words per pseudo-sentence for idf
    std::size_t minWordLength = 3;
    bool smoothing = false;          // average each similarity with its two neighbours
};

class TextTilingScorer final : public Scorer {
public:
    explicit TextTilingScorer(TextTilingParams p = {}) : p_(p) {}
    std::string name() const override { return "texttiling"; }
    Params params() const override;
    std::vector<double> score(const SegmentContext& ctx, std::span<const Candidate> candidates) const override;

    // Hearst's cutoff for "a boundary": mean - sd/2 of the depth scores of the anchors.
    static double hearstCutoff(std::span<const double> depths);

private:
    TextTilingParams p_;
};

} // namespace blocklens::segment
