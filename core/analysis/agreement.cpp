#include "analysis/agreement.hpp"

#include "util/error.hpp"

#include <cmath>
#include <limits>
#include <map>

namespace blocklens::analysis {

namespace {

struct Record {
    double boundaries = 0, potential = 0;
};

double coefficient(double actual, double expected)
{
    if (expected >= 1.0)
        return actual >= 1.0 ? 1.0 : std::numeric_limits<double>::quiet_NaN();
    return (actual - expected) / (1.0 - expected);
}

} // namespace

ChanceCorrected chanceCorrectedAgreement(std::span<const CodedItem> items, SimilarityMeasure measure, std::size_t nT)
{
    ChanceCorrected r;
    double numerator = 0, denominator = 0;
    std::vector<std::string> coders; // first-seen order, for a stable pair order
    std::map<std::string, std::vector<Record>> records;
    for (const auto& item : items) {
        if (item.codings.size() < 2)
            continue;
        for (std::size_t m = 0; m < item.codings.size(); ++m)
            for (std::size_t n = m + 1; n < item.codings.size(); ++n)
                if (item.codings[m].first == item.codings[n].first)
                    throw Error("item '" + item.id + "' has two segmentations by annotator '" + item.codings[m].first
                                + "': give one per annotator");
        ++r.items;
        for (std::size_t m = 0; m < item.codings.size(); ++m) {
            for (std::size_t n = m + 1; n < item.codings.size(); ++n) {
                const auto& [coderA, a] = item.codings[m];
                const auto& [coderB, b] = item.codings[n];
                PairStatistics s;
                try {
                    s = boundaryStatistics(a, b, nT);
                } catch (const Error& e) {
                    throw Error("item '" + item.id + "', annotators '" + coderA + "' and '" + coderB + "': " + e.message());
                }
                const SimilarityParts parts =
                    measure == SimilarityMeasure::B ? boundarySimilarityParts(s) : segmentationSimilarityParts(s);
                numerator += parts.numerator;
                denominator += parts.denominator;
                const double potential = static_cast<double>(s.potentialBoundaries());
                for (const auto& coder : {coderA, coderB})
                    if (!records.count(coder))
                        coders.push_back(coder);
                records[coderA].push_back({static_cast<double>(s.boundariesA), potential});
                records[coderB].push_back({static_cast<double>(s.boundariesB), potential});
                ++r.pairs;
            }
        }
    }
    r.actual = denominator > 0 ? numerator / denominator : 1.0;

    // pi: one shared boundary probability, the mean over every record.
    double sum = 0;
    std::size_t count = 0;
    for (const auto& [coder, list] : records)
        for (const auto& rec : list)
            if (rec.potential > 0) {
                sum += rec.boundaries / rec.potential;
                ++count;
            }
    const double shared = count ? sum / static_cast<double>(count) : 0.0;
    r.expectedPi = shared * shared;

    // kappa: each annotator's own boundary probability, multiplied pairwise.
    std::vector<double> own;
    for (const auto& coder : coders) {
        double b = 0, p = 0;
        for (const auto& rec : records[coder]) {
            b += rec.boundaries;
            p += rec.potential;
        }
        own.push_back(p > 0 ? b / p : 0.0);
    }
    double products = 0;
    std::size_t pairs = 0;
    for (std::size_t m = 0; m < own.size(); ++m)
        for (std::size_t n = m + 1; n < own.size(); ++n) {
            products += own[m] * own[n];
            ++pairs;
        }
    r.expectedKappa = pairs ? products / static_cast<double>(pairs) : 0.0;
    r.pi = coefficient(r.actual, r.expectedPi);
    r.kappa = coefficient(r.actual, r.expectedKappa);
    return r;
}

} // namespace blocklens::analysis
