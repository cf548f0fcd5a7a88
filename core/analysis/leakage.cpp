#include "analysis/leakage.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cmath>

namespace blocklens::analysis {
namespace {

std::string str(std::int64_t v) { return std::to_string(v); }

// Row sums of a softmax are 1; captured in float and summed chunk by chunk, so allow rounding.
constexpr double kRowSumTolerance = 1e-3;

// The block (index into blockStarts) of every bin; checks blockStarts against the bins.
std::vector<std::int64_t> blockOfBins(const CapturedAttention& c, const std::vector<std::int64_t>& blockStarts)
{
    const auto& bins = c.binStarts();
    if (blockStarts.empty() || blockStarts.front() != 0)
        throw Error("a segmentation's first block must start at token 0", {.item = "block starts"});
    for (std::size_t i = 0; i < blockStarts.size(); ++i) {
        if (i > 0 && blockStarts[i] <= blockStarts[i - 1])
            throw Error("block starts must be strictly ascending (entry " + str(static_cast<std::int64_t>(i)) + " is " +
                            str(blockStarts[i]) + ")",
                        {.item = "block starts"});
        if (!std::binary_search(bins.begin(), bins.end(), blockStarts[i]))
            throw Error("block start " + str(blockStarts[i]) +
                            " is not a start of the captured bins: capture with the segmentations' common refinement "
                            "(or one bin per token) to measure it exactly",
                        {.item = "block starts"});
    }
    std::vector<std::int64_t> out(bins.size());
    std::size_t block = 0;
    for (std::size_t b = 0; b < bins.size(); ++b) {
        while (block + 1 < blockStarts.size() && blockStarts[block + 1] <= bins[b])
            ++block;
        out[b] = static_cast<std::int64_t>(block);
    }
    return out;
}

std::vector<std::int64_t> blockLengths(const std::vector<std::int64_t>& blockStarts, std::int64_t tokens)
{
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < blockStarts.size(); ++i)
        out.push_back((i + 1 < blockStarts.size() ? blockStarts[i + 1] : tokens) - blockStarts[i]);
    return out;
}

// M for every captured (layer, head): [layers, heads, blocks, blocks] in double.
std::vector<double> allBlockMatrices(const CapturedAttention& c, const std::vector<std::int64_t>& blockStarts)
{
    const auto blockOfBin = blockOfBins(c, blockStarts);
    const auto lengths = blockLengths(blockStarts, c.tokens());
    const auto& m = c.mass();
    const auto B = static_cast<std::int64_t>(blockStarts.size());
    const auto L = static_cast<std::int64_t>(m.layers.size());
    const std::int64_t bins = c.bins();
    std::vector<double> out(static_cast<std::size_t>(L * m.heads * B * B), 0.0);
    // The block of each row: a token (token rows) or a bin (byBlock), and the row's weight.
    std::vector<std::int64_t> rowBlock(static_cast<std::size_t>(m.rows));
    std::vector<double> rowWeight(static_cast<std::size_t>(m.rows), 1.0);
    if (c.tokenRows()) {
        std::int64_t bin = 0;
        for (std::int64_t t = 0; t < m.rows; ++t) {
            while (bin + 1 < bins && c.binStarts()[static_cast<std::size_t>(bin + 1)] <= t)
                ++bin;
            rowBlock[static_cast<std::size_t>(t)] = blockOfBin[static_cast<std::size_t>(bin)];
        }
    } else {
        for (std::int64_t r = 0; r < m.rows; ++r) {
            rowBlock[static_cast<std::size_t>(r)] = blockOfBin[static_cast<std::size_t>(r)];
            rowWeight[static_cast<std::size_t>(r)] = static_cast<double>(c.binLength(r));
        }
    }
    for (std::int64_t l = 0; l < L; ++l)
        for (std::int64_t h = 0; h < m.heads; ++h) {
            double* M = out.data() + (l * m.heads + h) * B * B;
            const float* src = m.values.data() + (l * m.heads + h) * m.rows * bins;
            for (std::int64_t r = 0; r < m.rows; ++r) {
                double* row = M + rowBlock[static_cast<std::size_t>(r)] * B;
                const double w = rowWeight[static_cast<std::size_t>(r)];
                const float* s = src + r * bins;
                for (std::int64_t b = 0; b < bins; ++b)
                    row[blockOfBin[static_cast<std::size_t>(b)]] += w * s[b];
            }
            for (std::int64_t i = 0; i < B; ++i)
                for (std::int64_t j = 0; j < B; ++j)
                    M[i * B + j] /= static_cast<double>(lengths[static_cast<std::size_t>(i)]);
        }
    return out;
}

// The (layer index, head) pairs a selection averages over.
std::vector<std::pair<std::size_t, std::int64_t>> selected(const CapturedAttention& c, const HeadSelection& s)
{
    const auto& m = c.mass();
    if (s.head && (*s.head < 0 || *s.head >= m.heads))
        throw Error("head " + str(*s.head) + " does not exist (the capture has " + str(m.heads) + " heads)", {.item = "head"});
    std::vector<std::size_t> layers;
    if (s.layer)
        layers.push_back(c.layerIndex(*s.layer));
    else
        for (std::size_t i = 0; i < m.layers.size(); ++i)
            layers.push_back(i);
    std::vector<std::pair<std::size_t, std::int64_t>> out;
    for (const auto l : layers)
        for (std::int64_t h = 0; h < m.heads; ++h)
            if (!s.head || *s.head == h)
                out.emplace_back(l, h);
    return out;
}

BlockMatrix average(const CapturedAttention& c, const std::vector<double>& all, std::int64_t B, const HeadSelection& s)
{
    BlockMatrix out;
    out.blocks = B;
    out.values.assign(static_cast<std::size_t>(B * B), 0.0);
    const auto pairs = selected(c, s);
    for (const auto& [l, h] : pairs) {
        const double* M = all.data() + (static_cast<std::int64_t>(l) * c.mass().heads + h) * B * B;
        for (std::int64_t i = 0; i < B * B; ++i)
            out.values[static_cast<std::size_t>(i)] += M[i];
    }
    for (auto& v : out.values)
        v /= static_cast<double>(pairs.size());
    return out;
}

BoundaryLeakage boundaryOf(const double* M, std::int64_t B, std::int64_t k, const std::vector<std::int64_t>& starts,
                           const std::vector<std::int64_t>& lengths, bool lastBlockGlobal)
{
    BoundaryLeakage b;
    b.index = k;
    b.token = starts[static_cast<std::size_t>(k)];
    b.queryTokens = lengths[static_cast<std::size_t>(k)];
    for (std::int64_t j = 0; j < k; ++j)
        b.crossMass += M[k * B + j];
    b.adjacent = M[k * B + k - 1];
    b.globalQuery = lastBlockGlobal && k == B - 1;
    b.dropped = b.globalQuery ? 0.0 : b.crossMass;
    return b;
}

} // namespace

