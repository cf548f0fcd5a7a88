// Language-model features of the learned segmenter: from LmStates (unit-length final hidden states
// of a model's tokens) to one row of numbers per candidate. A topic or structure change shows as
// the mean hidden state of the tokens after a candidate pointing elsewhere than the mean of the
// tokens before it. Linear in tokens x width per window size (sliding sums over the candidates in
// text order).
#include "learn/features.hpp"

#include "segment/lexical_windows.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace blocklens::learn {

namespace {

constexpr std::array<std::string_view, 8> kLmNames = {
    "lm_cos_8",        // cosine of the mean unit hidden state of the 8 tokens before / from the candidate
    "lm_cos_32",       //   ... 32 tokens
    "lm_cos_128",      //   ... 128 tokens
    "lm_cos_32_z",     // lm_cos_32 as a z-score within the document
    "lm_cos_32_depth", // TextTiling depth of the lm_cos_32 curve over the candidates
    "lm_cos_128_depth",
    "lm_edge_cos",     // cosine of the last token before and the first token from the candidate
    "lm_coherence_shift_32", // |mean| of the 32 tokens after minus before (how uniform each side is)
};
enum : std::size_t { Cos8, Cos32, Cos128, Cos32Z, Cos32Depth, Cos128Depth, EdgeCos, CoherenceShift, LmCount };

// The sum of rows [lo, hi) of the states, moved along the text (both ends never go back).
class SlidingSum {
public:
    explicit SlidingSum(const LmStates& s) : s_(s), sum_(s.width, 0.0) {}
    void moveTo(std::size_t lo, std::size_t hi)
    {
        for (; hi_ < hi; ++hi_)
            add(hi_, +1.0);
        for (; lo_ < lo; ++lo_)
            add(lo_, -1.0);
    }
    const std::vector<double>& sum() const { return sum_; }
    std::size_t count() const { return hi_ > lo_ ? hi_ - lo_ : 0; }

private:
    void add(std::size_t t, double sign)
    {
        const float* r = s_.row(t);
        for (std::size_t k = 0; k < s_.width; ++k)
            sum_[k] += sign * r[k];
    }
    const LmStates& s_;
    std::vector<double> sum_;
    std::size_t lo_ = 0, hi_ = 0;
};

double norm(const std::vector<double>& v)
{
    double n = 0;
    for (double x : v)
        n += x * x;
    return std::sqrt(n);
}

double cosine(const std::vector<double>& a, const std::vector<double>& b)
{
    double dot = 0;
    for (std::size_t k = 0; k < a.size(); ++k)
        dot += a[k] * b[k];
    const double na = norm(a), nb = norm(b);
    return na > 1e-12 && nb > 1e-12 ? dot / (na * nb) : 0.0;
}

float clip(double v, double lo, double hi) { return std::isfinite(v) ? static_cast<float>(std::clamp(v, lo, hi)) : 0.0f; }

} // namespace

std::span<const std::string_view> lmFeatureNames() { return kLmNames; }

std::vector<std::string_view> allFeatureNames(bool withLm)
{
    const auto base = featureNames();
    std::vector<std::string_view> out(base.begin(), base.end());
    if (withLm)
        out.insert(out.end(), kLmNames.begin(), kLmNames.end());
    return out;
}

FeatureMatrix computeFeatures(const segment::SegmentContext& ctx, std::span<const segment::Candidate> candidates,
                              const LmStates& lm)
{
    const FeatureMatrix base = computeFeatures(ctx, candidates);
    FeatureMatrix m;
    m.rows = base.rows;
    m.cols = base.cols + LmCount;
    m.values.assign(m.rows * m.cols, 0.0f);
    for (std::size_t r = 0; r < m.rows; ++r)
        std::copy(base.row(r), base.row(r) + base.cols, m.values.begin() + static_cast<std::ptrdiff_t>(r * m.cols));
    const std::size_t n = lm.tokens();
    if (m.rows == 0 || n == 0 || lm.width == 0)
        return m;
    auto set = [&](std::size_t row, std::size_t f, float v) { m.values[row * m.cols + base.cols + f] = v; };

    // Token index at each candidate (candidates come in text order).
    std::vector<std::size_t> at(m.rows);
    for (std::size_t i = 0; i < m.rows; ++i)
        at[i] = static_cast<std::size_t>(std::lower_bound(lm.tokenBegin.begin(), lm.tokenBegin.end(), candidates[i].offset)
                                         - lm.tokenBegin.begin());
    const bool ascending = std::is_sorted(at.begin(), at.end());
    std::vector<std::size_t> order(m.rows);
    for (std::size_t i = 0; i < m.rows; ++i)
        order[i] = i;
    if (!ascending)
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return at[a] < at[b]; });

    constexpr std::array<std::size_t, 3> kWindows = {8, 32, 128};
    constexpr std::array<std::size_t, 3> kColumn = {Cos8, Cos32, Cos128};
    std::vector<double> cos32(m.rows, 0.0), cos128(m.rows, 0.0);
    for (std::size_t w = 0; w < kWindows.size(); ++w) {
        const std::size_t K = kWindows[w];
        SlidingSum left(lm), right(lm);
        for (std::size_t i : order) {
            const std::size_t t = at[i];
            left.moveTo(t > K ? t - K : 0, t);
            right.moveTo(t, std::min(n, t + K));
            const double c = left.count() && right.count() ? cosine(left.sum(), right.sum()) : 0.0;
            set(i, kColumn[w], clip(c, -1, 1));
            if (K == 32) {
                cos32[i] = c;
                if (left.count() && right.count())
                    set(i, CoherenceShift, clip(norm(right.sum()) / static_cast<double>(right.count())
                                                    - norm(left.sum()) / static_cast<double>(left.count()), -1, 1));
            }
            if (K == 128)
                cos128[i] = c;
        }
    }
    // Depth and z-score along the candidates in text order.
    std::vector<double> curve32(m.rows), curve128(m.rows);
    for (std::size_t k = 0; k < m.rows; ++k) {
        curve32[k] = cos32[order[k]];
        curve128[k] = cos128[order[k]];
    }
    const auto depth32 = segment::depthScores(curve32), depth128 = segment::depthScores(curve128);
    double mean = 0, var = 0;
    for (double v : cos32)
        mean += v;
    mean /= static_cast<double>(m.rows);
    for (double v : cos32)
        var += (v - mean) * (v - mean);
    const double sd = std::max(1e-3, std::sqrt(var / static_cast<double>(m.rows)));
    for (std::size_t k = 0; k < m.rows; ++k) {
        const std::size_t i = order[k];
        set(i, Cos32Depth, clip(depth32[k], 0, 4));
        set(i, Cos128Depth, clip(depth128[k], 0, 4));
        set(i, Cos32Z, clip((cos32[i] - mean) / sd, -4, 4));
        const std::size_t t = at[i];
        if (t > 0 && t < n) {
            double dot = 0;
            const float *a = lm.row(t - 1), *b = lm.row(t);
            for (std::size_t d = 0; d < lm.width; ++d)
                dot += static_cast<double>(a[d]) * b[d];
            set(i, EdgeCos, clip(dot, -1, 1));
        }
    }
    return m;
}

} // namespace blocklens::learn
