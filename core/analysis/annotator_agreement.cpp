#include "analysis/annotator_agreement.hpp"

#include "segment/metrics.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace blocklens::analysis {

BoundaryString lineBoundaryString(std::span<const std::size_t> lineStarts, const std::vector<Boundary>& boundaries,
                                  int level)
{
    BoundaryString s(lineStarts.empty() ? 0 : lineStarts.size() - 1, 0);
    std::vector<int> coarsest(s.size(), 0); // per position: the smallest level on that line
    for (const auto& b : boundaries) {
        const std::size_t offset = b.offset;
        const auto lines = segment::boundaryLines(lineStarts, std::span<const std::size_t>(&offset, 1));
        if (lines.empty())
            continue; // on line 0: not a potential boundary
        int& c = coarsest[lines.front() - 1];
        c = c == 0 ? b.level : std::min(c, b.level);
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (coarsest[i] == 0)
            continue;
        if (level == 0)
            s[i] = static_cast<TypeSet>(TypeSet{1} << coarsest[i]);
        else if (coarsest[i] <= level)
            s[i] = static_cast<TypeSet>(TypeSet{1} << 1);
    }
    return s;
}

namespace {

std::vector<std::size_t> boundaryLinesOf(const BoundaryString& s)
{
    std::vector<std::size_t> lines;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i])
            lines.push_back(i + 1);
    return lines;
}

// Pk or WindowDiff with each annotator as the reference in turn, averaged over the directions
// where a window fits.
template <class Metric>
std::optional<double> symmetricWindowMetric(const BoundaryString& a, const BoundaryString& b, Metric metric)
{
    const std::size_t lines = a.size() + 1;
    const auto la = boundaryLinesOf(a), lb = boundaryLinesOf(b);
    double sum = 0;
    int n = 0;
    for (const auto& [ref, hyp] : {std::pair{&la, &lb}, std::pair{&lb, &la}}) {
        const double v = metric(*ref, *hyp, lines, segment::windowSize(lines, ref->size()));
        if (!std::isnan(v)) {
            sum += v;
            ++n;
        }
    }
    return n ? std::optional<double>(sum / n) : std::nullopt;
}

PairMeasures comparePair(const BoundaryString& a, const BoundaryString& b, const PairStatistics& s)
{
    PairMeasures m;
    m.b = boundarySimilarityParts(s).value();
    m.s = segmentationSimilarityParts(s).value();
    m.editDistance = s.weightedEdits;
    m.additions = s.edits.additions.size();
    m.substitutions = s.edits.substitutions.size();
    m.transpositions = s.edits.transpositions.size();
    m.matches = s.matches;
    m.pk = symmetricWindowMetric(a, b, [](auto& r, auto& h, std::size_t n, std::size_t k) { return segment::pk(r, h, n, k); });
    m.windowDiff = symmetricWindowMetric(
        a, b, [](auto& r, auto& h, std::size_t n, std::size_t k) { return segment::windowDiff(r, h, n, k); });
    return m;
}

struct Mean {
    double sum = 0;
    std::size_t n = 0;
    void add(double v)
    {
        sum += v;
        ++n;
    }
    void add(const std::optional<double>& v)
    {
        if (v)
            add(*v);
    }
    double value(double empty) const { return n ? sum / static_cast<double>(n) : empty; }
    std::optional<double> optional() const { return n ? std::optional<double>(sum / static_cast<double>(n)) : std::nullopt; }
};

LevelAgreement measureLevel(const std::vector<const AnnotatedDocument*>& docs, int level, std::size_t nT,
                            const Progress& progress, std::int64_t& done, std::int64_t total)
{
    LevelAgreement out;
    out.level = level;
    // Each (pair, document) is compared once; the statistics feed every aggregate.
    AgreementAccumulator dataset;
    Mean b, s, pk, wd;
    struct PairAccumulator {
        Mean b, s, pk, wd;
        AnnotatorPairAgreement result;
        AgreementAccumulator coefficients;
    };
    std::map<std::pair<std::string, std::string>, PairAccumulator> pairs;
    std::vector<std::pair<std::string, BoundaryString>> codings;
    for (const AnnotatedDocument* doc : docs) {
        if (progress.stopRequested())
            throw Error("agreement cancelled");
        codings.clear();
        for (const auto& v : doc->versions)
            codings.emplace_back(v.annotator, lineBoundaryString(doc->lineStarts, v.boundaries, level));
        DocumentAgreement d;
        d.id = doc->id;
        d.row = doc->row;
        AgreementAccumulator document;
        document.beginItem();
        dataset.beginItem();
        Mean db, ds;
        for (std::size_t m = 0; m < codings.size(); ++m) {
            d.annotators.push_back(codings[m].first);
            for (std::size_t n = m + 1; n < codings.size(); ++n) {
                // Pairs are named in sorted order so each annotator pair aggregates once.
                const auto* first = &codings[m];
                const auto* second = &codings[n];
                if (second->first < first->first)
                    std::swap(first, second);
                const PairStatistics stats = boundaryStatistics(first->second, second->second, nT);
                const PairMeasures pm = comparePair(first->second, second->second, stats);
                document.add(first->first, second->first, stats);
                dataset.add(first->first, second->first, stats);
                db.add(pm.b);
                ds.add(pm.s);
                b.add(pm.b);
                s.add(pm.s);
                pk.add(pm.pk);
                wd.add(pm.windowDiff);
                auto& acc = pairs[{first->first, second->first}];
                acc.b.add(pm.b);
                acc.s.add(pm.s);
                acc.pk.add(pm.pk);
                acc.wd.add(pm.windowDiff);
                acc.coefficients.beginItem();
                acc.coefficients.add(first->first, second->first, stats);
                auto& r = acc.result;
                ++r.documents;
                r.editDistance += pm.editDistance;
                r.additions += pm.additions;
                r.substitutions += pm.substitutions;
                r.transpositions += pm.transpositions;
                r.matches += pm.matches;
                d.pairs.push_back({first->first, second->first, pm});
            }
        }
        d.meanB = db.value(1.0);
        d.meanS = ds.value(1.0);
        d.byB = document.result(SimilarityMeasure::B);
        out.documents.push_back(std::move(d));
        progress(++done, total, "documents");
    }
    out.byB = dataset.result(SimilarityMeasure::B);
    out.byS = dataset.result(SimilarityMeasure::S);
    out.meanB = b.value(1.0);
    out.meanS = s.value(1.0);
    out.pk = pk.optional();
    out.windowDiff = wd.optional();
    for (auto& [names, acc] : pairs) {
        auto r = acc.result;
        r.a = names.first;
        r.b = names.second;
        r.meanB = acc.b.value(1.0);
        r.meanS = acc.s.value(1.0);
        r.pk = acc.pk.optional();
        r.windowDiff = acc.wd.optional();
        r.byB = acc.coefficients.result(SimilarityMeasure::B);
        out.pairs.push_back(std::move(r));
    }
    return out;
}

} // namespace

