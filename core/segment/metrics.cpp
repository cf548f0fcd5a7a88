#include "segment/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace blocklens::segment {

std::vector<std::size_t> boundaryLines(std::span<const std::size_t> lineStarts, std::span<const std::size_t> offsets)
{
    std::vector<std::size_t> out;
    out.reserve(offsets.size());
    for (std::size_t o : offsets) {
        // text[o] == '\n' exactly when a line starts at o + 1: then the boundary opens that line.
        const auto next = std::lower_bound(lineStarts.begin(), lineStarts.end(), o + 1);
        std::size_t line;
        if (next != lineStarts.end() && *next == o + 1)
            line = static_cast<std::size_t>(next - lineStarts.begin());
        else
            line = static_cast<std::size_t>(std::upper_bound(lineStarts.begin(), lineStarts.end(), o) - lineStarts.begin()) - 1;
        if (line > 0)
            out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::size_t windowSize(std::size_t lines, std::size_t referenceBoundaries)
{
    // Python: n / (b + 1) / 2 (true division, then round half to even).
    const double x = static_cast<double>(lines) / static_cast<double>(referenceBoundaries + 1) / 2.0;
    double r = std::floor(x);
    const double frac = x - r;
    if (frac > 0.5 || (frac == 0.5 && std::fmod(r, 2.0) != 0.0))
        r += 1.0;
    return std::max<std::size_t>(2, static_cast<std::size_t>(r));
}

namespace {

// prefix[i] = number of boundaries on lines < i.
std::vector<std::size_t> prefixCounts(std::span<const std::size_t> boundaries, std::size_t lines)
{
    std::vector<std::size_t> prefix(lines + 1, 0);
    for (std::size_t b : boundaries)
        if (b < lines)
            ++prefix[b + 1];
    for (std::size_t i = 1; i <= lines; ++i)
        prefix[i] += prefix[i - 1];
    return prefix;
}

template <typename Disagree>
double windowMetric(std::span<const std::size_t> ref, std::span<const std::size_t> hyp, std::size_t lines,
                    std::size_t k, Disagree disagree)
{
    if (k > lines || k == 0)
        return std::numeric_limits<double>::quiet_NaN();
    const auto r = prefixCounts(ref, lines), h = prefixCounts(hyp, lines);
    std::size_t errors = 0;
    const std::size_t windows = lines - k + 1;
    for (std::size_t i = 0; i < windows; ++i)
        errors += disagree(r[i + k] - r[i], h[i + k] - h[i]) ? 1 : 0;
    return static_cast<double>(errors) / static_cast<double>(windows);
}

} // namespace

double pk(std::span<const std::size_t> reference, std::span<const std::size_t> hypothesis, std::size_t lines,
          std::size_t k)
{
    return windowMetric(reference, hypothesis, lines, k, [](std::size_t r, std::size_t h) { return (r > 0) != (h > 0); });
}

double windowDiff(std::span<const std::size_t> reference, std::span<const std::size_t> hypothesis,
                  std::size_t lines, std::size_t k)
{
    return windowMetric(reference, hypothesis, lines, k, [](std::size_t r, std::size_t h) { return r != h; });
}

BoundaryMatch matchBoundaries(std::span<const std::size_t> reference, std::span<const std::size_t> hypothesis,
                              std::size_t tolerance)
{
    BoundaryMatch m;
    m.reference = reference.size();
    m.hypothesis = hypothesis.size();
    std::size_t i = 0, j = 0;
    while (i < reference.size() && j < hypothesis.size()) {
        const std::size_t r = reference[i], h = hypothesis[j];
        if ((r > h ? r - h : h - r) <= tolerance) {
            ++m.matched;
            ++i;
            ++j;
        } else if (r < h) {
            ++i;
        } else {
            ++j;
        }
    }
    return m;
}

} // namespace blocklens::segment
