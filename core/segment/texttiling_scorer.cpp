#include "segment/texttiling_scorer.hpp"

#include "document/document.hpp"
#include "segment/char_class.hpp"
#include "util/utf8.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace blocklens::segment {

std::string formatNumber(double v); // segmentation.cpp

namespace {

struct Words {
    std::vector<std::uint32_t> term;   // term id of each word, in text order
    std::vector<std::size_t> begin;    // code-point offset of each word
    std::size_t vocabulary = 0;
};

Words collectWords(std::string_view text, std::size_t minLength)
{
    Words w;
    std::unordered_map<std::string, std::uint32_t> ids;
    std::string current;
    std::size_t currentLength = 0, currentBegin = 0;
    auto flush = [&] {
        if (currentLength >= minLength) {
            const auto [it, inserted] = ids.try_emplace(current, static_cast<std::uint32_t>(ids.size()));
            w.term.push_back(it->second);
            w.begin.push_back(currentBegin);
        }
        current.clear();
        currentLength = 0;
    };
    std::size_t i = 0, cp = 0;
    while (i < text.size()) {
        const char32_t c = nextCodePoint(text, i);
        if (isLetter(c)) {
            if (currentLength == 0)
                currentBegin = cp;
            utf8::append(current, toLower(c));
            ++currentLength;
        } else if (currentLength > 0) {
            flush();
        }
        ++cp;
    }
    if (currentLength > 0)
        flush();
    w.vocabulary = ids.size();
    return w;
}

// Two adjacent word windows [l, p) and [p, r) with their tf vectors, dot product and squared
// norms under per-term weights, updated one word at a time.
class WindowPair {
public:
    WindowPair(const Words& words, const std::vector<double>& weight)
        : words_(words), weight_(weight), left_(words.vocabulary, 0), right_(words.vocabulary, 0)
    {
    }
    void moveTo(std::size_t l, std::size_t p, std::size_t r)
    {
        // Add before removing, so counts never go negative even when windows jump past each other.
        for (std::size_t k = p_; k < p; ++k)
            addLeft(words_.term[k], +1);
        for (std::size_t k = r_; k < r; ++k)
            addRight(words_.term[k], +1);
        for (std::size_t k = l_; k < l; ++k)
            addLeft(words_.term[k], -1);
        for (std::size_t k = p_; k < p; ++k)
            addRight(words_.term[k], -1);
        l_ = l;
        p_ = p;
        r_ = r;
    }
    double cosine() const
    {
        if (normL_ <= 1e-12 || normR_ <= 1e-12)
            return 0.0;
        return std::clamp(dot_ / std::sqrt(normL_ * normR_), 0.0, 1.0);
    }

private:
    void addLeft(std::uint32_t t, int d)
    {
        const double w = weight_[t];
        if (d > 0) {
            dot_ += w * right_[t];
            normL_ += w * (2.0 * left_[t] + 1);
            ++left_[t];
        } else {
            --left_[t];
            dot_ -= w * right_[t];
            normL_ -= w * (2.0 * left_[t] + 1);
        }
    }
    void addRight(std::uint32_t t, int d)
    {
        const double w = weight_[t];
        if (d > 0) {
            dot_ += w * left_[t];
            normR_ += w * (2.0 * right_[t] + 1);
            ++right_[t];
        } else {
            --right_[t];
            dot_ -= w * left_[t];
            normR_ -= w * (2.0 * right_[t] + 1);
        }
    }
    const Words& words_;
    const std::vector<double>& weight_;
    std::vector<std::int32_t> left_, right_;
    std::size_t l_ = 0, p_ = 0, r_ = 0;
    double dot_ = 0, normL_ = 0, normR_ = 0;
};

} // namespace

Params TextTilingScorer::params() const
{
    return {{"window", std::to_string(p_.window)},
            {"pseudo_sentence", std::to_string(p_.pseudoSentence)},
            {"min_word_length", std::to_string(p_.minWordLength)},
            {"smoothing", p_.smoothing ? "on" : "off"}};
}

