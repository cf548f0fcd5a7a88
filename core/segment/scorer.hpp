#pragma once
// Scorers rate every candidate as a place for a block boundary (higher = better). Decoders only
// compare and add scores, so a scorer may use any scale that is consistent within a document;
// the built-in ones stay within about [0, 3].
//
// This interface is also what later scorers implement (embedding similarity, a model's attention
// or loss, a learned classifier): they get the same context and candidates and return one score
// per candidate, and every decoder and the evaluation work with them unchanged.
#include "segment/candidates.hpp"
#include "segment/line_shape.hpp"
#include "segment/text_layout.hpp"
#include "segment/token_grid.hpp"

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace blocklens::segment {

// Named parameter values, in a stable order, for provenance and `segmenters` listings.
using Params = std::vector<std::pair<std::string, std::string>>;

// Everything a scorer may look at, computed once per document.
struct SegmentContext {
    const Document& doc;
    const TextLayout& layout;
    const std::vector<LineShape>& shapes;
    const TokenGrid& grid;
};

class Scorer {
public:
    virtual ~Scorer() = default;
    virtual std::string name() const = 0;
    virtual Params params() const { return {}; }
    // Returns candidates.size() scores, in the same order. Must be deterministic.
    virtual std::vector<double> score(const SegmentContext& ctx, std::span<const Candidate> candidates) const = 0;
};

// Every candidate the same score: for segmenters where only position and size matter.
class UniformScorer final : public Scorer {
public:
    std::string name() const override { return "uniform"; }
    std::vector<double> score(const SegmentContext&, std::span<const Candidate> candidates) const override
    {
        return std::vector<double>(candidates.size(), 1.0);
    }
};

// The rank of the strongest separator at the candidate, as recursive character splitters use
// them: paragraph break (or heading/definition) 3, line break 2, sentence end 1, anything else 0.
class SeparatorScorer final : public Scorer {
public:
    std::string name() const override { return "separator"; }
    std::vector<double> score(const SegmentContext& ctx, std::span<const Candidate> candidates) const override;
};

// A weighted sum of other scorers' scores.
class WeightedSumScorer final : public Scorer {
public:
    struct Term {
        std::shared_ptr<const Scorer> scorer;
        double weight = 1.0;
        double clampAt = 0.0; // if > 0, the term's score is capped at this value before weighting
    };
    explicit WeightedSumScorer(std::vector<Term> terms) : terms_(std::move(terms)) {}
    std::string name() const override;
    Params params() const override;
    std::vector<double> score(const SegmentContext& ctx, std::span<const Candidate> candidates) const override;

private:
    std::vector<Term> terms_;
};

} // namespace blocklens::segment
