#include "analysis/leakage_marks.hpp"

#include "models/leakage_model.hpp"

namespace blocklens::ui {

std::vector<BoundaryMark> leakageMarks(const AttentionAnalysis& analysis, const analysis::LeakageReport& report)
{
    std::vector<BoundaryMark> out;
    for (const auto& b : report.boundaries) {
        if (b.token >= analysis.documentTokens)
            continue; // the query block starts after the document: no place in the text
        BoundaryMark m;
        m.offset = analysis.offsetOfToken(b.token);
        m.value = b.dropped;
        m.label = b.globalQuery ? QObject::tr("query · %1 before").arg(LeakageModel::percent(b.crossMass))
                                : QObject::tr("cuts %1").arg(LeakageModel::percent(b.dropped));
        m.toolTip = QObject::tr("Block attention drops %1 of the full-attention mass of the next block's tokens here "
                                "(%2 of it on the block just before: removing this cut gives that back).")
                        .arg(LeakageModel::percent(b.dropped), LeakageModel::percent(b.adjacent));
        out.push_back(std::move(m));
    }
    return out;
}

} // namespace blocklens::ui