CapturedAttention::CapturedAttention(engine::AttentionMass mass, std::vector<std::int64_t> binStarts, std::int64_t tokens)
    : mass_(std::move(mass)), binStarts_(std::move(binStarts)), tokens_(tokens)
{
    const auto bins = static_cast<std::int64_t>(binStarts_.size());
    if (tokens_ < 1)
        throw Error("the capture covers no tokens", {.item = "attention"});
    if (binStarts_.empty() || binStarts_.front() != 0)
        throw Error("the first bin must start at token 0", {.item = "attention bins"});
    for (std::size_t i = 1; i < binStarts_.size(); ++i)
        if (binStarts_[i] <= binStarts_[i - 1] || binStarts_[i] >= tokens_)
            throw Error("bin " + str(static_cast<std::int64_t>(i)) + " starts at " + str(binStarts_[i]) +
                            ": bins must be ascending and start before token " + str(tokens_),
                        {.item = "attention bins"});
    if (mass_.layers.empty() || mass_.heads < 1)
        throw Error("the run captured no layers", {.item = "attention"});
    if (mass_.blocks != bins)
        throw Error("the capture has " + str(mass_.blocks) + " key blocks but " + str(bins) + " bins were given",
                    {.item = "attention"});
    const std::int64_t expectedRows = mass_.byBlock ? bins : tokens_;
    if (mass_.rows != expectedRows)
        throw Error("the capture has " + str(mass_.rows) + " rows, expected " + str(expectedRows) +
                        (mass_.byBlock ? " (one per bin)" : " (one per token)"),
                    {.item = "attention"});
    const auto L = static_cast<std::int64_t>(mass_.layers.size());
    if (static_cast<std::int64_t>(mass_.values.size()) != L * mass_.heads * mass_.rows * mass_.blocks)
        throw Error("the capture holds " + str(static_cast<std::int64_t>(mass_.values.size())) + " values, its shape [" + str(L) +
                        ", " + str(mass_.heads) + ", " + str(mass_.rows) + ", " + str(mass_.blocks) + "] needs " +
                        str(L * mass_.heads * mass_.rows * mass_.blocks),
                    {.item = "attention"});
    for (std::int64_t r = 0; r < L * mass_.heads * mass_.rows; ++r) {
        double sum = 0;
        for (std::int64_t b = 0; b < bins; ++b)
            sum += mass_.values[static_cast<std::size_t>(r * bins + b)];
        if (!(std::fabs(sum - 1.0) <= kRowSumTolerance))
            throw Error("row " + str(r % mass_.rows) + " of layer " + str(mass_.layers[static_cast<std::size_t>(r / mass_.rows / mass_.heads)]) +
                            " head " + str((r / mass_.rows) % mass_.heads) + " sums to " + std::to_string(sum) +
                            ", not 1: not the attention of a full-mode run",
                        {.item = "attention"});
    }
}

