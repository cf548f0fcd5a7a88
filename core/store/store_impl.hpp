#pragma once
// Internal to core/store: the state behind Store and helpers shared by its .cpp files.
#include "store/sqlite.hpp"
#include "store/store.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace blocklens::store {

struct Store::Impl {
    std::filesystem::path path;
    OpenOptions options;
    sql::Connection db;
    int schemaVersion = 0;
    std::string upgradedFrom;

    ErrorContext context() const { return ErrorContext{.file = path.string()}; }
    // The context of an error about one segmentation: the store file and "segmentation N".
    ErrorContext segmentationContext(Id segmentationId) const
    {
        ErrorContext ctx = context();
        ctx.item = "segmentation " + std::to_string(segmentationId);
        return ctx;
    }
    [[noreturn]] void fail(const std::string& message) const { throw Error(message, context()); }

    // Boundaries of a segmentation as stored now, ascending.
    std::vector<Boundary> loadBoundaries(Id segmentationId);
    // Replaces the stored boundary set (inside the caller's transaction).
    void writeBoundaries(Id segmentationId, const std::vector<Boundary>& boundaries);
    // Inserts a segmentation row and its boundaries (inside the caller's transaction).
    Id insertSegmentation(const NewSegmentation& s);
    // Inserts a document if its hash is new (inside the caller's transaction); returns its id and
    // whether it was new.
    std::pair<Id, bool> upsertDocument(const Document& doc);
    std::size_t documentLength(Id documentId);
    void requireExists(const char* table, Id id, const char* what);
    // The length of the segmentation's document, after checking that `segmenter` made it (else
    // an Error: "segmentation N was made by 'X'" + `otherwise`).
    std::size_t lengthIfMadeBy(Id segmentationId, const char* segmenter, const char* otherwise, const ErrorContext& ctx);
    // The boundaries a segmentation started from (segmentations.initial_boundaries), before the
    // events of its log: what replaying that log starts from.
    std::vector<Boundary> initialBoundaries(Id segmentationId);
    // Undo of an event log (`table`: annotation_events or adjudication_decisions) in a write
    // transaction of its own (`doing` names it in a busy error): `check` throws for a segmentation
    // the log does not apply to, then the newest active event is marked undone by `author` and the
    // stored boundaries become `replay()`. False, with nothing written, when there is nothing to undo.
    bool undoNewest(const char* table, Id segmentationId, const std::string& author, const char* doing,
                    const std::function<void(const ErrorContext&)>& check,
                    const std::function<std::vector<Boundary>()>& replay);
    // An export: one record per row of `q`, whose first columns are record_id, category,
    // variant, lang, source; `text` is the column of the document's text, and `segmentation`
    // picks the row's boundaries (none: the row is left out). Returns the records written.
    std::size_t exportRows(sql::Query& q, std::ostream& out, const RecordFormatter& format, int text,
                           const std::function<std::optional<Id>(sql::Query&)>& segmentation);
};

// Boundaries <-> the compact JSON kept in segmentations.initial_boundaries: [[offset, level], ...]
std::string boundariesToJson(const std::vector<Boundary>& boundaries);
std::vector<Boundary> boundariesFromJson(const std::string& json, const ErrorContext& where);

// Reads every row of a query into a Table (column names from the statement).
Table readTable(sql::Query& query);

} // namespace blocklens::store
