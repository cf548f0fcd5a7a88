#include "segment/texttiling_scorer.hpp"

#include "document/document.hpp"
#include "segment/lexical_windows.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace blocklens::segment {

std::string formatNumber(double v); // segmentation.cpp

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

    const std::vector<double> weight = idfWeights(words, p_.pseudoSentence);

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
        const std::size_t p = words.wordAt(candidates[a].offset);
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
    const std::vector<double> depth = depthScores(sims);
    for (std::size_t i = 0; i < depth.size(); ++i)
        out[anchors[i]] = depth[i];
    return out;
}

} // namespace blocklens::segment
