#pragma once
// The leakage of each cut as marks on the document view (DocumentView::setBoundaryMarks): one per
// boundary of the report, at the first character of the block after it, coloured by the share
// of full-attention mass the cut drops, labelled with that share.
#include "analysis/attention_analysis.hpp"
#include "document_view.hpp"

#include <vector>

namespace blocklens::ui {

std::vector<BoundaryMark> leakageMarks(const AttentionAnalysis& analysis, const analysis::LeakageReport& report);

} // namespace blocklens::ui
