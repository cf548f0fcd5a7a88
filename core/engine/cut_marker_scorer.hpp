#pragma once
// The paper's segmenter form (issue 8, part 3), as the SemanticSeg segmenter's model card
// (Qwen3-4B-Instruct-2507-Segmenter) describes it, for any token-classification checkpoint with a
// 2-way head whose tokenizer has the marker tokens `<cut 0>`, `<cut 1>`, ...:
//
//  1. Candidate cut points (the card: after each match of a separator regex, marker_pos "right";
//     here: the segmenter's candidates, which are the cut positions themselves) get markers: the
//     card's insert_marker puts `<cut 0>` before the text, `<cut j>` at the j-th cut point and one
//     more marker at the end of the text (none twice at the same place), with nothing else added.
//  2. The marked text is tokenized as one string (markers are added tokens, so each is one id)
//     and the classifier gives two logits at every position.
//  3. The decision for the cut at marker j is read at the NEXT marker j + 1 (the card's
//     shift_value: a causal model has seen the text after the cut only there); the last marker's
//     decision is fixed to "no cut" (the card writes [1, -inf] there). P(cut) = softmax(logits)[1]:
//     label 1 is "cut".
//  4. Granularity: the threshold on P(cut) and the recursion depth of the threshold decoder
//     (segment::decodeThreshold: cut where P >= threshold, then up to `depth` times split a block
//     still over the size limit at its most probable cut). Reading of the card: it names a
//     threshold and a recursion depth without more detail in the part we could read; we apply the
//     model once per window and recurse over its probabilities (not a fresh model pass per block).
//
// Long documents are cut into windows that fit the marker tokens the tokenizer has and a token
// budget: each window starts at the text start or at a candidate (its `<cut 0>`) and ends at the
// next window's start (its last marker), so every candidate is decided by exactly one window.
#include "engine/token_classifier.hpp"
#include "segment/segmenter.hpp"
#include "tokenizer/tokenizer.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::engine {

inline constexpr std::string_view kCutMarkerSegmenter = "cut-markers";

// "<cut j>"
std::string cutMarker(std::size_t j);

// The card's insert_marker with the cut points given as byte offsets (ascending, inside
// (0, text.size())): `<cut 0>` + text with `<cut j>` before byte cuts[j-1] + `<cut m+1>` at the end.
std::string insertCutMarkers(std::string_view text, std::span<const std::size_t> cutBytes);

struct CutMarkerOptions {
    std::size_t windowTokens = 8192; // tokens per model pass (approximate, from the token grid)
};

// One model pass over a text with its markers (public for tests and the CLI).
struct CutMarkerPass {
    std::string markedText;
    std::vector<std::int32_t> ids;
    std::vector<std::int64_t> markerPositions; // token index of marker 0, 1, ..., m+1
    TokenLogits logits;                        // [ids, labels]
    std::vector<double> cutProbability;        // per marker j: P(cut) read at marker j + 1; 0 for the last
};

class CutMarkerScorer final : public segment::Scorer {
public:
    // Throws Error when the tokenizer has no `<cut 0>` and `<cut 1>` tokens, a marker id lies outside
    // the model's vocabulary, or the head is not 2-way.
    CutMarkerScorer(std::shared_ptr<const TokenClassifier> model, Tokenizer tokenizer, CutMarkerOptions options = {});

    std::string name() const override { return std::string(kCutMarkerSegmenter); }
    segment::Params params() const override;
    std::vector<double> score(const segment::SegmentContext& ctx, std::span<const segment::Candidate> candidates) const override;

    // Markers the tokenizer has (`<cut 0>` .. `<cut markers()-1>`).
    std::size_t markers() const noexcept { return markerIds_.size(); }
    // One pass over `text` with markers at `cutBytes` (at most markers() - 2 of them).
    CutMarkerPass run(std::string_view text, std::span<const std::size_t> cutBytes) const;

private:
    std::shared_ptr<const TokenClassifier> model_;
    Tokenizer tokenizer_;
    CutMarkerOptions options_;
    std::vector<std::int32_t> markerIds_;
};

// The `cut-markers` segmenter around a checkpoint directory (model + tokenizer.json): candidates
// at line starts (the card's "\n" separator; --regex adds pattern matches), threshold decoder
// (default 0.5, depth 0), the usual hard maximum.
segment::Segmenter cutMarkerSegmenter(std::shared_ptr<const CutMarkerScorer> scorer);
std::shared_ptr<const CutMarkerScorer> loadCutMarkerScorer(const std::filesystem::path& directory,
                                                           const LoadOptions& load = {}, CutMarkerOptions options = {});

} // namespace blocklens::engine