double TextTilingScorer::hearstCutoff(std::span<const double> depths)
{
    if (depths.empty())
        return 0.0;
    double mean = 0;
    for (double d : depths)
        mean += d;
    mean /= static_cast<double>(depths.size());
    double var = 0;
    for (double d : depths)
        var += (d - mean) * (d - mean);
    var /= static_cast<double>(depths.size());
    return mean - std::sqrt(var) / 2.0;
}

std::vector<double> TextTilingScorer::score(const SegmentContext& ctx, std::span<const Candidate> candidates) const
{
    std::vector<double> out(candidates.size(), 0.0);
    const Words words = collectWords(ctx.doc.text(), p_.minWordLength);
    const std::size_t n = words.term.size();
    if (n < 10 || candidates.empty())
        return out;

    // idf over pseudo-sentences; squared, because both vectors carry the weight.
    const std::size_t ps = std::max<std::size_t>(1, p_.pseudoSentence);
    const std::size_t sentences = (n + ps - 1) / ps;
    std::vector<std::uint32_t> df(words.vocabulary, 0), lastSeen(words.vocabulary, UINT32_MAX);
    for (std::size_t k = 0; k < n; ++k) {
        const auto s = static_cast<std::uint32_t>(k / ps);
        if (lastSeen[words.term[k]] != s) {
            lastSeen[words.term[k]] = s;
            ++df[words.term[k]];
        }
    }
    std::vector<double> weight(words.vocabulary);
    for (std::size_t t = 0; t < words.vocabulary; ++t) {
        const double idf = std::log(static_cast<double>(sentences) / df[t]);
        weight[t] = idf * idf;
    }

    // Anchors: paragraph starts among the candidates (Hearst places boundaries at paragraph breaks).
    std::vector<std::size_t> anchors;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const auto& c = candidates[i];
        const LineInfo& line = ctx.layout[c.line];
        if (c.offset == line.begin && line.blankBefore > 0)
            anchors.push_back(i);
    }
    if (anchors.size() < 3) {
        anchors.resize(candidates.size());
        for (std::size_t i = 0; i < anchors.size(); ++i)
            anchors[i] = i;
    }

    std::vector<double> sims;
    sims.reserve(anchors.size());
    WindowPair windows(words, weight);
    const std::size_t W = std::max<std::size_t>(1, p_.window);
    for (std::size_t a : anchors) {
        const std::size_t p = static_cast<std::size_t>(
            std::lower_bound(words.begin.begin(), words.begin.end(), candidates[a].offset) - words.begin.begin());
        windows.moveTo(p > W ? p - W : 0, p, std::min(n, p + W));
        sims.push_back(windows.cosine());
    }
    if (p_.smoothing && sims.size() >= 3) {
        std::vector<double> smooth(sims.size());
        for (std::size_t i = 0; i < sims.size(); ++i) {
            const std::size_t lo = i == 0 ? 0 : i - 1, hi = std::min(sims.size() - 1, i + 1);
            double s = 0;
            for (std::size_t k = lo; k <= hi; ++k)
                s += sims[k];
            smooth[i] = s / static_cast<double>(hi - lo + 1);
        }
        sims.swap(smooth);
    }
    // Depth: climb to the nearest peak on each side. Climbing from i passes through i-1 and then
    // continues exactly as climbing from i-1 would, so each side is one linear pass.
    const std::size_t m = sims.size();
    std::vector<double> leftPeak(m), rightPeak(m);
    for (std::size_t i = 0; i < m; ++i)
        leftPeak[i] = (i > 0 && sims[i - 1] >= sims[i]) ? leftPeak[i - 1] : sims[i];
    for (std::size_t i = m; i-- > 0;)
        rightPeak[i] = (i + 1 < m && sims[i + 1] >= sims[i]) ? rightPeak[i + 1] : sims[i];
    for (std::size_t i = 0; i < m; ++i)
        out[anchors[i]] = (leftPeak[i] - sims[i]) + (rightPeak[i] - sims[i]);
    return out;
}

} // namespace blocklens::segment
