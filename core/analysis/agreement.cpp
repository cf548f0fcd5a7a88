#include "analysis/agreement.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace blocklens::analysis {

namespace {

double coefficient(double actual, double expected)
{
    if (expected >= 1.0)
        return actual >= 1.0 ? 1.0 : std::numeric_limits<double>::quiet_NaN();
    return (actual - expected) / (1.0 - expected);
}

} // namespace

std::size_t AgreementAccumulator::coderIndex(const std::string& coder)
{
    const auto it = std::find(coders_.begin(), coders_.end(), coder);
    if (it != coders_.end())
        return static_cast<std::size_t>(it - coders_.begin());
    coders_.push_back(coder);
    records_.emplace_back();
    return coders_.size() - 1;
}

void AgreementAccumulator::add(const std::string& coderA, const std::string& coderB, const PairStatistics& s)
{
    const SimilarityParts b = boundarySimilarityParts(s), sParts = segmentationSimilarityParts(s);
    numeratorB_ += b.numerator;
    denominatorB_ += b.denominator;
    numeratorS_ += sParts.numerator;
    denominatorS_ += sParts.denominator;
    const double potential = static_cast<double>(s.potentialBoundaries());
    const std::size_t a = coderIndex(coderA);
    const std::size_t c = coderIndex(coderB);
    records_[a].push_back({static_cast<double>(s.boundariesA), potential});
    records_[c].push_back({static_cast<double>(s.boundariesB), potential});
    ++pairs_;
}

ChanceCorrected AgreementAccumulator::result(SimilarityMeasure measure) const
{
    ChanceCorrected r;
    r.items = items_;
    r.pairs = pairs_;
    const double numerator = measure == SimilarityMeasure::B ? numeratorB_ : numeratorS_;
    const double denominator = measure == SimilarityMeasure::B ? denominatorB_ : denominatorS_;
    r.actual = denominator > 0 ? numerator / denominator : 1.0;

    // pi: one shared boundary probability, the mean over every record.
    double sum = 0;
    std::size_t count = 0;
    for (const auto& list : records_)
        for (const auto& rec : list)
            if (rec.potential > 0) {
                sum += rec.boundaries / rec.potential;
                ++count;
            }
    const double shared = count ? sum / static_cast<double>(count) : 0.0;
    r.expectedPi = shared * shared;

    // kappa: each annotator's own boundary probability, multiplied pairwise.
    std::vector<double> own;
    for (const auto& list : records_) {
        double b = 0, p = 0;
        for (const auto& rec : list) {
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

ChanceCorrected chanceCorrectedAgreement(std::span<const CodedItem> items, SimilarityMeasure measure, std::size_t nT)
{
    AgreementAccumulator acc;
    for (const auto& item : items) {
        if (item.codings.size() < 2)
            continue;
        for (std::size_t m = 0; m < item.codings.size(); ++m)
            for (std::size_t n = m + 1; n < item.codings.size(); ++n)
                if (item.codings[m].first == item.codings[n].first)
                    throw Error("item '" + item.id + "' has two segmentations by annotator '" + item.codings[m].first
                                + "': give one per annotator");
        acc.beginItem();
        for (std::size_t m = 0; m < item.codings.size(); ++m) {
            for (std::size_t n = m + 1; n < item.codings.size(); ++n) {
                const auto& [coderA, a] = item.codings[m];
                const auto& [coderB, b] = item.codings[n];
                try {
                    acc.add(coderA, coderB, boundaryStatistics(a, b, nT));
                } catch (const Error& e) {
                    throw Error("item '" + item.id + "', annotators '" + coderA + "' and '" + coderB + "': " + e.message());
                }
            }
        }
    }
    return acc.result(measure);
}

} // namespace blocklens::analysis
