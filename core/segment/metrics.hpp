#pragma once
// Line-level segmentation metrics exactly as shared/data/README.md defines them:
//  - the unit is the line (text split at '\n'); a boundary at offset o belongs to the line that
//    contains o, or to the next line when text[o] is '\n'; line 0 never carries one;
//  - a segmentation is a boundary string of one character per line ('1' where a line carries
//    a boundary), and Pk and WindowDiff are NLTK's nltk.metrics.segmentation.pk / windowdiff on
//    those strings with k = max(2, round(n / (b + 1) / 2)), Python's round (half to even);
//  - boundary precision/recall/F1 match hypothesis to reference lines one-to-one within a
//    tolerance of t lines.
#include <cstddef>
#include <span>
#include <vector>

namespace blocklens::segment {

// Ascending distinct line indices (never 0) of boundaries at code-point `offsets`, given the
// code-point start of every line (Document::lineStarts()).
std::vector<std::size_t> boundaryLines(std::span<const std::size_t> lineStarts, std::span<const std::size_t> offsets);

// k = max(2, round(lines / (boundaries + 1) / 2)) with round half to even, computed in double
// precision exactly as Python evaluates it.
std::size_t windowSize(std::size_t lines, std::size_t referenceBoundaries);

// NLTK's pk(ref, hyp, k) and windowdiff(ref, hyp, k) on boundary strings of length `lines`
// built from ascending line indices. NaN when k > lines (no window fits), where NLTK raises.
double pk(std::span<const std::size_t> reference, std::span<const std::size_t> hypothesis, std::size_t lines,
          std::size_t k);
double windowDiff(std::span<const std::size_t> reference, std::span<const std::size_t> hypothesis,
                  std::size_t lines, std::size_t k);

struct BoundaryMatch {
    std::size_t matched = 0, reference = 0, hypothesis = 0;
    double precision() const { return hypothesis ? static_cast<double>(matched) / hypothesis : 0.0; }
    double recall() const { return reference ? static_cast<double>(matched) / reference : 0.0; }
    double f1() const
    {
        const double p = precision(), r = recall();
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
    BoundaryMatch& operator+=(const BoundaryMatch& o)
    {
        matched += o.matched;
        reference += o.reference;
        hypothesis += o.hypothesis;
        return *this;
    }
};

// Maximum one-to-one matching of hypothesis to reference lines with |r - h| <= tolerance
// (greedy in order, which is optimal for equal windows on a line).
BoundaryMatch matchBoundaries(std::span<const std::size_t> reference, std::span<const std::size_t> hypothesis,
                              std::size_t tolerance);

} // namespace blocklens::segment
