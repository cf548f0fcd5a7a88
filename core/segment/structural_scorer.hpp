#pragma once
// Structural heuristics: how much a line looks like the start of a section, from general cues
// only (no knowledge of any document source):
//  - heading shape: Markdown/setext headings (coarser levels score higher), section numbers
//    (fewer parts score higher), isolated capitalised lines, isolated short lines;
//  - definitions in code (def, class, fn, struct ...), top-level ones highest, with the comments
//    and decorators directly above them moved into the same block; column 0 right after a closing
//    brace at column 0 (the next top-level construct of a braced language);
//  - vertical whitespace: a gap of blank lines that is rare in this document (a section break is
//    usually set apart by more blank lines than a paragraph break). The cue is relative to the
//    document's own gaps, so a text with uniform spacing gets no signal from it;
//  - the body under a heading does not start a block (its heading does), and lines inside code
//    fences are damped.
// Scores of line starts lie in about [0, 2.5]; candidates inside a line get `inlineScore`.
#include "segment/scorer.hpp"

namespace blocklens::segment {

struct StructuralWeights {
    double atx = 1.0, atxStep = 0.12;          // "#" heading; minus atxStep per extra '#'
    double setext = 0.95;
    double numbered = 0.95, numberedStep = 0.1; // "7.1 Title"; minus numberedStep per extra part
    double numberedSingle = 0.6;                // "7. Title"
    double caps = 0.7;                          // isolated capitalised line
    double definitionTop = 0.9, definitionNested = 0.7, definitionDeep = 0.3; // indent 0, <=4, deeper
    double isolatedShort = 0.2;                 // isolated short line without closing punctuation
    double topLevel = 0.3;                      // column 0 right after a closing brace at column 0
    double rareGap = 1.2;                       // times (1 - share of gaps at least this large)
    double anyGap = 0.1;                        // any blank line above
    double fenceFactor = 0.2;                   // inside a code fence
    double bodyFactor = 0.3;                    // the line under a stronger heading
    double attachedFactor = 0.2;                // a definition whose comments/decorators open its block
    double inlineScore = 0.02;                  // a candidate that is not at a line start
    std::uint32_t shortWidth = 60, numberedWidth = 80;
};

class StructuralScorer final : public Scorer {
public:
    explicit StructuralScorer(StructuralWeights w = {}) : w_(w) {}
    std::string name() const override { return "structural"; }
    Params params() const override;
    std::vector<double> score(const SegmentContext& ctx, std::span<const Candidate> candidates) const override;

    // Score of every line start (index = line), for inspection and tests.
    std::vector<double> lineScores(const SegmentContext& ctx) const;
    // Heading shape alone, in [0, 1].
    double headingStrength(const SegmentContext& ctx, std::size_t line) const;

private:
    StructuralWeights w_;
};

} // namespace blocklens::segment
