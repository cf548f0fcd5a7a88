// Segmentation versions, annotation edits with undo/redo by replay, history and diffs.
#include "store/store_impl.hpp"
#include "util/json_input.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace blocklens::store {

std::string_view toString(AnnotationEdit::Kind kind)
{
    switch (kind) {
    case AnnotationEdit::Kind::Insert: return "insert";
    case AnnotationEdit::Kind::Delete: return "delete";
    case AnnotationEdit::Kind::Move: return "move";
    case AnnotationEdit::Kind::Level: return "level";
    }
    return "insert";
}

namespace {

AnnotationEdit::Kind kindFromString(const std::string& s)
{
    if (s == "delete")
        return AnnotationEdit::Kind::Delete;
    if (s == "move")
        return AnnotationEdit::Kind::Move;
    if (s == "level")
        return AnnotationEdit::Kind::Level;
    return AnnotationEdit::Kind::Insert;
}

AnnotationEvent::State stateFromString(const std::string& s)
{
    if (s == "undone")
        return AnnotationEvent::State::Undone;
    if (s == "discarded")
        return AnnotationEvent::State::Discarded;
    return AnnotationEvent::State::Active;
}

using BoundaryIt = std::vector<Boundary>::iterator;

BoundaryIt findOffset(std::vector<Boundary>& bs, std::size_t offset)
{
    const auto it = std::lower_bound(bs.begin(), bs.end(), offset,
                                     [](const Boundary& b, std::size_t o) { return b.offset < o; });
    return (it != bs.end() && it->offset == offset) ? it : bs.end();
}

void insertSorted(std::vector<Boundary>& bs, Boundary b)
{
    const auto it = std::lower_bound(bs.begin(), bs.end(), b.offset,
                                     [](const Boundary& x, std::size_t o) { return x.offset < o; });
    bs.insert(it, b);
}

// Applies one event (remove `before`, add `after`) to a boundary set; false if it does not fit.
bool applyEvent(std::vector<Boundary>& bs, const std::optional<Boundary>& before, const std::optional<Boundary>& after)
{
    if (before) {
        const auto it = findOffset(bs, before->offset);
        if (it == bs.end() || it->level != before->level)
            return false;
        bs.erase(it);
    }
    if (after) {
        if (findOffset(bs, after->offset) != bs.end())
            return false;
        insertSorted(bs, *after);
    }
    return true;
}

struct EventChange {
    std::optional<Boundary> before, after;
};

// Validates a user edit against the current boundaries and the document length.
EventChange describeEdit(std::vector<Boundary>& bs, const AnnotationEdit& e, std::size_t length, const ErrorContext& ctx)
{
    auto inside = [&](std::size_t offset, const char* what) {
        if (offset == 0 || offset >= length)
            throw Error(std::string("cannot ") + what + " a boundary at offset " + std::to_string(offset)
                            + ": it must be inside the text (1.." + std::to_string(length ? length - 1 : 0) + ")",
                        ctx);
    };
    auto existing = [&](std::size_t offset, const char* what) -> Boundary {
        const auto it = findOffset(bs, offset);
        if (it == bs.end())
            throw Error(std::string("cannot ") + what + " the boundary at offset " + std::to_string(offset)
                            + ": there is none there",
                        ctx);
        return *it;
    };
    auto level = [&](int l) {
        if (l < 1 || l > 9)
            throw Error("level " + std::to_string(l) + " is outside 1..9", ctx);
    };
    EventChange c;
    switch (e.kind) {
    case AnnotationEdit::Kind::Insert:
        inside(e.offset, "insert");
        level(e.level);
        if (findOffset(bs, e.offset) != bs.end())
            throw Error("cannot insert a boundary at offset " + std::to_string(e.offset) + ": there is one already", ctx);
        c.after = Boundary{e.offset, e.level};
        break;
    case AnnotationEdit::Kind::Delete:
        c.before = existing(e.offset, "delete");
        break;
    case AnnotationEdit::Kind::Move:
        c.before = existing(e.offset, "move");
        inside(e.newOffset, "move");
        if (e.newOffset == e.offset)
            throw Error("cannot move the boundary at offset " + std::to_string(e.offset) + " onto itself", ctx);
        if (findOffset(bs, e.newOffset) != bs.end())
            throw Error("cannot move the boundary at offset " + std::to_string(e.offset) + " to "
                            + std::to_string(e.newOffset) + ": there is one there already",
                        ctx);
        c.after = Boundary{e.newOffset, c.before->level};
        break;
    case AnnotationEdit::Kind::Level:
        c.before = existing(e.offset, "change the level of");
        level(e.level);
        if (c.before->level == e.level)
            throw Error("the boundary at offset " + std::to_string(e.offset) + " already has level "
                            + std::to_string(e.level),
                        ctx);
        c.after = Boundary{e.offset, e.level};
        break;
    }
    applyEvent(bs, c.before, c.after);
    return c;
}

constexpr const char* kSegmentationSelect =
    "SELECT s.id, s.document_id, s.parent_id, s.segmenter, s.params, s.author, s.created_at, "
    "(SELECT count(*) FROM boundaries b WHERE b.segmentation_id = s.id), "
    "(SELECT count(*) FROM annotation_events e WHERE e.segmentation_id = s.id AND e.state = 'active'), "
    "s.reviewed, coalesce(s.reviewed_by, ''), coalesce(s.reviewed_at, '') "
    "FROM segmentations s ";

SegmentationInfo readSegmentationInfo(sql::Query& q)
{
    SegmentationInfo s;
    s.id = q.integer(0);
    s.documentId = q.integer(1);
    s.parentId = q.optInteger(2);
    s.segmenter = q.text(3);
    s.params = q.text(4);
    s.author = q.text(5);
    s.createdAt = q.text(6);
    s.boundaryCount = static_cast<std::size_t>(q.integer(7));
    s.activeEdits = static_cast<std::size_t>(q.integer(8));
    s.reviewed = q.integer(9) != 0;
    s.reviewedBy = q.text(10);
    s.reviewedAt = q.text(11);
    return s;
}

std::string checkedJsonObject(const std::string& text, const char* what, const ErrorContext& ctx)
{
    if (text.empty())
        return "{}";
    const auto j = parseJsonInput(text, ctx, std::string(what) + " is not valid JSON", std::nullopt);
    if (!j.is_object())
        throw Error(std::string(what) + " must be a JSON object", ctx);
    return j.dump();
}

} // namespace

