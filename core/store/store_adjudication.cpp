// Adjudication decisions on "adjudicated" segmentations (schema v4, issue 21).
#include "store/store_impl.hpp"

#include <algorithm>
#include <ostream>

namespace blocklens::store {

namespace {

// The segmentation's document length, after checking that it is an adjudicated version.
std::size_t adjudicatedLength(Store::Impl& d, Id segmentationId, const ErrorContext& ctx)
{
    return d.lengthIfMadeBy(segmentationId, "adjudicated", ", not by adjudication: decisions apply only to an adjudicated version", ctx);
}

// Accept puts a boundary at the offset (at the decision's level), reject removes any there.
void applyDecision(std::vector<Boundary>& bs, Boundary b, bool accept)
{
    const auto at = std::lower_bound(bs.begin(), bs.end(), b.offset,
                                     [](const Boundary& x, std::size_t offset) { return x.offset < offset; });
    const bool present = at != bs.end() && at->offset == b.offset;
    if (accept && present)
        at->level = b.level;
    else if (accept)
        bs.insert(at, b);
    else if (present)
        bs.erase(at);
}

// The initial boundaries with every active decision applied in order.
std::vector<Boundary> replayDecisions(Store::Impl& d, Id segmentationId)
{
    std::vector<Boundary> bs = d.initialBoundaries(segmentationId);
    sql::Query q(d.db, "SELECT offset, level, decision FROM adjudication_decisions WHERE segmentation_id = ? "
                       "AND state = 'active' ORDER BY seq");
    q.bind(1, segmentationId);
    while (q.step())
        applyDecision(bs, {static_cast<std::size_t>(q.integer(0)), static_cast<int>(q.integer(1))}, q.text(2) == "accept");
    return bs;
}

} // namespace

Id Store::recordAdjudicationDecision(Id segmentationId, Boundary boundary, bool accept, const std::string& author)
{
    const ErrorContext ctx = d->segmentationContext(segmentationId);
    sql::WriteTransaction tx(d->db, "saving an adjudication decision");
    const std::size_t length = adjudicatedLength(*d, segmentationId, ctx);
    if (boundary.offset == 0 || boundary.offset >= length)
        throw Error("the decided boundary's offset " + std::to_string(boundary.offset) + " is outside 1.."
                        + std::to_string(length == 0 ? 0 : length - 1) + " (the document has " + std::to_string(length)
                        + " code points)",
                    ctx);
    if (boundary.level < 1 || boundary.level > 9)
        throw Error("the decided boundary's level " + std::to_string(boundary.level) + " is outside 1..9", ctx);
    {
        sql::Query q(d->db, "INSERT INTO adjudication_decisions (segmentation_id, seq, offset, level, decision, author) "
                            "VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM adjudication_decisions WHERE "
                            "segmentation_id = ?1), ?2, ?3, ?4, ?5)");
        q.bind(1, segmentationId).bind(2, boundary.offset).bind(3, boundary.level);
        q.bind(4, std::string(accept ? "accept" : "reject")).bind(5, author).run();
    }
    const Id id = d->db.lastInsertId();
    auto bs = d->loadBoundaries(segmentationId);
    applyDecision(bs, boundary, accept);
    d->writeBoundaries(segmentationId, bs);
    tx.commit();
    return id;
}

bool Store::undoAdjudicationDecision(Id segmentationId, const std::string& author)
{
    return d->undoNewest(
        "adjudication_decisions", segmentationId, author, "undoing an adjudication decision",
        [&](const ErrorContext& ctx) { adjudicatedLength(*d, segmentationId, ctx); },
        [&] { return replayDecisions(*d, segmentationId); });
}

std::vector<AdjudicationDecision> Store::adjudicationDecisions(Id segmentationId)
{
    sql::ReadTransaction snapshot(d->db);
    d->requireExists("segmentations", segmentationId, "segmentation");
    std::vector<AdjudicationDecision> out;
    sql::Query q(d->db, "SELECT id, seq, offset, level, decision, author, created_at, state, coalesce(undone_at, '') "
                        "FROM adjudication_decisions WHERE segmentation_id = ? ORDER BY seq");
    q.bind(1, segmentationId);
    while (q.step()) {
        AdjudicationDecision a;
        a.id = q.integer(0);
        a.segmentationId = segmentationId;
        a.seq = q.integer(1);
        a.boundary = {static_cast<std::size_t>(q.integer(2)), static_cast<int>(q.integer(3))};
        a.accepted = q.text(4) == "accept";
        a.author = q.text(5);
        a.createdAt = q.text(6);
        a.undone = q.text(7) == "undone";
        a.undoneAt = q.text(8);
        out.push_back(std::move(a));
    }
    return out;
}

std::optional<Id> Store::latestAdjudicated(Id documentId)
{
    sql::Query q(d->db, "SELECT max(id) FROM segmentations WHERE document_id = ? AND segmenter = 'adjudicated'");
    q.bind(1, documentId);
    if (!q.step() || q.isNull(0))
        return std::nullopt;
    return q.integer(0);
}

std::size_t Store::exportAdjudicated(Id datasetId, std::ostream& out, const RecordFormatter& format)
{
    sql::ReadTransaction snapshot(d->db);
    d->requireExists("datasets", datasetId, "dataset");
    sql::Query q(d->db, "SELECT r.record_id, r.category, r.variant, r.lang, r.source, "
                        "(SELECT max(s.id) FROM segmentations s WHERE s.document_id = r.document_id "
                        "AND s.segmenter = 'adjudicated'), doc.text FROM dataset_rows r "
                        "JOIN documents doc ON doc.id = r.document_id WHERE r.dataset_id = ? ORDER BY r.row_index");
    q.bind(1, datasetId);
    return d->exportRows(q, out, format, 6, [](sql::Query& row) -> std::optional<Id> {
        if (row.isNull(5))
            return std::nullopt; // not adjudicated (yet)
        return row.integer(5);
    });
}

} // namespace blocklens::store
