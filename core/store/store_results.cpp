// Evaluations, inference runs, aggregated metrics, tags and notes, and tables for export.
#include "store/store_impl.hpp"
#include "util/json_input.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>

namespace blocklens::store {

std::string_view toString(TargetKind kind)
{
    switch (kind) {
    case TargetKind::Document: return "document";
    case TargetKind::Dataset: return "dataset";
    case TargetKind::Segmentation: return "segmentation";
    case TargetKind::Evaluation: return "evaluation";
    case TargetKind::Run: return "run";
    }
    return "document";
}

namespace {

const char* tableOf(TargetKind kind)
{
    switch (kind) {
    case TargetKind::Document: return "documents";
    case TargetKind::Dataset: return "datasets";
    case TargetKind::Segmentation: return "segmentations";
    case TargetKind::Evaluation: return "evaluations";
    case TargetKind::Run: return "inference_runs";
    }
    return "documents";
}

std::string jsonObject(const std::string& text, const std::string& what, const ErrorContext& ctx)
{
    if (text.empty())
        return "{}";
    const auto j = parseJsonInput(text, ctx, what + " is not valid JSON", std::nullopt);
    if (!j.is_object())
        throw Error(what + " must be a JSON object", ctx);
    return j.dump();
}

constexpr const char* kRunColumns =
    "id, document_id, segmentation_id, model_name, model_hash, model_config, tokenizer_hash, attention_mode, device, "
    "dtype, software, tokens, blocks, ttft_ms, prefill_ms, flops, kv_bytes, cache_hits, cache_misses, logit_kl, "
    "top1_agreement, divergence, created_at";

RunRecord readRun(sql::Query& q)
{
    RunRecord r;
    r.id = q.integer(0);
    r.documentId = q.optInteger(1);
    r.segmentationId = q.optInteger(2);
    r.modelName = q.text(3);
    r.modelHash = q.text(4);
    r.modelConfig = q.text(5);
    r.tokenizerHash = q.text(6);
    r.attentionMode = q.text(7);
    r.device = q.text(8);
    r.dtype = q.text(9);
    r.software = q.text(10);
    r.tokens = q.optInteger(11);
    r.blocks = q.optInteger(12);
    r.ttftMs = q.optReal(13);
    r.prefillMs = q.optReal(14);
    r.flops = q.optReal(15);
    r.kvBytes = q.optInteger(16);
    r.cacheHits = q.optInteger(17);
    r.cacheMisses = q.optInteger(18);
    r.logitKl = q.optReal(19);
    r.top1Agreement = q.optReal(20);
    r.divergence = q.text(21);
    r.createdAt = q.text(22);
    return r;
}

// Read-only views behind queryTable(); documents leave out the text.
struct NamedQuery {
    const char* name;
    const char* sql;
};
constexpr NamedQuery kTables[] = {
    {"runs", "SELECT r.id, r.created_at, r.model_name, r.model_hash, r.attention_mode, r.device, r.dtype, r.tokenizer_hash, "
             "r.document_id, d.external_id AS document, r.segmentation_id, r.tokens, r.blocks, r.ttft_ms, r.prefill_ms, "
             "r.flops, r.kv_bytes, r.cache_hits, r.cache_misses, r.logit_kl, r.top1_agreement, r.divergence, "
             "r.model_config, r.software FROM inference_runs r LEFT JOIN documents d ON d.id = r.document_id ORDER BY r.id"},
    {"evaluations",
     "SELECT e.id, e.created_at, e.segmentation_id, s.segmenter, s.params, e.reference_id, s.document_id, "
     "d.external_id AS document, d.category, d.variant, e.protocol, e.granularity, e.pk, e.windowdiff, e.precision, "
     "e.recall, e.f1, e.f1_tolerant, e.metrics FROM evaluations e JOIN segmentations s ON s.id = e.segmentation_id "
     "JOIN documents d ON d.id = s.document_id ORDER BY e.id"},
    {"segmentations",
     "SELECT s.id, s.created_at, s.document_id, d.external_id AS document, s.segmenter, s.params, s.author, s.parent_id, "
     "(SELECT count(*) FROM boundaries b WHERE b.segmentation_id = s.id) AS boundaries, "
     "(SELECT count(*) FROM annotation_events e WHERE e.segmentation_id = s.id AND e.state = 'active') AS edits, "
     "s.reviewed, s.reviewed_by, s.reviewed_at "
     "FROM segmentations s JOIN documents d ON d.id = s.document_id ORDER BY s.id"},
    {"documents", "SELECT id, content_hash, external_id, source, category, variant, lang, kind, length_cp, length_bytes, "
                  "created_at FROM documents ORDER BY id"},
    {"datasets", "SELECT id, name, source_path, row_count, "
                 "(SELECT count(*) FROM dataset_rows r WHERE r.dataset_id = datasets.id AND r.reviewed = 1) AS reviewed_rows, "
                 "imported_at FROM datasets ORDER BY id"},
    {"rows", "SELECT r.dataset_id, ds.name AS dataset, r.row_index, r.record_id, r.document_id, r.category, r.variant, "
             "r.lang, r.source, r.reference_segmentation_id, r.current_segmentation_id, r.reviewed, r.reviewed_by, "
             "r.reviewed_at FROM dataset_rows r JOIN datasets ds ON ds.id = r.dataset_id ORDER BY r.dataset_id, r.row_index"},
    {"events", "SELECT id, segmentation_id, seq, action, before_offset, before_level, after_offset, after_level, author, "
               "created_at, state, undone_at FROM annotation_events ORDER BY segmentation_id, seq"},
    {"metrics", nullptr}, // aggregateMetrics(SegmenterAndCategory)
};

std::string tableNames()
{
    std::string out;
    for (const auto& t : kTables)
        out += (out.empty() ? "" : ", ") + std::string(t.name);
    return out;
}

Value optionalValue(const std::optional<double>& v) { return v ? Value(*v) : Value(std::monostate{}); }

} // namespace

// ---- evaluations and runs ---------------------------------------------------------------------

Id Store::recordEvaluation(const EvaluationRecord& e)
{
    ErrorContext ctx = d->context();
    ctx.item = "evaluation";
    const std::string metrics = jsonObject(e.metrics, "the evaluation metrics", ctx);
    sql::WriteTransaction tx(d->db, "recording an evaluation");
    const auto hyp = segmentationInfo(e.segmentationId);
    const auto ref = segmentationInfo(e.referenceId);
    if (hyp.documentId != ref.documentId)
        throw Error("segmentation " + std::to_string(e.segmentationId) + " and reference " + std::to_string(e.referenceId)
                        + " belong to different documents",
                    ctx);
    sql::Query q(d->db, "INSERT INTO evaluations (segmentation_id, reference_id, protocol, granularity, pk, windowdiff, "
                        "precision, recall, f1, f1_tolerant, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, e.segmentationId).bind(2, e.referenceId).bind(3, e.protocol).bind(4, e.granularity);
    q.bind(5, e.pk).bind(6, e.windowDiff).bind(7, e.precision).bind(8, e.recall).bind(9, e.f1).bind(10, e.f1Tolerant);
    q.bind(11, metrics).run();
    const Id id = d->db.lastInsertId();
    tx.commit();
    return id;
}

Id Store::recordRun(const RunRecord& r)
{
    ErrorContext ctx = d->context();
    ctx.item = "inference run";
    const std::string config = jsonObject(r.modelConfig, "the model config", ctx);
    const std::string software = jsonObject(r.software, "the software versions", ctx);
    const std::string divergence = jsonObject(r.divergence, "the divergence metrics", ctx);
    sql::WriteTransaction tx(d->db, "recording an inference run");
    if (r.documentId)
        d->requireExists("documents", *r.documentId, "document");
    if (r.segmentationId)
        d->requireExists("segmentations", *r.segmentationId, "segmentation");
    sql::Query q(d->db, "INSERT INTO inference_runs (document_id, segmentation_id, model_name, model_hash, model_config, "
                        "tokenizer_hash, attention_mode, device, dtype, software, tokens, blocks, ttft_ms, prefill_ms, flops, "
                        "kv_bytes, cache_hits, cache_misses, logit_kl, top1_agreement, divergence) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, r.documentId).bind(2, r.segmentationId).bind(3, r.modelName).bind(4, r.modelHash).bind(5, config);
    q.bind(6, r.tokenizerHash).bind(7, r.attentionMode).bind(8, r.device).bind(9, r.dtype).bind(10, software);
    q.bind(11, r.tokens).bind(12, r.blocks).bind(13, r.ttftMs).bind(14, r.prefillMs).bind(15, r.flops);
    q.bind(16, r.kvBytes).bind(17, r.cacheHits).bind(18, r.cacheMisses).bind(19, r.logitKl).bind(20, r.top1Agreement);
    q.bind(21, divergence).run();
    const Id id = d->db.lastInsertId();
    tx.commit();
    return id;
}

std::vector<RunRecord> Store::listRuns(const RunFilter& filter)
{
    std::vector<RunRecord> out;
    sql::Query q(d->db, std::string("SELECT ") + kRunColumns
                            + " FROM inference_runs WHERE (?1 = '' OR model_name = ?1 OR "
                              "(length(?1) >= 4 AND substr(model_hash, 1, length(?1)) = ?1)) "
                              "AND (?2 IS NULL OR document_id = ?2) ORDER BY id DESC LIMIT ?3");
    q.bind(1, filter.model).bind(2, filter.documentId);
    q.bind(3, filter.limit ? static_cast<std::int64_t>(filter.limit) : std::int64_t(-1));
    while (q.step())
        out.push_back(readRun(q));
    return out;
}

std::vector<MetricsGroup> Store::aggregateMetrics(GroupBy groupBy, const std::string& protocol)
{
    const bool bySegmenter = groupBy != GroupBy::Category;
    const bool byCategory = groupBy != GroupBy::Segmenter;
    const std::string segmenter = bySegmenter ? "s.segmenter" : "''";
    const std::string category = byCategory ? "d.category || '/' || d.variant" : "''";
    const std::string sql = "SELECT " + segmenter + ", " + category
        + ", e.protocol, e.granularity, count(*), avg(e.pk), avg(e.windowdiff), avg(e.precision), avg(e.recall), "
          "avg(e.f1), avg(e.f1_tolerant) FROM evaluations e JOIN segmentations s ON s.id = e.segmentation_id "
          "JOIN documents d ON d.id = s.document_id WHERE (?1 = '' OR e.protocol = ?1) "
          "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
    std::vector<MetricsGroup> out;
    sql::Query q(d->db, sql);
    q.bind(1, protocol);
    while (q.step()) {
        MetricsGroup g;
        g.segmenter = q.text(0);
        g.category = q.text(1);
        g.protocol = q.text(2);
        g.granularity = static_cast<int>(q.integer(3));
        g.evaluations = static_cast<std::size_t>(q.integer(4));
        g.pk = q.optReal(5);
        g.windowDiff = q.optReal(6);
        g.precision = q.optReal(7);
        g.recall = q.optReal(8);
        g.f1 = q.optReal(9);
        g.f1Tolerant = q.optReal(10);
        out.push_back(std::move(g));
    }
    return out;
}

// ---- tags and notes ---------------------------------------------------------------------------

void Store::addTag(TargetKind target, Id targetId, const std::string& tag)
{
    if (tag.empty())
        d->fail("a tag cannot be empty");
    sql::WriteTransaction tx(d->db, "adding a tag");
    d->requireExists(tableOf(target), targetId, std::string(toString(target)).c_str());
    sql::Query q(d->db, "INSERT OR IGNORE INTO tags (target_kind, target_id, tag) VALUES (?, ?, ?)");
    q.bind(1, toString(target)).bind(2, targetId).bind(3, tag).run();
    tx.commit();
}

void Store::removeTag(TargetKind target, Id targetId, const std::string& tag)
{
    sql::WriteTransaction tx(d->db, "removing a tag");
    sql::Query q(d->db, "DELETE FROM tags WHERE target_kind = ? AND target_id = ? AND tag = ?");
    q.bind(1, toString(target)).bind(2, targetId).bind(3, tag).run();
    tx.commit();
}

std::vector<std::string> Store::tags(TargetKind target, Id targetId)
{
    std::vector<std::string> out;
    sql::Query q(d->db, "SELECT tag FROM tags WHERE target_kind = ? AND target_id = ? ORDER BY tag");
    q.bind(1, toString(target)).bind(2, targetId);
    while (q.step())
        out.push_back(q.text(0));
    return out;
}

Id Store::addNote(TargetKind target, Id targetId, const std::string& text, const std::string& author)
{
    if (text.empty())
        d->fail("a note cannot be empty");
    sql::WriteTransaction tx(d->db, "adding a note");
    d->requireExists(tableOf(target), targetId, std::string(toString(target)).c_str());
    sql::Query q(d->db, "INSERT INTO notes (target_kind, target_id, author, text) VALUES (?, ?, ?, ?)");
    q.bind(1, toString(target)).bind(2, targetId).bind(3, author).bind(4, text).run();
    const Id id = d->db.lastInsertId();
    tx.commit();
    return id;
}

std::vector<Note> Store::notes(TargetKind target, Id targetId)
{
    std::vector<Note> out;
    sql::Query q(d->db, "SELECT id, author, text, created_at FROM notes WHERE target_kind = ? AND target_id = ? ORDER BY id");
    q.bind(1, toString(target)).bind(2, targetId);
    while (q.step())
        out.push_back({q.integer(0), target, targetId, q.text(1), q.text(2), q.text(3)});
    return out;
}

// ---- tables -----------------------------------------------------------------------------------

Table Store::queryTable(const std::string& name)
{
    if (name == "metrics") {
        Table t;
        t.columns = {"segmenter", "category", "protocol", "granularity", "evaluations", "pk", "windowdiff",
                     "precision", "recall", "f1", "f1_tolerant"};
        for (const auto& g : aggregateMetrics(GroupBy::SegmenterAndCategory))
            t.rows.push_back({g.segmenter, g.category, g.protocol, std::int64_t(g.granularity),
                              static_cast<std::int64_t>(g.evaluations), optionalValue(g.pk), optionalValue(g.windowDiff),
                              optionalValue(g.precision), optionalValue(g.recall), optionalValue(g.f1),
                              optionalValue(g.f1Tolerant)});
        return t;
    }
    for (const auto& t : kTables)
        if (name == t.name && t.sql) {
            sql::Query q(d->db, t.sql);
            return readTable(q);
        }
    d->fail("unknown query '" + name + "' (known: " + tableNames() + ")");
}

Table Store::select(const std::string& sqlText, const QueryLimits& limits)
{
    ErrorContext ctx = d->context();
    ctx.item = "query";
    // Only queries: a SELECT / WITH / VALUES / EXPLAIN, or a PRAGMA that sets nothing; SQLite
    // must agree that the statement is read-only, and it runs with query_only on.
    std::string first;
    for (char c : sqlText.substr(0, 64)) {
        if (std::isalpha(static_cast<unsigned char>(c)))
            first += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        else if (!first.empty() || !std::isspace(static_cast<unsigned char>(c)))
            break;
    }
    const bool query = first == "select" || first == "with" || first == "values" || first == "explain";
    const bool pragma = first == "pragma" && sqlText.find('=') == std::string::npos
        && sqlText.find('(') == std::string::npos;
    if (!query && !pragma)
        throw Error("only read-only queries (SELECT, WITH, or a PRAGMA that sets nothing) can be exported", ctx);
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(d->db.handle(), sqlText.c_str(), static_cast<int>(sqlText.size()), &stmt, &tail);
    if (rc != SQLITE_OK) {
        const std::string msg = sqlite3_errmsg(d->db.handle());
        sqlite3_finalize(stmt);
        throw Error("the query is not valid SQL: " + msg, ctx);
    }
    struct Finalize {
        sqlite3_stmt* s;
        ~Finalize() { sqlite3_finalize(s); }
    } finalize{stmt};
    if (!stmt)
        throw Error("the query is empty", ctx);
    if (tail && std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos)
        throw Error("give one statement only", ctx);
    if (!sqlite3_stmt_readonly(stmt))
        throw Error("only read-only queries (SELECT) can be exported; this one would change the workspace", ctx);
    d->db.exec("PRAGMA query_only = ON", "running a query");
    struct QueryOnlyOff {
        sql::Connection& db;
        ~QueryOnlyOff() { sqlite3_exec(db.handle(), "PRAGMA query_only = OFF", nullptr, nullptr, nullptr); }
    } queryOnlyOff{d->db};
    // Why the progress handler stopped the query, if it did.
    struct Watch {
        const QueryLimits& limits;
        std::chrono::steady_clock::time_point deadline;
        enum class Stop { None, Time, Cancelled } stop = Stop::None;
    } watch{limits, std::chrono::steady_clock::now() + limits.timeLimit};
    sqlite3_progress_handler(
        d->db.handle(), 10000,
        [](void* p) -> int {
            auto& w = *static_cast<Watch*>(p);
            if (w.limits.cancelled && w.limits.cancelled())
                w.stop = Watch::Stop::Cancelled;
            else if (w.limits.timeLimit.count() > 0 && std::chrono::steady_clock::now() > w.deadline)
                w.stop = Watch::Stop::Time;
            return w.stop != Watch::Stop::None;
        },
        &watch);
    struct HandlerOff {
        sqlite3* db;
        ~HandlerOff() { sqlite3_progress_handler(db, 0, nullptr, nullptr); }
    } handlerOff{d->db.handle()};
    Table t;
    std::uint64_t resultBytes = 0;
    const int n = sqlite3_column_count(stmt);
    for (int i = 0; i < n; ++i)
        t.columns.push_back(sqlite3_column_name(stmt, i));
    for (;;) {
        const int s = sqlite3_step(stmt);
        if (s == SQLITE_DONE)
            break;
        if ((s & 0xff) == SQLITE_INTERRUPT && watch.stop == Watch::Stop::Cancelled)
            throw Error("the query was interrupted (Ctrl+C) after " + std::to_string(t.rows.size())
                            + " rows; nothing was written",
                        ctx);
        if ((s & 0xff) == SQLITE_INTERRUPT && watch.stop == Watch::Stop::Time) {
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%g", static_cast<double>(limits.timeLimit.count()) / 1000.0);
            throw Error(std::string("the query ran past its time limit of ") + seconds
                            + " s and was stopped; nothing was written (give a longer --timeout, or 0 for none)",
                        ctx);
        }
        if (s != SQLITE_ROW)
            d->db.fail(s, "running the query");

        std::vector<Value> row;
        for (int i = 0; i < n; ++i) {
            switch (sqlite3_column_type(stmt, i)) {
            case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
            case SQLITE_INTEGER: row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, i))); break;
            case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(stmt, i)); break;
            default: {
                const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
                row.emplace_back(std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
            }
            }
        }
        resultBytes += sizeof(Value) * row.size();
        for (const auto& v : row)
            if (const auto* text = std::get_if<std::string>(&v))
                resultBytes += text->size();
        if (limits.maxResultBytes > 0 && resultBytes > limits.maxResultBytes)
            throw Error("the query's result passed " + std::to_string(limits.maxResultBytes >> 20) + " MiB after "
                            + std::to_string(t.rows.size()) + " rows and was stopped; nothing was written: narrow it "
                            "(WHERE, LIMIT)",
                        ctx);
        t.rows.push_back(std::move(row));
    }
    return t;
}

} // namespace blocklens::store