// ---- Impl helpers -----------------------------------------------------------------------------

std::vector<Boundary> Store::Impl::loadBoundaries(Id segmentationId)
{
    std::vector<Boundary> out;
    sql::Query q(db, "SELECT offset, level FROM boundaries WHERE segmentation_id = ? ORDER BY offset");
    q.bind(1, segmentationId);
    while (q.step())
        out.push_back({static_cast<std::size_t>(q.integer(0)), static_cast<int>(q.integer(1))});
    return out;
}

std::size_t Store::Impl::lengthIfMadeBy(Id segmentationId, const char* segmenter, const char* otherwise, const ErrorContext& ctx)
{
    sql::Query q(db, "SELECT s.segmenter, doc.length_cp FROM segmentations s JOIN documents doc ON doc.id = s.document_id "
                     "WHERE s.id = ?");
    q.bind(1, segmentationId);
    if (!q.step())
        throw Error("there is no segmentation with id " + std::to_string(segmentationId), ctx);
    if (q.text(0) != segmenter)
        throw Error("segmentation " + std::to_string(segmentationId) + " was made by '" + q.text(0) + "'" + otherwise, ctx);
    return static_cast<std::size_t>(q.integer(1));
}

std::vector<Boundary> Store::Impl::initialBoundaries(Id segmentationId)
{
    sql::Query q(db, "SELECT initial_boundaries FROM segmentations WHERE id = ?");
    q.bind(1, segmentationId);
    if (!q.step())
        fail("there is no segmentation with id " + std::to_string(segmentationId));
    return boundariesFromJson(q.text(0), context());
}

bool Store::Impl::undoNewest(const char* table, Id segmentationId, const std::string& author, const char* doing,
                             const std::function<void(const ErrorContext&)>& check,
                             const std::function<std::vector<Boundary>()>& replay)
{
    sql::WriteTransaction tx(db, doing);
    check(segmentationContext(segmentationId));
    // `table` is one of two fixed names, never user input.
    Id eventId = 0;
    {
        sql::Query q(db, std::string("SELECT id FROM ") + table +
                             " WHERE segmentation_id = ? AND state = 'active' ORDER BY seq DESC LIMIT 1");
        q.bind(1, segmentationId);
        if (!q.step())
            return false;
        eventId = q.integer(0);
    }
    {
        sql::Query q(db, std::string("UPDATE ") + table +
                             " SET state = 'undone', undone_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), undone_by = ? WHERE id = ?");
        q.bind(1, author).bind(2, eventId).run();
    }
    writeBoundaries(segmentationId, replay());
    tx.commit();
    return true;
}

