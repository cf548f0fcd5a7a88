#include "reference/attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace blocklens::kernels::ref {
namespace {

void checkShape(const AttentionShape& s, std::size_t qSize, std::size_t kSize)
{
    if (s.nTokens <= 0 || s.nHeads <= 0 || s.nKvHeads <= 0 || s.headDim <= 0 || s.nHeads % s.nKvHeads != 0)
        throw std::invalid_argument("attention reference: bad shape (heads must be a multiple of kv_heads)");
    const auto n = static_cast<std::size_t>(s.nTokens), d = static_cast<std::size_t>(s.headDim);
    if (qSize != static_cast<std::size_t>(s.nHeads) * n * d || kSize != static_cast<std::size_t>(s.nKvHeads) * n * d)
        throw std::invalid_argument("attention reference: array sizes do not match the shape");
}

double scaleOf(const AttentionShape& s)
{
    return s.scale > 0 ? s.scale : 1.0 / std::sqrt(static_cast<double>(s.headDim));
}

double dot(const double* a, const double* b, int d)
{
    double acc = 0;
    for (int i = 0; i < d; ++i)
        acc += a[i] * b[i];
    return acc;
}

// Softmax-weighted sum of v over keys [kBegin, kEnd) filtered by allows(j), for one query row.
void attendRow(const double* qRow, const double* kHead, const double* vHead, int d, double scale, int kBegin, int kEnd,
               const std::function<bool(int)>& allows, std::vector<double>& scores, double* out)
{
    scores.assign(static_cast<std::size_t>(kEnd - kBegin), -std::numeric_limits<double>::infinity());
    double mx = -std::numeric_limits<double>::infinity();
    for (int j = kBegin; j < kEnd; ++j) {
        if (!allows(j))
            continue;
        const double s = dot(qRow, kHead + static_cast<std::size_t>(j) * d, d) * scale;
        scores[static_cast<std::size_t>(j - kBegin)] = s;
        mx = std::max(mx, s);
    }
    if (!std::isfinite(mx))
        throw std::invalid_argument("attention reference: a query row is allowed no key");
    double sum = 0;
    for (double& s : scores) {
        s = std::isinf(s) ? 0.0 : std::exp(s - mx);
        sum += s;
    }
    std::fill(out, out + d, 0.0);
    for (int j = kBegin; j < kEnd; ++j) {
        const double p = scores[static_cast<std::size_t>(j - kBegin)] / sum;
        if (p == 0)
            continue;
        const double* vRow = vHead + static_cast<std::size_t>(j) * d;
        for (int c = 0; c < d; ++c)
            out[c] += p * vRow[c];
    }
}

} // namespace

void checkBlockStarts(std::span<const std::int32_t> starts, int nTokens)
{
    if (starts.size() < 2 || starts.front() != 0 || starts.back() != nTokens)
        throw std::invalid_argument("block starts must run from 0 to n_tokens (" + std::to_string(nTokens) + ")");
    for (std::size_t b = 1; b < starts.size(); ++b)
        if (starts[b] <= starts[b - 1])
            throw std::invalid_argument("block starts must be strictly increasing (block " + std::to_string(b - 1) + " is empty)");
}

int blockOf(std::span<const std::int32_t> starts, int t)
{
    const auto it = std::upper_bound(starts.begin(), starts.end() - 1, t);
    return static_cast<int>(it - starts.begin()) - 1;
}

bool blockMaskAllows(std::span<const std::int32_t> starts, int i, int j)
{
    if (j > i)
        return false;
    const int bi = blockOf(starts, i);
    const int last = static_cast<int>(starts.size()) - 2;
    return bi == last || blockOf(starts, j) == bi;
}

std::vector<double> maskedAttentionRef(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                       const AttentionShape& shape, const std::function<bool(int, int)>& allows)
{
    checkShape(shape, q.size(), k.size());
    if (v.size() != k.size())
        throw std::invalid_argument("attention reference: v must have k's shape");
    const int n = shape.nTokens, d = shape.headDim, group = shape.nHeads / shape.nKvHeads;
    const double scale = scaleOf(shape);
    std::vector<double> out(q.size());
    std::vector<double> scores;
    for (int h = 0; h < shape.nHeads; ++h) {
        const std::size_t kvOff = static_cast<std::size_t>(h / group) * n * d;
        for (int i = 0; i < n; ++i) {
            const std::size_t row = (static_cast<std::size_t>(h) * n + i) * d;
            attendRow(q.data() + row, k.data() + kvOff, v.data() + kvOff, d, scale, 0, n,
                      [&](int j) { return allows(i, j); }, scores, out.data() + row);
        }
    }
    return out;
}

