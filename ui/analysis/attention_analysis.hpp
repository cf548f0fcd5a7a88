#pragma once
// What the heatmap dock shows: one full-attention capture over a document (plus an optional
// query block after it), the segmentation on screen ("current") and optionally a second one to
// compare ("proposal", e.g. a segmenter's cuts), both as token starts that the capture's bins
// refine (analysis/leakage.hpp explains why that makes every number exact).
#include "analysis/leakage.hpp"
#include "document/document.hpp"
#include "tokenizer/tokenizer.hpp"

#include <QMetaType>
#include <QString>

#include <memory>
#include <vector>

namespace blocklens::ui {

struct NamedSegmentation {
    QString name;                     // "current", "hybrid", ...
    std::vector<std::int64_t> starts; // token index of each block's start, first 0
};

struct AttentionAnalysis {
    std::shared_ptr<const Document> document;
    std::vector<TokenSpan> spans;     // code-point span of every document token; query tokens follow
    QString queryText;                // the tokens after the document's ("" when none)
    std::int64_t documentTokens = 0;  // tokens of the document; the rest are the query's
    analysis::CapturedAttention capture;
    NamedSegmentation current, proposal; // proposal.starts empty: nothing to compare
    bool lastBlockGlobal = true;      // the last block is the query (attends to everything)
    QString model;                    // shown in the title
    QString contextWarning;           // past the model's trained context: what the heatmap then shows (banner)

    bool empty() const { return capture.empty(); }
    // Code point where token t begins in the document (document length for query tokens).
    std::size_t offsetOfToken(std::int64_t token) const;
    // A short single-line preview of tokens [begin, end) for readouts.
    QString preview(std::int64_t begin, std::int64_t end, int maxChars = 60) const;
    std::int64_t blockEnd(const std::vector<std::int64_t>& starts, std::int64_t block) const;
    // Whether every start is one of the capture's bins, so the capture measures that segmentation
    // exactly; when not, its numbers need a new run (a cut moved while, or since, it ran).
    bool onCapturedBins(const std::vector<std::int64_t>& starts) const;
};

} // namespace blocklens::ui

Q_DECLARE_METATYPE(blocklens::ui::AttentionAnalysis)