void Store::Impl::writeBoundaries(Id segmentationId, const std::vector<Boundary>& boundaries)
{
    {
        sql::Query del(db, "DELETE FROM boundaries WHERE segmentation_id = ?");
        del.bind(1, segmentationId).run();
    }
    sql::Query ins(db, "INSERT INTO boundaries (segmentation_id, offset, level) VALUES (?, ?, ?)");
    for (const auto& b : boundaries) {
        ins.bind(1, segmentationId).bind(2, b.offset).bind(3, b.level).run();
        sqlite3_reset(ins.handle());
    }
}

Id Store::Impl::insertSegmentation(const NewSegmentation& s)
{
    ErrorContext ctx = context();
    ctx.item = "segmentation of document " + std::to_string(s.documentId);
    const std::size_t length = documentLength(s.documentId);
    try {
        validateBoundaries(s.boundaries, length);
    } catch (const Error& e) {
        throw Error(e.message(), ctx);
    }
    if (s.segmenter.empty())
        throw Error("the segmenter's name is empty (use \"manual\" for hand-made segmentations)", ctx);
    if (s.parentId)
        requireExists("segmentations", *s.parentId, "segmentation");
    const std::string params = checkedJsonObject(s.params, "the segmenter parameters", ctx);
    {
        sql::Query q(db, "INSERT INTO segmentations (document_id, segmenter, params, author, parent_id, initial_boundaries) "
                         "VALUES (?, ?, ?, ?, ?, ?)");
        q.bind(1, s.documentId).bind(2, s.segmenter).bind(3, params).bind(4, s.author).bind(5, s.parentId);
        q.bind(6, boundariesToJson(s.boundaries)).run();
    }
    const Id id = db.lastInsertId();
    writeBoundaries(id, s.boundaries);
    return id;
}

// ---- segmentations ----------------------------------------------------------------------------

Id Store::addSegmentation(const NewSegmentation& segmentation)
{
    sql::WriteTransaction tx(d->db, "storing a segmentation");
    const Id id = d->insertSegmentation(segmentation);
    tx.commit();
    return id;
}

Id Store::recordSegmentation(const Document& doc, const std::string& segmenter, const std::string& paramsJson,
                             const std::vector<Boundary>& boundaries, const std::string& author)
{
    sql::WriteTransaction tx(d->db, "recording a segmentation");
    const Id documentId = d->upsertDocument(doc).first;
    const Id id = d->insertSegmentation({documentId, segmenter, paramsJson, author, std::nullopt, boundaries});
    tx.commit();
    return id;
}

Id Store::ensureReference(const Document& doc)
{
    sql::WriteTransaction tx(d->db, "recording a reference segmentation");
    const Id documentId = d->upsertDocument(doc).first;
    const std::string initial = boundariesToJson(doc.reference());
    sql::Query q(d->db, "SELECT id FROM segmentations WHERE document_id = ? AND segmenter = 'reference' "
                        "AND initial_boundaries = ? ORDER BY id LIMIT 1");
    q.bind(1, documentId).bind(2, initial);
    Id id = 0;
    if (q.step()) {
        id = q.integer(0);
    } else {
        id = d->insertSegmentation({documentId, "reference", "{\"origin\":\"document\"}", doc.meta().source,
                                    std::nullopt, doc.reference()});
    }
    tx.commit();
    return id;
}

SegmentationInfo Store::segmentationInfo(Id segmentationId)
{
    sql::Query q(d->db, std::string(kSegmentationSelect) + "WHERE s.id = ?");
    q.bind(1, segmentationId);
    if (!q.step())
        d->fail("there is no segmentation with id " + std::to_string(segmentationId));
    return readSegmentationInfo(q);
}

std::vector<Boundary> Store::boundaries(Id segmentationId)
{
    sql::ReadTransaction snapshot(d->db);
    d->requireExists("segmentations", segmentationId, "segmentation");
    return d->loadBoundaries(segmentationId);
}

std::vector<SegmentationInfo> Store::segmentationHistory(Id documentId)
{
    sql::ReadTransaction snapshot(d->db);
    d->requireExists("documents", documentId, "document");
    std::vector<SegmentationInfo> out;
    sql::Query q(d->db, std::string(kSegmentationSelect) + "WHERE s.document_id = ? ORDER BY s.id");
    q.bind(1, documentId);
    while (q.step())
        out.push_back(readSegmentationInfo(q));
    return out;
}

