#pragma once
// Chance-corrected inter-annotator agreement on segmentations, as Fournier and Inkpen (2012) and
// Fournier (2013) adapt Fleiss' multi-pi and multi-kappa (Artstein and Poesio 2008), computed the
// way segeval 2.0 does (agreement/__init__.py, pi.py, kappa.py, bias.py):
//  - actual agreement A_a = sum of similarity numerators / sum of denominators, over every pair
//    of annotators of every item (B by default, or S);
//  - each (pair, item) also records, for both annotators, how many boundaries they placed and
//    the pair's potential boundaries (positions x boundary types);
//  - pi:    A_e = (mean over those records of boundaries / potential boundaries)^2;
//  - kappa: A_e = mean over annotator pairs of the product of each one's
//           sum(boundaries) / sum(potential boundaries);
//  - coefficient = (A_a - A_e) / (1 - A_e); bias = A_e(pi) - A_e(kappa).
// segeval needs every annotator on every item; here an item may have any two or more annotators
// and contributes the pairs it has (with a complete design the result is segeval's). Items with
// fewer than two annotators are skipped: the caller counts them. Records with no potential
// boundary (nobody cut the item) add nothing to A_e, where segeval would divide by zero; when
// A_e = 1 the coefficient is 1 if A_a = 1 and NaN otherwise.
#include "analysis/boundary_similarity.hpp"

#include <span>
#include <string>
#include <utility>
#include <vector>

namespace blocklens::analysis {

struct CodedItem {
    std::string id;
    std::vector<std::pair<std::string, BoundaryString>> codings; // annotator, their boundary string
};

enum class SimilarityMeasure { B, S };

struct ChanceCorrected {
    double actual = 1;                  // A_a
    double expectedPi = 0, expectedKappa = 0;
    double pi = 1, kappa = 1;
    double bias() const { return expectedPi - expectedKappa; }
    std::size_t items = 0; // items with two or more annotators
    std::size_t pairs = 0; // (annotator pair, item) comparisons
};

// Sums what the coefficients need, one (annotator pair, item) comparison at a time, so a caller
// that already compared a pair (for B, S and Pk) does not compare it again.
class AgreementAccumulator {
public:
    void beginItem() { ++items_; }
    void add(const std::string& coderA, const std::string& coderB, const PairStatistics& s);
    ChanceCorrected result(SimilarityMeasure measure) const;

private:
    struct Record {
        double boundaries = 0, potential = 0;
    };
    double numeratorB_ = 0, denominatorB_ = 0, numeratorS_ = 0, denominatorS_ = 0;
    std::size_t items_ = 0, pairs_ = 0;
    std::vector<std::string> coders_; // first-seen order
    std::vector<std::vector<Record>> records_; // per coder
    std::size_t coderIndex(const std::string& coder);
};

// Throws Error if an item lists one annotator twice or its strings differ in length.
ChanceCorrected chanceCorrectedAgreement(std::span<const CodedItem> items, SimilarityMeasure measure = SimilarityMeasure::B,
                                         std::size_t nT = 2);

} // namespace blocklens::analysis
