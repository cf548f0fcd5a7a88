#include "engine/metrics.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cmath>

namespace blocklens::engine {

double relativeError(std::span<const float> a, std::span<const float> b)
{
    if (a.size() != b.size())
        throw Error("relativeError: sizes differ");
    double diff = 0, ref = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = static_cast<double>(a[i]) - b[i];
        diff += d * d;
        ref += static_cast<double>(b[i]) * b[i];
    }
    return ref == 0 ? (diff == 0 ? 0 : INFINITY) : std::sqrt(diff / ref);
}

std::vector<double> logSoftmax(std::span<const float> row)
{
    double mx = -INFINITY;
    for (float v : row)
        mx = std::max(mx, static_cast<double>(v));
    double sum = 0;
    for (float v : row)
        sum += std::exp(v - mx);
    const double lse = mx + std::log(sum);
    std::vector<double> out(row.size());
    for (std::size_t i = 0; i < row.size(); ++i)
        out[i] = row[i] - lse;
    return out;
}

double klDivergence(std::span<const float> a, std::span<const float> b)
{
    const auto la = logSoftmax(a), lb = logSoftmax(b);
    double kl = 0;
    for (std::size_t i = 0; i < la.size(); ++i)
        kl += std::exp(la[i]) * (la[i] - lb[i]);
    return std::max(0.0, kl);
}

ModeComparison compareRuns(const RunResult& a, const RunResult& b, std::span<const std::int32_t> ids, std::int64_t from)
{
    ModeComparison m;
    const std::int64_t vocab = a.logits.vocab;
    if (vocab != b.logits.vocab)
        throw Error("compare: the runs have different vocabularies");
    const std::int64_t begin = std::max({from, a.logits.firstRow, b.logits.firstRow});
    const std::int64_t end = std::min(a.logits.firstRow + a.logits.rows, b.logits.firstRow + b.logits.rows);
    m.firstRow = begin;
    std::int64_t agree = 0, targets = 0;
    double nllA = 0, nllB = 0;
    for (std::int64_t i = begin; i < end; ++i) {
        const std::span<const float> ra(a.logits.row(i), static_cast<std::size_t>(vocab));
        const std::span<const float> rb(b.logits.row(i), static_cast<std::size_t>(vocab));
        const double kl = klDivergence(ra, rb);
        m.kl.push_back(kl);
        m.maxKl = std::max(m.maxKl, kl);
        agree += std::max_element(ra.begin(), ra.end()) - ra.begin() == std::max_element(rb.begin(), rb.end()) - rb.begin();
        if (i + 1 < static_cast<std::int64_t>(ids.size())) {
            const auto target = static_cast<std::size_t>(ids[static_cast<std::size_t>(i + 1)]);
            nllA -= logSoftmax(ra)[target];
            nllB -= logSoftmax(rb)[target];
            ++targets;
        }
    }
    if (!m.kl.empty()) {
        double s = 0;
        for (double k : m.kl)
            s += k;
        m.meanKl = s / static_cast<double>(m.kl.size());
        m.top1Agreement = static_cast<double>(agree) / static_cast<double>(m.kl.size());
    }
    if (targets > 0) {
        m.perplexityA = std::exp(nllA / static_cast<double>(targets));
        m.perplexityB = std::exp(nllB / static_cast<double>(targets));
    }
    const std::size_t g = std::min(a.generated.size(), b.generated.size());
    m.comparedGenerated = static_cast<std::int64_t>(g);
    for (std::size_t i = 0; i < g; ++i)
        if (a.generated[i] != b.generated[i]) {
            m.firstDivergentToken = static_cast<std::int64_t>(i);
            break;
        }
    if (!m.firstDivergentToken && a.generated.size() != b.generated.size())
        m.firstDivergentToken = static_cast<std::int64_t>(g);
    return m;
}

} // namespace blocklens::engine
