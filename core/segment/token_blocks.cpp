#include "segment/token_blocks.hpp"

namespace blocklens::segment {

std::vector<std::int64_t> tokenBlockStarts(const Segmentation& segmentation)
{
    std::vector<std::int64_t> starts;
    for (const auto& b : segmentation.blocks)
        if (b.tokens() > 0)
            starts.push_back(static_cast<std::int64_t>(b.tokenBegin));
    if (starts.empty() || starts.front() != 0)
        starts.insert(starts.begin(), 0);
    return starts;
}

std::vector<std::int64_t> tokenBlockStarts(const TokenGrid& grid, std::span<const std::size_t> cuts)
{
    std::vector<std::int64_t> starts{0};
    const auto total = static_cast<std::int64_t>(grid.size());
    for (const std::size_t cut : cuts) {
        // Tokens that begin before the snapped cut belong to the blocks before it.
        const auto t = static_cast<std::int64_t>(grid.tokensBefore(grid.snap(cut)));
        if (t > starts.back() && t < total)
            starts.push_back(t);
    }
    return starts;
}

void appendQueryBlock(std::vector<std::int32_t>& ids, std::vector<std::int64_t>& blocks, std::span<const std::int32_t> query)
{
    if (query.empty())
        return;
    if (!ids.empty())
        blocks.push_back(static_cast<std::int64_t>(ids.size()));
    else if (blocks.empty())
        blocks.push_back(0);
    ids.insert(ids.end(), query.begin(), query.end());
}

} // namespace blocklens::segment
