#pragma once
// Lexical cohesion building blocks shared by the TextTiling scorer and the learned segmenter's
// features: words of a text, tf-idf weights over pseudo-sentences, two adjacent word windows whose
// cosine is updated incrementally, and TextTiling's depth of a similarity curve.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace blocklens::segment {

// Words: runs of letters of at least `minLength` code points, lower-cased, each given a term id.
struct Words {
    std::vector<std::uint32_t> term; // term id of each word, in text order
    std::vector<std::size_t> begin;  // code-point offset of each word
    std::size_t vocabulary = 0;
    std::size_t size() const noexcept { return term.size(); }
    // Index of the first word that begins at or after code point `offset`.
    std::size_t wordAt(std::size_t offset) const;
};

Words collectWords(std::string_view text, std::size_t minLength);

// Per-term weight (idf + add)^2, idf = log(pseudo-sentences / pseudo-sentences holding the term),
// pseudo-sentences being runs of `pseudoSentence` words (standing in for a stop list, so it works
// for any language). Squared because both vectors of a cosine carry the weight.
std::vector<double> idfWeights(const Words& words, std::size_t pseudoSentence, double add = 0.0);

// Two adjacent word windows [l, p) and [p, r) with their weighted tf vectors, dot product and
// squared norms, updated one word at a time: moving both windows along a text costs time linear in
// the words passed. `words` and `weight` must outlive the pair.
class WindowPair {
public:
    WindowPair(const Words& words, const std::vector<double>& weight);
    void moveTo(std::size_t l, std::size_t p, std::size_t r);
    double cosine() const; // in [0, 1]; 0 when a window is empty

private:
    void add(std::vector<std::int32_t>& self, const std::vector<std::int32_t>& other, double& norm, std::uint32_t t, int d);
    const Words& words_;
    const std::vector<double>& weight_;
    std::vector<std::int32_t> left_, right_;
    std::size_t l_ = 0, p_ = 0, r_ = 0;
    double dot_ = 0, normL_ = 0, normR_ = 0;
};

// Depth of each point of a curve below its nearest peaks on both sides ((left - s) + (right - s)),
// TextTiling's boundary strength. Climbing from i passes through i-1 and then continues exactly as
// climbing from i-1 would, so each side is one linear pass.
std::vector<double> depthScores(const std::vector<double>& s);

} // namespace blocklens::segment
