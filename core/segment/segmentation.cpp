#include "segment/segmentation.hpp"

#include "util/error.hpp"
#include "version.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace blocklens::segment {

std::vector<std::size_t> Segmentation::boundaries() const
{
    std::vector<std::size_t> out;
    for (std::size_t i = 1; i < blocks.size(); ++i)
        out.push_back(blocks[i].begin);
    return out;
}

std::string Segmentation::parametersJson() const
{
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& [k, v] : provenance.parameters)
        j[k] = v;
    return j.dump();
}

std::string segmentVersionString()
{
    return std::string("blocklens ") + kVersion + ", segment " + std::to_string(kSegmentAlgorithmVersion);
}

Segmentation makeSegmentation(const TokenGrid& grid, const std::vector<std::size_t>& cuts, Provenance provenance)
{
    Segmentation s;
    s.provenance = std::move(provenance);
    const std::size_t length = grid.textLength();
    std::size_t begin = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t end = i < cuts.size() ? cuts[i] : length;
        if (i < cuts.size()) {
            if (end <= begin || end >= length)
                throw Error("block boundaries must be ascending and inside the text (got " + std::to_string(end)
                            + " after " + std::to_string(begin) + ", text of " + std::to_string(length)
                            + " code points)");
            if (!grid.isCutPoint(end))
                throw Error("block boundary " + std::to_string(end) + " would cut a token");
        }
        s.blocks.push_back({begin, end, grid.tokensBefore(begin), grid.tokensBefore(end)});
        begin = end;
    }
    return s;
}

std::string formatNumber(double v)
{
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

} // namespace blocklens::segment