SegmentationDiff Store::diff(Id a, Id b)
{
    sql::ReadTransaction snapshot(d->db);
    d->requireExists("segmentations", a, "segmentation");
    d->requireExists("segmentations", b, "segmentation");
    const auto x = d->loadBoundaries(a);
    const auto y = d->loadBoundaries(b);
    SegmentationDiff out;
    std::size_t i = 0, j = 0;
    while (i < x.size() || j < y.size()) {
        if (j == y.size() || (i < x.size() && x[i].offset < y[j].offset)) {
            out.removed.push_back(x[i++]);
        } else if (i == x.size() || y[j].offset < x[i].offset) {
            out.added.push_back(y[j++]);
        } else {
            if (x[i].level != y[j].level)
                out.levelChanged.emplace_back(x[i], y[j]);
            else
                ++out.unchanged;
            ++i;
            ++j;
        }
    }
    return out;
}

Id Store::forkSegmentation(Id from, const std::string& author)
{
    sql::WriteTransaction tx(d->db, "creating a new segmentation version");
    const auto info = segmentationInfo(from);
    const Id id = d->insertSegmentation({info.documentId, "manual", nlohmann::json{{"forked_from", from}}.dump(), author,
                                         from, d->loadBoundaries(from)});
    tx.commit();
    return id;
}

Id Store::beginCorrection(Id datasetId, std::size_t row, const std::string& author)
{
    sql::WriteTransaction tx(d->db, "starting a correction");
    Id current = 0;
    {
        sql::Query q(d->db, "SELECT current_segmentation_id FROM dataset_rows WHERE dataset_id = ? AND row_index = ?");
        q.bind(1, datasetId).bind(2, row);
        if (!q.step())
            d->fail("dataset " + std::to_string(datasetId) + " has no row " + std::to_string(row));
        current = q.integer(0);
    }
    const auto info = segmentationInfo(current);
    if (info.segmenter == "manual")
        return current; // already editable; nothing to write
    const Id id = d->insertSegmentation({info.documentId, "manual",
                                         nlohmann::json{{"forked_from", current}, {"dataset", datasetId}, {"row", row}}.dump(),
                                         author, current, d->loadBoundaries(current)});
    sql::Query q(d->db, "UPDATE dataset_rows SET current_segmentation_id = ? WHERE dataset_id = ? AND row_index = ?");
    q.bind(1, id).bind(2, datasetId).bind(3, row).run();
    tx.commit();
    return id;
}

void Store::setSegmentationReviewed(Id segmentationId, bool reviewed, const std::string& author)
{
    sql::WriteTransaction tx(d->db, "marking a segmentation as reviewed");
    sql::Query q(d->db, "UPDATE segmentations SET reviewed = ?, reviewed_by = ?, "
                        "reviewed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?");
    q.bind(1, reviewed ? 1 : 0).bind(2, author).bind(3, segmentationId).run();
    if (d->db.changes() != 1)
        d->fail("there is no segmentation with id " + std::to_string(segmentationId));
    tx.commit();
}

// ---- annotation -------------------------------------------------------------------------------
namespace {

// The segmentation's document length, after checking that it exists and is editable.
std::size_t editableLength(Store::Impl& d, Id segmentationId, const ErrorContext& ctx)
{
    return d.lengthIfMadeBy(segmentationId, "manual", " and is kept as it is: edit a new manual version of it (fork it first)", ctx);
}

struct StoredEvent {
    Id id;
    std::optional<Boundary> before, after;
};

std::optional<Boundary> boundaryColumns(sql::Query& q, int offsetColumn)
{
    if (q.isNull(offsetColumn))
        return std::nullopt;
    return Boundary{static_cast<std::size_t>(q.integer(offsetColumn)), static_cast<int>(q.integer(offsetColumn + 1))};
}

std::vector<Boundary> replayActive(Store::Impl& d, Id segmentationId, std::optional<std::size_t> limit)
{
    std::vector<Boundary> bs = d.initialBoundaries(segmentationId);
    sql::Query q(d.db, "SELECT seq, before_offset, before_level, after_offset, after_level FROM annotation_events "
                       "WHERE segmentation_id = ? AND state = 'active' ORDER BY seq");
    q.bind(1, segmentationId);
    std::size_t applied = 0;
    while ((!limit || applied < *limit) && q.step()) {
        if (!applyEvent(bs, boundaryColumns(q, 1), boundaryColumns(q, 3)))
            d.fail("the annotation history of segmentation " + std::to_string(segmentationId) + " does not replay at event "
                   + std::to_string(q.integer(0)) + " (the history is inconsistent)");
        ++applied;
    }
    return bs;
}

} // namespace

