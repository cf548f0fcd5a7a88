#pragma once
// Adjudication of a document several annotators segmented (issue 21): the boundaries they marked,
// who marked each, their majority, and the contested ones a reviewer decides. Boundaries are
// compared by offset (code points); a boundary's level is the one most of its annotators gave it
// (the coarser one on a tie).
//
// The adjudicated version is a segmentation with segmenter "adjudicated" (store.hpp): it starts as
// the majority, and each decision (accept: the boundary is kept at its majority level; reject: no
// boundary there) is stored with who and when and applied in order.
#include "analysis/annotator_agreement.hpp"
#include "document/document.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::store {
class Store;
struct AdjudicationDecision;
}

namespace blocklens::analysis {

struct BoundaryVotes {
    std::size_t offset = 0;
    int level = 1;                       // the level most of its annotators gave it
    std::vector<std::string> annotators; // who marked it, in the plan's annotator order
    bool majority = false;               // marked by more than half of the annotators
    bool contested = false;              // not every annotator marked it, or not at one level
};

struct AdjudicationPlan {
    std::vector<std::string> annotators;
    std::vector<BoundaryVotes> boundaries; // every offset any annotator marked, ascending

    std::vector<Boundary> majority() const;     // where the adjudicated version starts
    std::vector<std::size_t> contested() const; // indices into boundaries, ascending
};

// Throws Error for fewer than two versions or an annotator named twice.
AdjudicationPlan planAdjudication(const std::vector<AnnotatorVersion>& versions);

// The verdict in effect for an offset: the latest decision not undone (true: accepted).
std::optional<bool> verdictAt(const std::vector<store::AdjudicationDecision>& decisions, std::size_t offset);

// The boundaries `start` becomes once the decisions in effect are applied in order (what the store
// keeps as the adjudicated version's boundaries).
std::vector<Boundary> applyDecisions(std::vector<Boundary> start, const std::vector<store::AdjudicationDecision>& decisions);

// The document's newest adjudicated version, or a new one (author `reviewer`, params naming the
// annotators) starting from the plan's majority.
std::int64_t openAdjudicatedVersion(store::Store& store, std::int64_t documentId, const AdjudicationPlan& plan,
                                    const std::string& reviewer);

} // namespace blocklens::analysis