DatasetAgreement measureAgreement(const std::vector<AnnotatedDocument>& documents, const AgreementOptions& options,
                                  const Progress& progress)
{
    if (options.transpositionSpan < 2)
        throw Error("the near-miss span must be at least 2 lines (got " + std::to_string(options.transpositionSpan) + ")");
    DatasetAgreement out;
    out.documents = documents.size();
    std::vector<const AnnotatedDocument*> compared;
    std::set<std::string> annotators;
    int deepest = 1;
    for (const auto& doc : documents) {
        std::set<std::string> names;
        for (const auto& v : doc.versions)
            if (!names.insert(v.annotator).second)
                throw Error("document '" + doc.id + "' (row " + std::to_string(doc.row) + ") has two versions by annotator '"
                            + v.annotator + "': give one per annotator");
        if (doc.versions.empty()) {
            ++out.unannotated;
            continue;
        }
        if (doc.versions.size() == 1) {
            ++out.singleAnnotator;
            continue;
        }
        compared.push_back(&doc);
        annotators.insert(names.begin(), names.end());
        for (const auto& v : doc.versions)
            for (const auto& b : v.boundaries)
                deepest = std::max(deepest, b.level);
    }
    out.compared = compared.size();
    out.annotators.assign(annotators.begin(), annotators.end());
    std::vector<int> levels = options.levels;
    if (levels.empty()) {
        for (int l = 1; l <= deepest; ++l)
            levels.push_back(l);
        levels.push_back(0);
    }
    for (int l : levels)
        if (l < 0 || l > 9)
            throw Error("level " + std::to_string(l) + " is outside 1..9 (0: every level, as boundary types)");
    std::int64_t done = 0;
    const auto total = static_cast<std::int64_t>(compared.size() * levels.size());
    for (int l : levels)
        out.levels.push_back(measureLevel(compared, l, options.transpositionSpan, progress, done, total));
    return out;
}

std::vector<std::size_t> disagreementQueue(const LevelAgreement& level)
{
    std::vector<std::size_t> order(level.documents.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        const auto& a = level.documents[x];
        const auto& b = level.documents[y];
        if (a.meanB != b.meanB)
            return a.meanB < b.meanB;
        if (a.meanS != b.meanS)
            return a.meanS < b.meanS;
        return a.row < b.row;
    });
    return order;
}

std::vector<AnnotatedDocument> loadAnnotatorVersions(store::Store& store, const std::string& datasetNameOrId)
{
    const auto datasetId = store.findDataset(datasetNameOrId);
    if (!datasetId)
        throw Error("there is no dataset '" + datasetNameOrId + "' in the workspace " + store.path().string()
                    + " (list them with 'blocklens-cli db export --query datasets')");
    std::vector<AnnotatedDocument> out;
    std::map<store::Id, std::vector<std::size_t>> lineStarts; // a document may be on several rows
    for (const auto& row : store.datasetRows(*datasetId)) {
        AnnotatedDocument doc;
        doc.id = row.meta.id.empty() ? "row " + std::to_string(row.index) : row.meta.id;
        doc.row = row.index;
        auto it = lineStarts.find(row.documentId);
        if (it == lineStarts.end())
            it = lineStarts.emplace(row.documentId, store.loadDocument(row.documentId).lineStarts()).first;
        doc.lineStarts = it->second;
        // An annotator's version is a manual segmentation they made; their latest one counts.
        std::map<std::string, store::Id> latest;
        for (const auto& v : store.segmentationHistory(row.documentId))
            if (v.segmenter == "manual" && !v.author.empty())
                latest[v.author] = std::max(latest[v.author], v.id);
        for (const auto& [author, id] : latest)
            doc.versions.push_back({author, id, store.boundaries(id)});
        out.push_back(std::move(doc));
    }
    return out;
}

} // namespace blocklens::analysis
