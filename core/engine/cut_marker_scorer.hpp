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
#include "document/document.hpp"
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
// Its candidates: line starts (the card's "\n" separator).
inline constexpr segment::RuleSet kCutMarkerRules = static_cast<segment::RuleSet>(segment::Rule::Line);

// "<cut j>"
std::string cutMarker(std::size_t j);

// The card's insert_marker with the cut points given as byte offsets (ascending, inside
// (0, text.size())): `<cut 0>` + text with `<cut j>` before byte cuts[j-1] + `<cut m+1>` at the end.
std::string insertCutMarkers(std::string_view text, std::span<const std::size_t> cutBytes);

// The marker tokens of a tokenizer (`<cut 0>` .. `<cut markers()-1>`, added tokens) and the card's
// marking of a text: what the scorer runs the model on and what the trainer
// (learn/cut_marker_trainer.hpp) trains on, so both see the same ids.
struct CutMarkerPass;
class CutMarkerTokenizer {
public:
    // Throws Error when the tokenizer has no `<cut 0>`, `<cut 1>`, `<cut 2>` tokens.
    explicit CutMarkerTokenizer(Tokenizer tokenizer);
    const Tokenizer& tokenizer() const noexcept { return tokenizer_; }
    const std::vector<std::int32_t>& markerIds() const noexcept { return markerIds_; }
    std::size_t markers() const noexcept { return markerIds_.size(); }
    // markedText, ids and markerPositions of `text` with markers at `cutBytes` (at most markers() - 2
    // of them); no logits. Throws Error when the text itself holds a marker.
    CutMarkerPass mark(std::string_view text, std::span<const std::size_t> cutBytes) const;

private:
    Tokenizer tokenizer_;
    std::vector<std::int32_t> markerIds_;
};

// One model pass of the scorer over a document: the text [begin, end) (code points) starts at the
// text start or at a candidate (marker 0) and holds `interior` candidates (markers 1..); it ends at
// the next window's start. `decided[j]` is the candidate offset whose P(cut) is read for marker j
// (marker 0 only when the window starts at a candidate: then decided has interior + 1 entries,
// else decided[0] is unused and set to npos).
struct CutMarkerWindow {
    std::size_t begin = 0, end = 0;
    std::vector<std::size_t> decided;   // per marker j < interior + 1: the candidate offset, or npos
    std::vector<std::size_t> cutBytes;  // the interior cuts, bytes from the window's first byte
    std::size_t byteBegin = 0, byteEnd = 0;
};
inline constexpr std::size_t kNoCandidate = static_cast<std::size_t>(-1);

// The windows the scorer cuts a document into for candidate `offsets` (ascending, unique): each
// candidate decided by exactly one window, at most `markers` - 2 interior candidates and about
// `windowTokens` tokens of `grid` per window.
std::vector<CutMarkerWindow> cutMarkerWindows(const Document& doc, const segment::TokenGrid& grid,
                                              std::span<const std::size_t> offsets, std::size_t markers,
                                              std::size_t windowTokens);

inline constexpr std::size_t kDefaultCutMarkerWindow = 8192;
// Written beside a checkpoint by the trainer (learn/cut_marker_trainer.hpp): {"window_tokens": N,
// "markers": M, "level": L, "training": {...}}; the loader takes its window.
inline constexpr std::string_view kCutMarkerInfoFile = "cut_markers.json";

struct CutMarkerOptions {
    // Tokens per model pass (approximate, from the token grid). 0 when loading a checkpoint: the
    // window it was trained with (its cut_markers.json), else kDefaultCutMarkerWindow.
    std::size_t windowTokens = kDefaultCutMarkerWindow;
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
    std::size_t markers() const noexcept { return marking_.markers(); }
    const CutMarkerOptions& options() const noexcept { return options_; }
    // One pass over `text` with markers at `cutBytes` (at most markers() - 2 of them).
    CutMarkerPass run(std::string_view text, std::span<const std::size_t> cutBytes) const;

private:
    std::shared_ptr<const TokenClassifier> model_;
    CutMarkerTokenizer marking_;
    CutMarkerOptions options_;
};

// The `cut-markers` segmenter around a checkpoint directory (model + tokenizer.json): candidates
// at line starts (the card's "\n" separator; --regex adds pattern matches), threshold decoder
// (default 0.5, depth 0), the usual hard maximum. loadCutMarkerScorer resolves options.windowTokens
// == 0 (see CutMarkerOptions); Error for a cut_markers.json that is not valid.
// cutMarkerSpec: the same spec around any scorer of P(cut) (the built-in segmenter's lazy one,
// learn/cut_marker_builtin.hpp).
segment::SegmenterSpec cutMarkerSpec(std::shared_ptr<const segment::Scorer> scorer);
segment::Segmenter cutMarkerSegmenter(std::shared_ptr<const CutMarkerScorer> scorer);
std::shared_ptr<const CutMarkerScorer> loadCutMarkerScorer(const std::filesystem::path& directory,
                                                           const LoadOptions& load = {}, CutMarkerOptions options = {});

} // namespace blocklens::engine
