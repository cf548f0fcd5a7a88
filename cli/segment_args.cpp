#include "cli/segment_args.hpp"

#include "store/store.hpp"

#include <cmath>
#include <cstdlib>

namespace blocklens::cli {

ArgSpec& addSegmentOptions(ArgSpec& spec)
{
    return spec.option("target-tokens", "N", "blocks of about N tokens (dynamic program)")
        .option("blocks", "N", "exactly N blocks (dynamic program)")
        .option("num-blocks", "N", "old name of --blocks (compare, before issue 15)")
        .option("threshold", "T", "cut where the boundary score is at least T (threshold decoder)")
        .option("depth", "D", "with --threshold: split blocks over the target size again, D times")
        .option("min-tokens", "N", "minimum block size: smaller blocks join a neighbour unless the maximum forbids it "
                                   "(default: the segmenter's, see 'segmenters')")
        .option("max-tokens", "N", "hard maximum block size in tokens (never exceeded)")
        .option("regex", "PATTERN", "also allow cuts at matches of this PCRE2 pattern (multiline)");
}

bool hasGranularity(const ArgSpec::Parsed& a)
{
    return a.has("target-tokens") || a.has("blocks") || a.has("num-blocks") || a.has("threshold") || a.has("depth");
}

bool hasSegmentOptions(const ArgSpec::Parsed& a)
{
    return hasGranularity(a) || a.has("min-tokens") || a.has("max-tokens") || a.has("regex");
}

ArgSpec& addRecordOption(ArgSpec& spec)
{
    return spec.option("db", "PATH", "record the result in this workspace database (created if missing); "
                                     "nothing is recorded without --db");
}

std::optional<std::filesystem::path> recordPath(const ArgSpec::Parsed& a)
{
    const auto option = a.optional("db");
    if (!option)
        return std::nullopt;
    if (option->empty())
        throw UsageError{"--db needs a file path"};
    return store::resolveWorkspacePath(option);
}

std::string recordAuthor()
{
    const char* user = std::getenv("USER");
    return user && *user ? std::string(user) : std::string("blocklens-cli");
}

namespace {

std::size_t positive(const ArgSpec::Parsed& a, const std::string& name)
{
    const std::int64_t v = a.integer(name);
    if (v < 1)
        throw UsageError{"--" + name + " must be at least 1, got " + std::to_string(v)};
    return static_cast<std::size_t>(v);
}

} // namespace

segment::SegmentOptions readSegmentOptions(const ArgSpec::Parsed& a)
{
    using segment::Granularity;
    const int controls = int(a.has("target-tokens")) + int(a.has("blocks")) + int(a.has("num-blocks")) + int(a.has("threshold"));
    if (controls > 1)
        throw UsageError{"give only one of --target-tokens, --blocks and --threshold"};
    if (a.has("depth") && !a.has("threshold"))
        throw UsageError{"--depth goes with --threshold"};
    segment::SegmentOptions o;
    if (a.has("target-tokens"))
        o.granularity = Granularity::target(positive(a, "target-tokens"));
    else if (a.has("blocks"))
        o.granularity = Granularity::exactBlocks(positive(a, "blocks"));
    else if (a.has("num-blocks"))
        o.granularity = Granularity::exactBlocks(positive(a, "num-blocks"));
    else if (a.has("threshold")) {
        const double t = a.number("threshold");
        if (!std::isfinite(t))
            throw UsageError{"--threshold must be a finite number"};
        std::int64_t depth = a.has("depth") ? a.integer("depth") : 0;
        if (depth < 0 || depth > 64)
            throw UsageError{"--depth must be between 0 and 64, got " + std::to_string(depth)};
        o.granularity = Granularity::thresholdDepth(t, static_cast<int>(depth));
    }
    if (a.has("min-tokens"))
        o.granularity.minTokens = positive(a, "min-tokens");
    if (a.has("max-tokens"))
        o.granularity.maxTokens = positive(a, "max-tokens");
    if (o.granularity.minTokens && o.granularity.maxTokens && *o.granularity.minTokens > *o.granularity.maxTokens)
        throw UsageError{"--min-tokens exceeds --max-tokens"};
    o.regex = a.value("regex");
    return o;
}

} // namespace blocklens::cli