std::int64_t CapturedAttention::binLength(std::int64_t bin) const
{
    const auto i = static_cast<std::size_t>(bin);
    return (i + 1 < binStarts_.size() ? binStarts_[i + 1] : tokens_) - binStarts_[i];
}

std::size_t CapturedAttention::layerIndex(std::int64_t layer) const
{
    const auto it = std::find(mass_.layers.begin(), mass_.layers.end(), layer);
    if (it == mass_.layers.end()) {
        std::string captured;
        for (const auto l : mass_.layers)
            captured += (captured.empty() ? "" : ", ") + str(l);
        throw Error("layer " + str(layer) + " was not captured (captured: " + captured + ")", {.item = "layer"});
    }
    return static_cast<std::size_t>(it - mass_.layers.begin());
}

std::vector<std::int64_t> commonRefinement(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b)
{
    std::vector<std::int64_t> out;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    out.erase(std::unique(out.begin(), out.end()), out.end());
    if (out.empty() || out.front() != 0)
        out.insert(out.begin(), 0);
    return out;
}

BlockMatrix blockMass(const CapturedAttention& capture, const std::vector<std::int64_t>& blockStarts, const HeadSelection& selection)
{
    const auto B = static_cast<std::int64_t>(blockStarts.size());
    return average(capture, allBlockMatrices(capture, blockStarts), B, selection);
}

TokenBlockMatrix tokenBlockMass(const CapturedAttention& capture, const std::vector<std::int64_t>& blockStarts,
                                const HeadSelection& selection)
{
    if (!capture.tokenRows())
        throw Error("the capture has one row per block, not per token: capture token rows for the token view",
                    {.item = "attention"});
    const auto blockOfBin = blockOfBins(capture, blockStarts);
    const auto pairs = selected(capture, selection);
    const auto& m = capture.mass();
    TokenBlockMatrix out;
    out.tokens = capture.tokens();
    out.blocks = static_cast<std::int64_t>(blockStarts.size());
    out.values.assign(static_cast<std::size_t>(out.tokens * out.blocks), 0.0);
    const std::int64_t bins = capture.bins();
    for (const auto& [l, h] : pairs) {
        const float* src = m.values.data() + (static_cast<std::int64_t>(l) * m.heads + h) * m.rows * bins;
        for (std::int64_t t = 0; t < m.rows; ++t)
            for (std::int64_t b = 0; b < bins; ++b)
                out.values[static_cast<std::size_t>(t * out.blocks + blockOfBin[static_cast<std::size_t>(b)])] += src[t * bins + b];
    }
    for (auto& v : out.values)
        v /= static_cast<double>(pairs.size());
    return out;
}

