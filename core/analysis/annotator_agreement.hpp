#pragma once
// Agreement between the annotators of a dataset: per document, per annotator pair, per level and
// over the dataset. The unit is the line, as for every metric of the project (segment/metrics.hpp):
// a boundary belongs to the line it opens, and a document of n lines has n - 1 potential
// boundary positions. Measures (analysis/boundary_similarity.hpp, analysis/agreement.hpp):
// boundary similarity B, segmentation similarity S, boundary edit distance (near misses one line
// apart by default), Fleiss' pi and kappa on B and on S, and Pk and WindowDiff (NLTK's, the
// project's) between each pair, taken both ways round and averaged, since neither annotator is the
// reference.
//
// Levels: at level L the boundaries of level <= L count, as one boundary type; level 0 ("types")
// keeps every boundary and uses its level as its type, so that a level-1 cut against a level-2 cut
// at the same line is a substitution costing 1 / (levels spanned), as Fournier's boundary types.
// A line carrying boundaries of several levels takes the coarsest.
//
// Documents with one annotator are left out and counted; so are documents with none.
#include "analysis/agreement.hpp"
#include "document/document.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace blocklens::store {
class Store;
}

namespace blocklens::analysis {

struct AnnotatorVersion {
    std::string annotator;
    std::int64_t segmentationId = 0; // 0 when not from a store
    std::vector<Boundary> boundaries;
};

struct AnnotatedDocument {
    std::string id;       // the dataset's id of the row
    std::size_t row = 0;  // 0-based row in the dataset
    std::vector<std::size_t> lineStarts; // Document::lineStarts()
    std::vector<AnnotatorVersion> versions; // one per annotator
};

struct AgreementOptions {
    std::vector<int> levels;         // empty: 1..the deepest level used, then 0 (levels as types)
    std::size_t transpositionSpan = 2; // segeval's n_t, in lines
};

struct PairMeasures {
    double b = 1, s = 1;            // similarities
    double editDistance = 0;        // weighted boundary edit distance
    std::size_t additions = 0, substitutions = 0, transpositions = 0, matches = 0;
    std::optional<double> pk, windowDiff; // none when no window fits (the document is too short)
};

struct DocumentPair {
    std::string a, b; // annotators, in the document's order
    PairMeasures measures;
};

struct DocumentAgreement {
    std::string id;
    std::size_t row = 0;
    std::vector<std::string> annotators;
    std::vector<DocumentPair> pairs;
    double meanB = 1, meanS = 1; // over the pairs
    ChanceCorrected byB;         // pi / kappa over this document alone
};

struct AnnotatorPairAgreement {
    std::string a, b;           // a < b
    std::size_t documents = 0;  // documents both annotated
    double meanB = 1, meanS = 1; // means over those documents
    double editDistance = 0;     // summed
    std::size_t additions = 0, substitutions = 0, transpositions = 0, matches = 0;
    std::optional<double> pk, windowDiff; // means over documents with a window
    ChanceCorrected byB;        // pi / kappa of these two alone (Scott's pi, Cohen's kappa)
};

struct LevelAgreement {
    int level = 0; // 0: levels as types
    ChanceCorrected byB, byS;
    double meanB = 1, meanS = 1;            // means over document pairs
    std::optional<double> pk, windowDiff;   // means over document pairs with a window
    std::vector<AnnotatorPairAgreement> pairs;
    std::vector<DocumentAgreement> documents; // in row order
};

struct DatasetAgreement {
    std::size_t documents = 0;        // rows considered
    std::size_t compared = 0;         // with two or more annotators
    std::size_t singleAnnotator = 0;  // left out: one annotator
    std::size_t unannotated = 0;      // left out: no annotator version
    std::vector<std::string> annotators; // sorted
    std::vector<LevelAgreement> levels;
};

// The boundary string of a document at a level (see above), n - 1 positions for n lines.
BoundaryString lineBoundaryString(std::span<const std::size_t> lineStarts, const std::vector<Boundary>& boundaries,
                                  int level);

// The compared documents of a level, most disagreed first (lowest mean B, then lowest mean S, then
// row order): the order in which to adjudicate them. Indices into level.documents.
std::vector<std::size_t> disagreementQueue(const LevelAgreement& level);

// Throws Error for a level outside 0..9, a span below 2, or an annotator twice in one document.
DatasetAgreement measureAgreement(const std::vector<AnnotatedDocument>& documents, const AgreementOptions& options = {},
                                  const Progress& progress = {});

// Each row of a stored dataset with the latest "manual" version of every annotator (every
// author) of its document, in row order. Throws Error if there is no such dataset.
std::vector<AnnotatedDocument> loadAnnotatorVersions(store::Store& store, const std::string& datasetNameOrId);

} // namespace blocklens::analysis
