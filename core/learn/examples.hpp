#pragma once
// Labelled examples for training the learned segmenter, and the document split used to report
// held-out figures.
//
// Examples: every candidate of the `learned` segmenter (line starts, headings, definitions) with
// its features and a label: 1 when the candidate starts a line that carries a reference boundary
// of level <= L (the line-level unit of shared/data/README.md). A boundary on a blank line (a
// text whose heading lines were removed) is carried by the first candidate after that blank run,
// the nearest place the segmenter can cut. Each document gets the same total weight whatever its
// length (Pk is a mean over documents); the trainer then balances the two classes.
#include "document/document.hpp"
#include "learn/features.hpp"
#include "segment/candidates.hpp"
#include "segment/text_layout.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace blocklens::learn {

struct DocumentExamples {
    FeatureMatrix x;
    std::vector<float> label;
    // 1: carries a reference boundary finer than L on a line without a heading shape (a negative
    // whose level only the source's habits tell; the trainer may weigh it less)
    std::vector<std::uint8_t> finer;
    std::size_t referenceLines = 0; // boundary lines of level <= L
    std::size_t carried = 0;        // of those, how many a candidate carries (the others have none near)
};

// Throws Error when the document has no reference boundaries at level <= `level` (nothing to learn).
// With `lm`, the features include the language-model columns (learn::lmFeatureNames()).
DocumentExamples documentExamples(const Document& doc, int level, const LmStateSource* lm = nullptr);

// Which of `candidates` (sorted, one per offset) carry a reference boundary line of `lines`: the
// candidate starting that line, or the first one after the blank run the line begins (see above).
// Also what the cut-marker trainer labels (learn/cut_marker_trainer.hpp). One entry per line:
// the candidate's index, or npos when no candidate carries it.
std::vector<std::size_t> lineCarriers(const segment::TextLayout& layout, std::span<const segment::Candidate> candidates,
                                      std::span<const std::size_t> lines);

struct TrainingSet {
    std::size_t cols = 0;
    std::vector<float> x;                // [rows, cols]
    std::vector<float> label;            // 0 or 1
    std::vector<float> weight;           // document weight / the document's candidates
    std::vector<std::uint32_t> document; // index of the example's document in this set
    std::vector<std::uint8_t> finer;     // see DocumentExamples
    std::size_t documents = 0, positives = 0;
    std::size_t rows() const noexcept { return label.size(); }
    void append(const DocumentExamples& e, double documentWeight = 1.0);
};

// Whether a document belongs to the training part of a split that keeps `trainFraction` of the
// source texts: a hash of the source field (the id when it has none) and the seed, so both
// variants of one text (same source) always land on the same side, and the split does not
// depend on the order of the file.
bool inTrainingSplit(const DocumentMeta& meta, double trainFraction, std::uint64_t seed);

} // namespace blocklens::learn
