#pragma once
// Splitting a dataset among annotators so that a share of its rows is done twice, for agreement
// (issue 21). Deterministic: the same rows, annotators, overlap and seed give the same plan on
// every machine (a 64-bit Mersenne Twister drawn through our own unbiased bounded draw and
// Fisher-Yates shuffle; std::shuffle and the std distributions differ between libraries).
//
//  - round(overlap x rows) rows, chosen at random, go to two annotators each; the pairs cycle
//    through every pair of annotators, so each pair shares about as many rows;
//  - every other row goes to one annotator, always the one with the fewest rows so far (ties: the
//    first given), so the loads end within one row of each other whenever there are enough
//    unshared rows to even out what the shared ones added.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace blocklens::campaign {

struct AssignmentRequest {
    std::size_t rows = 0;
    std::vector<std::string> annotators; // distinct, non-empty, no commas
    double overlap = 0.2;                // 0..1
    std::uint64_t seed = 1;
};

struct AssignmentResult {
    std::vector<std::vector<std::string>> rows; // per row: its annotators, in the order given
    std::size_t shared = 0;                     // rows with two annotators
};

// Throws Error naming the bad argument (no annotators, a duplicate or empty name, an overlap
// outside 0..1, an overlap > 0 with one annotator).
AssignmentResult planAssignment(const AssignmentRequest& request);

// "a,b,c" -> {"a", "b", "c"}, spaces around names trimmed; throws Error on an empty name.
std::vector<std::string> parseAnnotatorList(const std::string& list);

} // namespace blocklens::campaign
