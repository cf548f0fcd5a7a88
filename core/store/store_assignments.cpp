// Assignment of a dataset's rows to annotators (schema v3, issue 21).
#include "store/store_impl.hpp"
#include "util/json_input.hpp"

#include <nlohmann/json.hpp>

namespace blocklens::store {

void Store::setAssignmentPlan(Id datasetId, const AssignmentPlan& plan, bool replace)
{
    sql::WriteTransaction tx(d->db, "storing an assignment");
    d->requireExists("datasets", datasetId, "dataset");
    const auto rows = static_cast<std::size_t>(
        d->db.scalarInt("SELECT count(*) FROM dataset_rows WHERE dataset_id = " + std::to_string(datasetId)).value_or(0));
    if (plan.rows.size() != rows)
        d->fail("the assignment lists " + std::to_string(plan.rows.size()) + " rows but dataset " + std::to_string(datasetId)
                + " has " + std::to_string(rows));
    {
        sql::Query q(d->db, "SELECT annotators, created_at FROM assignment_plans WHERE dataset_id = ?");
        q.bind(1, datasetId);
        if (q.step() && !replace)
            d->fail("dataset " + std::to_string(datasetId) + " is already assigned (to " + q.text(0) + ", on " + q.text(1)
                    + "); replace the assignment explicitly to change it");
    }
    {
        sql::Query q(d->db, "DELETE FROM assignments WHERE dataset_id = ?");
        q.bind(1, datasetId).run();
    }
    {
        sql::Query q(d->db, "INSERT OR REPLACE INTO assignment_plans (dataset_id, annotators, overlap, seed, created_by) "
                            "VALUES (?, ?, ?, ?, ?)");
        q.bind(1, datasetId).bind(2, nlohmann::json(plan.annotators).dump()).bind(3, plan.overlap);
        q.bind(4, static_cast<std::int64_t>(plan.seed)).bind(5, plan.createdBy).run();
    }
    sql::Query ins(d->db, "INSERT INTO assignments (dataset_id, row_index, annotator) VALUES (?, ?, ?)");
    for (std::size_t row = 0; row < plan.rows.size(); ++row) {
        for (const auto& who : plan.rows[row]) {
            if (who.empty())
                d->fail("row " + std::to_string(row) + " of the assignment names an empty annotator");
            ins.bind(1, datasetId).bind(2, row).bind(3, who).run();
            sqlite3_reset(ins.handle());
        }
    }
    tx.commit();
}

std::optional<AssignmentPlan> Store::assignmentPlan(Id datasetId)
{
    sql::ReadTransaction snapshot(d->db);
    d->requireExists("datasets", datasetId, "dataset");
    AssignmentPlan plan;
    {
        sql::Query q(d->db, "SELECT annotators, overlap, seed, created_by, created_at FROM assignment_plans WHERE dataset_id = ?");
        q.bind(1, datasetId);
        if (!q.step())
            return std::nullopt;
        const auto names = parseJsonInput(q.text(0), d->context(), "the stored annotator list is not valid JSON");
        if (!names.is_array())
            d->fail("the stored annotator list of dataset " + std::to_string(datasetId) + " is not a JSON array");
        for (const auto& n : names)
            plan.annotators.push_back(n.is_string() ? n.get<std::string>() : n.dump());
        plan.overlap = q.real(1);
        plan.seed = static_cast<std::uint64_t>(q.integer(2));
        plan.createdBy = q.text(3);
        plan.createdAt = q.text(4);
    }
    const auto rows = static_cast<std::size_t>(
        d->db.scalarInt("SELECT count(*) FROM dataset_rows WHERE dataset_id = " + std::to_string(datasetId)).value_or(0));
    plan.rows.assign(rows, {});
    sql::Query q(d->db, "SELECT row_index, annotator FROM assignments WHERE dataset_id = ? ORDER BY row_index, annotator");
    q.bind(1, datasetId);
    while (q.step()) {
        const auto row = static_cast<std::size_t>(q.integer(0));
        if (row < plan.rows.size())
            plan.rows[row].push_back(q.text(1));
    }
    return plan;
}

std::optional<std::size_t> Store::nextAssignedRow(Id datasetId, const std::string& annotator)
{
    sql::ReadTransaction snapshot(d->db);
    d->requireExists("datasets", datasetId, "dataset");
    sql::Query q(d->db,
                 "SELECT a.row_index FROM assignments a JOIN dataset_rows r "
                 "ON r.dataset_id = a.dataset_id AND r.row_index = a.row_index "
                 "WHERE a.dataset_id = ?1 AND a.annotator = ?2 "
                 "AND NOT (r.reviewed = 1 AND r.reviewed_by = ?2) "
                 "AND NOT EXISTS (SELECT 1 FROM segmentations s WHERE s.document_id = r.document_id "
                 "AND s.segmenter = 'manual' AND s.author = ?2 AND s.reviewed = 1) "
                 "ORDER BY a.row_index LIMIT 1");
    q.bind(1, datasetId).bind(2, annotator);
    if (!q.step())
        return std::nullopt;
    return static_cast<std::size_t>(q.integer(0));
}

} // namespace blocklens::store
