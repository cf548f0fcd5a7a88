#include "cli/block_data_args.hpp"

#include "cli/segment_args.hpp"

#include <cmath>
#include <cstdio>

namespace blocklens::cli {

ArgSpec& addBlockDataOptions(ArgSpec& spec)
{
    spec.option("data", "PATH", "DATASET.jsonl, or a corpus text (documents separated by a line holding only U+001E)")
        .option("segmenter", "NAME", "how documents are cut into blocks (see 'segmenters')", std::string(segment::kDefaultSegmenter))
        .option("window", "T", "tokens per window, BOS included (windows do not overlap)", "512")
        .option("windows-per-doc", "N", "at most N windows from each document (0: all)", "0")
        .option("max-docs", "N", "the first N documents with text (0: all)", "0");
    return addSegmentOptions(spec);
}

usecases::BlockDataOptions readBlockDataOptions(const ArgSpec::Parsed& a)
{
    if (!a.has("data"))
        throw UsageError{"--data is required"};
    usecases::BlockDataOptions d;
    d.data = a.value("data");
    d.segmenter = a.value("segmenter");
    d.segmentOptions = readSegmentOptions(a);
    d.windows.tokens = a.integer("window");
    if (d.windows.tokens < 8)
        throw UsageError{"--window must be at least 8 tokens"};
    d.windows.maxWindowsPerDocument = std::max<std::int64_t>(0, a.integer("windows-per-doc"));
    d.maxDocuments = std::max<std::int64_t>(0, a.integer("max-docs"));
    return d;
}

std::string durationText(double seconds)
{
    const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%llds", s);
    return buf;
}

} // namespace blocklens::cli