std::vector<double> LeakageReport::droppedForLayer(std::size_t layerIndex) const
{
    std::vector<double> out(boundaries.size(), 0.0);
    for (std::int64_t h = 0; h < heads; ++h)
        for (std::size_t k = 0; k < boundaries.size(); ++k)
            out[k] += droppedAt(layerIndex, h, k) / static_cast<double>(heads);
    return out;
}

LeakageReport leakage(const CapturedAttention& capture, const std::vector<std::int64_t>& blockStarts,
                      const HeadSelection& selection, bool lastBlockGlobal)
{
    const auto B = static_cast<std::int64_t>(blockStarts.size());
    const auto all = allBlockMatrices(capture, blockStarts);
    const BlockMatrix mean = average(capture, all, B, selection);
    const auto lengths = blockLengths(blockStarts, capture.tokens());
    LeakageReport r;
    r.blockStarts = blockStarts;
    r.selection = selection;
    r.lastBlockGlobal = lastBlockGlobal;
    for (std::int64_t k = 1; k < B; ++k)
        r.boundaries.push_back(boundaryOf(mean.values.data(), B, k, blockStarts, lengths, lastBlockGlobal));
    double lost = 0, counted = 0;
    for (std::int64_t i = 0; i < B; ++i) {
        if (lastBlockGlobal && i == B - 1)
            continue;
        counted += static_cast<double>(lengths[static_cast<std::size_t>(i)]);
        if (i > 0)
            lost += static_cast<double>(lengths[static_cast<std::size_t>(i)]) * r.boundaries[static_cast<std::size_t>(i - 1)].dropped;
    }
    r.total = counted > 0 ? lost / counted : 0.0;
    for (std::size_t k = 0; k < r.boundaries.size(); ++k)
        if (r.worstBoundary < 0 || r.boundaries[k].dropped > r.maxDropped) {
            r.maxDropped = r.boundaries[k].dropped;
            r.worstBoundary = static_cast<std::int64_t>(k);
        }
    const auto& m = capture.mass();
    r.layers = m.layers;
    r.heads = m.heads;
    r.droppedByLayerHead.reserve(m.layers.size() * static_cast<std::size_t>(m.heads) * r.boundaries.size());
    for (std::size_t l = 0; l < m.layers.size(); ++l)
        for (std::int64_t h = 0; h < m.heads; ++h) {
            const double* M = all.data() + (static_cast<std::int64_t>(l) * m.heads + h) * B * B;
            for (std::int64_t k = 1; k < B; ++k)
                r.droppedByLayerHead.push_back(boundaryOf(M, B, k, blockStarts, lengths, lastBlockGlobal).dropped);
        }
    return r;
}

LeakageComparison compareLeakage(const CapturedAttention& capture, const std::vector<std::int64_t>& a,
                                 const std::vector<std::int64_t>& b, const HeadSelection& selection, bool lastBlockGlobal)
{
    LeakageComparison out;
    out.a = leakage(capture, a, selection, lastBlockGlobal);
    out.b = leakage(capture, b, selection, lastBlockGlobal);
    std::size_t i = 0, j = 0;
    const auto& ba = out.a.boundaries;
    const auto& bb = out.b.boundaries;
    while (i < ba.size() || j < bb.size()) {
        LeakageComparisonRow row;
        if (j >= bb.size() || (i < ba.size() && ba[i].token < bb[j].token)) {
            row.token = ba[i].token;
            row.a = ba[i++];
            ++out.onlyA;
        } else if (i >= ba.size() || bb[j].token < ba[i].token) {
            row.token = bb[j].token;
            row.b = bb[j++];
            ++out.onlyB;
        } else {
            row.token = ba[i].token;
            row.a = ba[i++];
            row.b = bb[j++];
            ++out.shared;
        }
        out.rows.push_back(row);
    }
    return out;
}

} // namespace blocklens::analysis