Id Store::applyAnnotationEdit(Id segmentationId, const AnnotationEdit& edit, const std::string& author)
{
    const ErrorContext ctx = d->segmentationContext(segmentationId);
    sql::WriteTransaction tx(d->db, "saving a boundary edit");
    const std::size_t length = editableLength(*d, segmentationId, ctx);
    auto bs = d->loadBoundaries(segmentationId);
    const EventChange c = describeEdit(bs, edit, length, ctx);
    {
        sql::Query q(d->db, "UPDATE annotation_events SET state = 'discarded' WHERE segmentation_id = ? AND state = 'undone'");
        q.bind(1, segmentationId).run();
    }
    {
        sql::Query q(d->db, "INSERT INTO annotation_events (segmentation_id, seq, action, before_offset, before_level, "
                            "after_offset, after_level, author) VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM "
                            "annotation_events WHERE segmentation_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)");
        q.bind(1, segmentationId).bind(2, toString(edit.kind));
        q.bind(3, c.before ? std::optional<std::size_t>(c.before->offset) : std::nullopt);
        q.bind(4, c.before ? std::optional<int>(c.before->level) : std::nullopt);
        q.bind(5, c.after ? std::optional<std::size_t>(c.after->offset) : std::nullopt);
        q.bind(6, c.after ? std::optional<int>(c.after->level) : std::nullopt);
        q.bind(7, author).run();
    }
    const Id eventId = d->db.lastInsertId();
    // The new boundary set: only the rows the edit touches change.
    if (c.before) {
        sql::Query q(d->db, "DELETE FROM boundaries WHERE segmentation_id = ? AND offset = ?");
        q.bind(1, segmentationId).bind(2, c.before->offset).run();
    }
    if (c.after) {
        sql::Query q(d->db, "INSERT INTO boundaries (segmentation_id, offset, level) VALUES (?, ?, ?)");
        q.bind(1, segmentationId).bind(2, c.after->offset).bind(3, c.after->level).run();
    }
    tx.commit();
    return eventId;
}

bool Store::undo(Id segmentationId, const std::string& author)
{
    return d->undoNewest(
        "annotation_events", segmentationId, author, "undoing a boundary edit",
        [&](const ErrorContext& ctx) { editableLength(*d, segmentationId, ctx); },
        [&] { return replayActive(*d, segmentationId, std::nullopt); });
}

bool Store::redo(Id segmentationId, const std::string& author)
{
    const ErrorContext ctx = d->segmentationContext(segmentationId);
    sql::WriteTransaction tx(d->db, "redoing a boundary edit");
    editableLength(*d, segmentationId, ctx);
    Id eventId = 0;
    {
        // Undo takes the newest active event and a new edit discards every undone one, so the
        // undone event with the lowest seq is the one undone last.
        sql::Query q(d->db, "SELECT id FROM annotation_events WHERE segmentation_id = ? AND state = 'undone' "
                            "ORDER BY seq LIMIT 1");
        q.bind(1, segmentationId);
        if (!q.step())
            return false;
        eventId = q.integer(0);
    }
    {
        sql::Query q(d->db, "UPDATE annotation_events SET state = 'active', undone_at = NULL, undone_by = ? WHERE id = ?");
        q.bind(1, author).bind(2, eventId).run();
    }
    d->writeBoundaries(segmentationId, replayActive(*d, segmentationId, std::nullopt));
    tx.commit();
    return true;
}

std::vector<AnnotationEvent> Store::history(Id segmentationId)
{
    sql::ReadTransaction snapshot(d->db);
    d->requireExists("segmentations", segmentationId, "segmentation");
    std::vector<AnnotationEvent> out;
    sql::Query q(d->db, "SELECT id, seq, action, before_offset, before_level, after_offset, after_level, author, "
                        "created_at, state, coalesce(undone_at, '') FROM annotation_events WHERE segmentation_id = ? "
                        "ORDER BY seq");
    q.bind(1, segmentationId);
    while (q.step()) {
        AnnotationEvent e;
        e.id = q.integer(0);
        e.segmentationId = segmentationId;
        e.seq = q.integer(1);
        e.kind = kindFromString(q.text(2));
        e.before = boundaryColumns(q, 3);
        e.after = boundaryColumns(q, 5);
        e.author = q.text(7);
        e.createdAt = q.text(8);
        e.state = stateFromString(q.text(9));
        e.undoneAt = q.text(10);
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<Boundary> Store::replay(Id segmentationId, std::optional<std::size_t> events)
{
    sql::ReadTransaction snapshot(d->db);
    return replayActive(*d, segmentationId, events);
}

} // namespace blocklens::store
