#pragma once
// Evaluation of a segmenter on a dataset with author-set boundaries (shared/data/README.md):
// line-level Pk, WindowDiff and boundary P/R/F1 (tolerance 0 and 1) against the reference at
// granularity level L (boundaries with level <= L), per document and aggregated per category
// and variant, per variant and overall; plus block-size statistics in the grid's token unit.
//
// Protocols: `oracle-count` tells the segmenter the number b of reference boundary lines and asks
// for exactly b + 1 blocks (the usual way to compare boundary placement; the hard maximum may
// still force more, which the report counts); `free` uses the segmenter's own defaults (or the
// granularity given in the options).
//
// Aggregates: Pk and WindowDiff are means over documents (documents with fewer lines than k
// have no window and are left out of them); P/R/F1 are micro-averaged (matches summed).
#include "document/dataset.hpp"
#include "segment/metrics.hpp"
#include "segment/segmenter.hpp"
#include "util/progress.hpp"

#include <optional>
#include <string>
#include <vector>

namespace blocklens::segment {

enum class Protocol { OracleCount, Free };
std::string_view toString(Protocol p);
Protocol parseProtocol(std::string_view name); // throws Error

struct EvalOptions {
    int level = 2;
    Protocol protocol = Protocol::OracleCount;
    SegmentOptions segment;          // free protocol: granularity; both: regex
    const Tokenizer* tokenizer = nullptr; // sizes in this tokenizer's tokens; approx-tokens if null
};

struct BlockStats {
    std::size_t blocks = 0;
    std::size_t minTokens = 0, medianTokens = 0, p90Tokens = 0, maxTokens = 0;
    double meanTokens = 0;
    std::size_t overMax = 0; // blocks above the segmenter's maximum (always 0: it is a hard limit)
    static BlockStats of(std::vector<std::size_t> sizes, std::size_t maxAllowed);
};

struct DocumentResult {
    std::string id, category, variant;
    std::size_t lines = 0, k = 0;
    std::vector<std::size_t> referenceLines, hypothesisLines;
    std::vector<std::size_t> boundaries; // predicted offsets (code points)
    std::size_t requestedBlocks = 0;     // oracle-count: b + 1; free: 0
    double pk = 0, windowDiff = 0;       // NaN when k > lines
    BoundaryMatch exact, tolerant;       // tolerance 0 and 1
    std::vector<std::size_t> blockTokens;
};

struct GroupResult {
    std::string category, variant; // "all" for an aggregate over that field
    std::size_t documents = 0, scoredDocuments = 0;
    double pk = 0, windowDiff = 0;
    BoundaryMatch exact, tolerant;
    std::size_t countMismatches = 0; // oracle-count: documents that got other than b boundary lines
    BlockStats blocks;
};

struct EvaluationReport {
    std::string segmenter;
    Protocol protocol = Protocol::OracleCount;
    int level = 2;
    std::string tokenUnit;
    std::size_t maxTokens = 0;
    std::vector<DocumentResult> documents;
    std::vector<GroupResult> groups; // each category/variant, then all/<variant>, then all/all
};

DocumentResult evaluateDocument(const Document& doc, const Segmenter& segmenter, const EvalOptions& options);
// Reports progress in documents; stops early (partial report) when a stop is requested.
EvaluationReport evaluate(const Dataset& dataset, const Segmenter& segmenter, const EvalOptions& options,
                          const Progress& progress = {});
std::vector<GroupResult> aggregate(const std::vector<DocumentResult>& documents, std::size_t maxTokens);
// Pk over every document (the all/all group, which aggregate() puts last); NaN for an empty report.
double overallPk(const EvaluationReport& report);

} // namespace blocklens::segment
