#include "segment/evaluation.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace blocklens::segment {

std::string_view toString(Protocol p) { return p == Protocol::OracleCount ? "oracle-count" : "free"; }

Protocol parseProtocol(std::string_view name)
{
    if (name == "oracle-count")
        return Protocol::OracleCount;
    if (name == "free")
        return Protocol::Free;
    throw Error("unknown protocol '" + std::string(name) + "' (known: oracle-count, free)");
}

BlockStats BlockStats::of(std::vector<std::size_t> sizes, std::size_t maxAllowed)
{
    BlockStats s;
    s.blocks = sizes.size();
    if (sizes.empty())
        return s;
    std::sort(sizes.begin(), sizes.end());
    s.minTokens = sizes.front();
    s.maxTokens = sizes.back();
    s.medianTokens = sizes[sizes.size() / 2];
    s.p90Tokens = sizes[std::min(sizes.size() - 1, sizes.size() * 9 / 10)];
    double sum = 0;
    for (std::size_t x : sizes) {
        sum += static_cast<double>(x);
        s.overMax += (maxAllowed > 0 && x > maxAllowed) ? 1 : 0;
    }
    s.meanTokens = sum / static_cast<double>(sizes.size());
    return s;
}

DocumentResult evaluateDocument(const Document& doc, const Segmenter& segmenter, const EvalOptions& options)
{
    DocumentResult r;
    r.id = doc.meta().id;
    r.category = doc.meta().category.empty() ? "-" : doc.meta().category;
    r.variant = doc.meta().variant.empty() ? "-" : doc.meta().variant;
    const auto lineStarts = doc.lineStarts();
    r.lines = lineStarts.size();
    std::vector<std::size_t> refOffsets;
    for (const auto& b : doc.reference())
        if (b.level <= options.level)
            refOffsets.push_back(b.offset);
    r.referenceLines = boundaryLines(lineStarts, refOffsets);
    r.k = windowSize(r.lines, r.referenceLines.size());

    const TokenGrid grid = options.tokenizer
        ? TokenGrid::fromEncoding(options.tokenizer->encode(doc.text()), doc.length(), options.tokenizer->describe())
        : TokenGrid::approximate(doc);
    SegmentOptions so = options.segment;
    if (options.protocol == Protocol::OracleCount) {
        r.requestedBlocks = r.referenceLines.size() + 1;
        const auto keep = so.granularity;
        so.granularity = Granularity::exactBlocks(r.requestedBlocks);
        so.granularity.minTokens = keep.minTokens;
        so.granularity.maxTokens = keep.maxTokens;
    }
    const Segmentation seg = segmenter.segment(doc, grid, so);
    r.boundaries = seg.boundaries();
    r.hypothesisLines = boundaryLines(lineStarts, r.boundaries);
    r.pk = pk(r.referenceLines, r.hypothesisLines, r.lines, r.k);
    r.windowDiff = windowDiff(r.referenceLines, r.hypothesisLines, r.lines, r.k);
    r.exact = matchBoundaries(r.referenceLines, r.hypothesisLines, 0);
    r.tolerant = matchBoundaries(r.referenceLines, r.hypothesisLines, 1);
    for (const auto& b : seg.blocks)
        r.blockTokens.push_back(b.tokens());
    return r;
}

std::vector<GroupResult> aggregate(const std::vector<DocumentResult>& documents, std::size_t maxTokens)
{
    struct Acc {
        GroupResult g;
        double pkSum = 0, wdSum = 0;
        std::vector<std::size_t> sizes;
    };
    std::map<std::pair<std::string, std::string>, Acc> byGroup;
    auto add = [&](const std::string& category, const std::string& variant, const DocumentResult& d) {
        Acc& a = byGroup[{category, variant}];
        a.g.category = category;
        a.g.variant = variant;
        ++a.g.documents;
        if (!std::isnan(d.pk)) {
            ++a.g.scoredDocuments;
            a.pkSum += d.pk;
            a.wdSum += d.windowDiff;
        }
        a.g.exact += d.exact;
        a.g.tolerant += d.tolerant;
        if (d.requestedBlocks > 0 && d.hypothesisLines.size() != d.referenceLines.size())
            ++a.g.countMismatches;
        a.sizes.insert(a.sizes.end(), d.blockTokens.begin(), d.blockTokens.end());
    };
    for (const auto& d : documents) {
        add(d.category, d.variant, d);
        add("all", d.variant, d);
        add("all", "all", d);
    }
    std::vector<GroupResult> specific, perVariant;
    GroupResult overall;
    for (auto& [key, a] : byGroup) {
        a.g.pk = a.g.scoredDocuments ? a.pkSum / static_cast<double>(a.g.scoredDocuments) : std::nan("");
        a.g.windowDiff = a.g.scoredDocuments ? a.wdSum / static_cast<double>(a.g.scoredDocuments) : std::nan("");
        a.g.blocks = BlockStats::of(std::move(a.sizes), maxTokens);
        if (key.first == "all" && key.second == "all")
            overall = a.g;
        else if (key.first == "all")
            perVariant.push_back(a.g);
        else
            specific.push_back(a.g);
    }
    // A variant-only group duplicates the overall one when the dataset has a single variant.
    std::vector<GroupResult> out = specific;
    if (perVariant.size() > 1)
        out.insert(out.end(), perVariant.begin(), perVariant.end());
    if (!documents.empty())
        out.push_back(overall);
    return out;
}

EvaluationReport evaluate(const Dataset& dataset, const Segmenter& segmenter, const EvalOptions& options,
                          const Progress& progress)
{
    EvaluationReport report;
    report.segmenter = segmenter.name();
    report.protocol = options.protocol;
    report.level = options.level;
    report.tokenUnit = options.tokenizer ? options.tokenizer->describe() : std::string(kApproxTokenUnit);
    report.maxTokens = options.segment.granularity.maxTokens.value_or(segmenter.spec().maxTokens);
    const auto total = static_cast<std::int64_t>(dataset.documents.size());
    for (std::size_t i = 0; i < dataset.documents.size(); ++i) {
        if (progress.stopRequested())
            break;
        const Document& doc = dataset.documents[i];
        try {
            report.documents.push_back(evaluateDocument(doc, segmenter, options));
        } catch (const Error& e) {
            throw Error("document " + std::to_string(i + 1) + " (id " + doc.meta().id + "): " + e.what());
        }
        progress(static_cast<std::int64_t>(i + 1), total, "documents");
    }
    report.groups = aggregate(report.documents, report.maxTokens);
    return report;
}

double overallPk(const EvaluationReport& report)
{
    return report.groups.empty() ? std::nan("") : report.groups.back().pk;
}

} // namespace blocklens::segment
