#include "learn/examples.hpp"

#include "learn/learned_scorer.hpp"
#include "segment/metrics.hpp"
#include "segment/token_grid.hpp"
#include "util/error.hpp"

#include <algorithm>

namespace blocklens::learn {

DocumentExamples documentExamples(const Document& doc, int level, const LmStateSource* lm)
{
    using namespace segment;
    std::vector<std::size_t> offsets;
    for (const auto& b : doc.reference())
        if (b.level <= level)
            offsets.push_back(b.offset);
    if (offsets.empty())
        throw Error("document " + doc.meta().id + " has no reference boundary of level <= " + std::to_string(level)
                    + " to learn from");
    const auto lineStarts = doc.lineStarts();
    const auto refLines = boundaryLines(lineStarts, offsets);
    std::vector<std::size_t> finerOffsets;
    for (const auto& b : doc.reference())
        if (b.level > level)
            finerOffsets.push_back(b.offset);
    const auto finerLines = boundaryLines(lineStarts, finerOffsets);

    const TextLayout layout(doc);
    const auto shapes = lineShapes(layout);
    const RuleSet rules = learnedSpec(nullptr).rules;
    const auto candidates = findCandidates(layout, shapes, {rules, {}});
    const TokenGrid grid = TokenGrid::approximate(doc);
    const SegmentContext ctx{doc, layout, shapes, grid};

    DocumentExamples e;
    e.x = lm ? computeFeatures(ctx, candidates, lm->states(doc)) : computeFeatures(ctx, candidates);
    e.label.assign(candidates.size(), 0.0f);
    e.referenceLines = refLines.size();
    // A finer boundary is marked only where its line has no heading shape: there, nothing but the
    // source's habits tells its level apart (a text whose headings were removed), so the trainer
    // may weigh it less as a negative; where a heading shows its level, it stays a plain negative.
    std::size_t headingColumn = 0;
    for (const auto names = featureNames(); headingColumn < names.size(); ++headingColumn)
        if (names[headingColumn] == "heading_strength")
            break;
    e.finer.assign(candidates.size(), 0);
    for (std::size_t c : lineCarriers(layout, candidates, finerLines))
        if (c != static_cast<std::size_t>(-1))
            e.finer[c] = e.x.at(c, headingColumn) < 0.35f ? 1 : 0;
    for (std::size_t c : lineCarriers(layout, candidates, refLines)) {
        if (c != static_cast<std::size_t>(-1)) {
            e.label[c] = 1.0f;
            e.finer[c] = 0;
            ++e.carried;
        }
    }
    return e;
}

std::vector<std::size_t> lineCarriers(const segment::TextLayout& layout, std::span<const segment::Candidate> candidates,
                                      std::span<const std::size_t> lines)
{
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    // The candidate starting each line, if any.
    std::vector<std::size_t> atLine(layout.size(), none);
    for (std::size_t i = 0; i < candidates.size(); ++i)
        if (candidates[i].offset == layout[candidates[i].line].begin)
            atLine[candidates[i].line] = i;
    std::vector<std::size_t> out;
    out.reserve(lines.size());
    for (std::size_t line : lines) {
        while (line < layout.size() && layout[line].blank && atLine[line] == none)
            ++line;
        out.push_back(line < layout.size() ? atLine[line] : none);
    }
    return out;
}

void TrainingSet::append(const DocumentExamples& e, double documentWeight)
{
    if (cols == 0)
        cols = e.x.cols;
    if (e.x.rows == 0)
        return;
    x.insert(x.end(), e.x.values.begin(), e.x.values.end());
    label.insert(label.end(), e.label.begin(), e.label.end());
    finer.insert(finer.end(), e.finer.begin(), e.finer.end());
    const float w = static_cast<float>(documentWeight / static_cast<double>(e.x.rows));
    weight.insert(weight.end(), e.x.rows, w);
    document.insert(document.end(), e.x.rows, static_cast<std::uint32_t>(documents));
    positives += static_cast<std::size_t>(std::count(e.label.begin(), e.label.end(), 1.0f));
    ++documents;
}

bool inTrainingSplit(const DocumentMeta& meta, double trainFraction, std::uint64_t seed)
{
    if (trainFraction >= 1.0)
        return true;
    if (trainFraction <= 0.0)
        return false;
    const std::string& key = meta.source.empty() ? meta.id : meta.source;
    // FNV-1a 64 of the key, then a splitmix64 finaliser with the seed mixed in.
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : key) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    h ^= seed * 0x9e3779b97f4a7c15ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    const double u = static_cast<double>(h >> 11) / 9007199254740992.0; // [0, 1)
    return u < trainFraction;
}

} // namespace blocklens::learn