std::vector<double> blockPrefillRef(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                    const AttentionShape& shape, std::span<const std::int32_t> starts, bool lastBlockGlobal)
{
    checkShape(shape, q.size(), k.size());
    checkBlockStarts(starts, shape.nTokens);
    if (v.size() != k.size())
        throw std::invalid_argument("attention reference: v must have k's shape");
    const int n = shape.nTokens, d = shape.headDim, group = shape.nHeads / shape.nKvHeads;
    const int nBlocks = static_cast<int>(starts.size()) - 1;
    const double scale = scaleOf(shape);
    std::vector<double> out(q.size());
    std::vector<double> scores;
    const auto all = [](int) { return true; };
    for (int h = 0; h < shape.nHeads; ++h) {
        const std::size_t kvOff = static_cast<std::size_t>(h / group) * n * d;
        for (int b = 0; b < nBlocks; ++b) {
            const int kBegin = b == nBlocks - 1 && lastBlockGlobal ? 0 : starts[static_cast<std::size_t>(b)];
            for (int i = starts[static_cast<std::size_t>(b)]; i < starts[static_cast<std::size_t>(b) + 1]; ++i) {
                const std::size_t row = (static_cast<std::size_t>(h) * n + i) * d;
                attendRow(q.data() + row, k.data() + kvOff, v.data() + kvOff, d, scale, kBegin, i + 1, all, scores,
                          out.data() + row);
            }
        }
    }
    return out;
}

AttentionMass attentionMassRef(std::span<const double> q, std::span<const double> k, const AttentionShape& shape,
                               std::span<const std::int32_t> starts)
{
    checkShape(shape, q.size(), k.size());
    checkBlockStarts(starts, shape.nTokens);
    const int n = shape.nTokens, d = shape.headDim, group = shape.nHeads / shape.nKvHeads;
    const int nb = static_cast<int>(starts.size()) - 1;
    const double scale = scaleOf(shape);
    AttentionMass r;
    r.tokenMass.assign(static_cast<std::size_t>(shape.nHeads) * n * nb, 0.0);
    r.blockMass.assign(static_cast<std::size_t>(shape.nHeads) * nb * nb, 0.0);
    std::vector<double> s(static_cast<std::size_t>(n));
    for (int h = 0; h < shape.nHeads; ++h) {
        const double* kHead = k.data() + static_cast<std::size_t>(h / group) * n * d;
        for (int i = 0; i < n; ++i) {
            const double* qRow = q.data() + (static_cast<std::size_t>(h) * n + i) * d;
            double mx = -std::numeric_limits<double>::infinity();
            for (int j = 0; j <= i; ++j) {
                s[static_cast<std::size_t>(j)] = dot(qRow, kHead + static_cast<std::size_t>(j) * d, d) * scale;
                mx = std::max(mx, s[static_cast<std::size_t>(j)]);
            }
            double sum = 0;
            for (int j = 0; j <= i; ++j) {
                s[static_cast<std::size_t>(j)] = std::exp(s[static_cast<std::size_t>(j)] - mx);
                sum += s[static_cast<std::size_t>(j)];
            }
            double* tm = r.tokenMass.data() + (static_cast<std::size_t>(h) * n + i) * nb;
            for (int j = 0, b = 0; j <= i; ++j) {
                while (j >= starts[static_cast<std::size_t>(b) + 1])
                    ++b;
                tm[b] += s[static_cast<std::size_t>(j)] / sum;
            }
            const int qb = blockOf(starts, i);
            const double len = starts[static_cast<std::size_t>(qb) + 1] - starts[static_cast<std::size_t>(qb)];
            double* bm = r.blockMass.data() + (static_cast<std::size_t>(h) * nb + qb) * nb;
            for (int b = 0; b < nb; ++b)
                bm[b] += tm[b] / len;
        }
    }
    return r;
}

} // namespace blocklens::kernels::ref
