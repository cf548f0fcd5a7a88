#pragma once
// Boundary edit distance and the similarities built on it, as Fournier (2013, "Evaluating Text
// Segmentation using Boundary Edit Distance") defines them and segeval 2.0 (cfournie/
// segmentation.evaluation) computes them:
//  - a segmentation is a boundary string: one set of boundary types per potential boundary
//    position (between two units: a document of n units has n - 1 positions);
//  - edits between two strings: additions (a type in one string only), substitutions (one type
//    for another at the same position) and transpositions ("near misses": the same type at
//    positions at most nT - 1 apart, one in each string);
//  - weights: an addition costs 1, a substitution |t1 - t2| / (number of types spanned), a
//    transposition |i - j| / nT (segeval's weight_a, weight_s_scale, weight_t_scale);
//  - boundary similarity B = 1 - weighted edits / (edits + matches), counting each edit once;
//  - segmentation similarity S = 1 - weighted edits / potential boundaries.
// Both are 1 when there is nothing to compare (no boundary in either string); segeval raises
// there, and agreement needs a value for two annotators who agree that a document has no cut.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace blocklens::analysis {

// The boundary types at one position: bit t is type t (1..15); 0 = no boundary.
using TypeSet = std::uint16_t;
inline constexpr int kMaxBoundaryType = 15;
using BoundaryString = std::vector<TypeSet>;

// segeval's boundary_string_from_masses: segments of `masses` units each, every segment but the
// last ending in a type-1 boundary. Length sum(masses) - 1.
BoundaryString boundaryStringFromMasses(std::span<const std::size_t> masses);

enum class Side { A, B }; // which string holds an added boundary

struct Addition {
    int type = 1;
    Side side = Side::A;
    friend bool operator==(const Addition&, const Addition&) = default;
};
struct Substitution {
    int typeA = 1, typeB = 1; // the type in a, the type in b (same position)
    friend bool operator==(const Substitution&, const Substitution&) = default;
};
struct Transposition {
    std::size_t start = 0, end = 0; // positions, start < end
    int type = 1;
    friend bool operator==(const Transposition&, const Transposition&) = default;
};

struct BoundaryEdits {
    std::vector<Addition> additions;         // in position order
    std::vector<Substitution> substitutions; // in position order
    std::vector<Transposition> transpositions;
};

// The edits turning one string into the other: transpositions first (shortest span first, left to
// right, never two of one type over one position, never where both positions hold a
// substitution), then per position the cheapest substitutions and the rest as additions.
// nT: the longest span a transposition may have, in positions + 1 (segeval's n_t, default 2:
// neighbouring positions). Throws Error if the strings differ in length or nT < 2.
BoundaryEdits boundaryEditDistance(std::span<const TypeSet> a, std::span<const TypeSet> b, std::size_t nT = 2);

// Whether edits are weighted (segeval's defaults) or each counts 1 (weight_s, weight_t).
struct EditWeights {
    bool scaleSubstitutions = true;
    bool scaleTranspositions = true;
};

struct PairStatistics {
    BoundaryEdits edits;
    std::size_t matches = 0;   // (position, type) in both strings
    std::size_t positions = 0; // length of the strings
    std::size_t types = 0;     // distinct types in either string
    std::size_t boundariesA = 0, boundariesB = 0; // (position, type) pairs in each string
    double weightedEdits = 0;
    std::size_t unweightedEdits() const
    {
        return edits.additions.size() + edits.substitutions.size() + edits.transpositions.size();
    }
    // Potential boundaries as segeval's agreement counts them: positions x types.
    std::size_t potentialBoundaries() const { return positions * types; }
};

PairStatistics boundaryStatistics(std::span<const TypeSet> a, std::span<const TypeSet> b, std::size_t nT = 2,
                                  EditWeights weights = {});

// A similarity as numerator / denominator, the parts segeval's agreement coefficients sum.
struct SimilarityParts {
    double numerator = 0, denominator = 0;
    double value() const { return denominator > 0 ? numerator / denominator : 1.0; }
};

SimilarityParts boundarySimilarityParts(const PairStatistics& s);
// segeval's S divides by positions x types x types (its `pbs` already holds positions x types and
// is multiplied by the type count again); with one type that is the number of positions.
SimilarityParts segmentationSimilarityParts(const PairStatistics& s);

double boundarySimilarity(std::span<const TypeSet> a, std::span<const TypeSet> b, std::size_t nT = 2,
                          EditWeights weights = {});
double segmentationSimilarity(std::span<const TypeSet> a, std::span<const TypeSet> b, std::size_t nT = 2,
                              EditWeights weights = {});

} // namespace blocklens::analysis
