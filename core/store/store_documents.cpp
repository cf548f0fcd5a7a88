// Documents, token counts, datasets: import and export.
#include "store/store_impl.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <ostream>

namespace blocklens::store {
namespace fs = std::filesystem;

namespace {

DocumentKind kindFromString(const std::string& s)
{
    if (s == "markdown")
        return DocumentKind::Markdown;
    if (s == "code")
        return DocumentKind::SourceCode;
    return DocumentKind::PlainText;
}

constexpr const char* kDocumentColumns =
    "id, content_hash, external_id, source, category, variant, lang, kind, length_cp, length_bytes, created_at";

DocumentInfo readDocumentInfo(sql::Query& q)
{
    DocumentInfo d;
    d.id = q.integer(0);
    d.contentHash = q.text(1);
    d.externalId = q.text(2);
    d.source = q.text(3);
    d.category = q.text(4);
    d.variant = q.text(5);
    d.lang = q.text(6);
    d.kind = q.text(7);
    d.length = static_cast<std::size_t>(q.integer(8));
    d.bytes = static_cast<std::size_t>(q.integer(9));
    d.createdAt = q.text(10);
    return d;
}

bool allDigits(const std::string& s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

} // namespace

// ---- Impl helpers -----------------------------------------------------------------------------

std::pair<Id, bool> Store::Impl::upsertDocument(const Document& doc)
{
    const auto& m = doc.meta();
    {
        sql::Query q(db,
                     "INSERT INTO documents (content_hash, external_id, source, category, variant, lang, kind, "
                     "code_language, length_cp, length_bytes, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (content_hash) DO NOTHING");
        q.bind(1, doc.contentHash()).bind(2, m.id).bind(3, m.source).bind(4, m.category).bind(5, m.variant);
        q.bind(6, m.lang).bind(7, toString(m.kind)).bind(8, m.codeLanguage).bind(9, doc.length());
        q.bind(10, doc.text().size()).bind(11, doc.text());
        q.run();
    }
    if (db.changes() == 1)
        return {db.lastInsertId(), true};
    sql::Query q(db, "SELECT id FROM documents WHERE content_hash = ?");
    q.bind(1, doc.contentHash());
    if (!q.step())
        fail("a document vanished while it was being stored");
    return {q.integer(0), false};
}

std::size_t Store::Impl::documentLength(Id documentId)
{
    sql::Query q(db, "SELECT length_cp FROM documents WHERE id = ?");
    q.bind(1, documentId);
    if (!q.step())
        fail("there is no document with id " + std::to_string(documentId));
    return static_cast<std::size_t>(q.integer(0));
}

// ---- documents --------------------------------------------------------------------------------

Id Store::addDocument(const Document& doc)
{
    sql::WriteTransaction tx(d->db, "adding a document");
    const Id id = d->upsertDocument(doc).first;
    tx.commit();
    return id;
}

std::optional<Id> Store::findDocument(const std::string& key)
{
    if (key.empty())
        return std::nullopt;
    if (key.size() >= 4 && key.find_first_not_of("0123456789abcdef") == std::string::npos) {
        sql::Query q(d->db, "SELECT id FROM documents WHERE content_hash >= ?1 AND content_hash < ?1 || 'g' LIMIT 2");
        q.bind(1, key);
        std::vector<Id> ids;
        while (q.step())
            ids.push_back(q.integer(0));
        if (ids.size() > 1)
            d->fail("the hash prefix '" + key + "' matches several documents; give more digits");
        if (ids.size() == 1)
            return ids.front();
    }
    sql::Query q(d->db, "SELECT id FROM documents WHERE external_id = ? ORDER BY id LIMIT 1");
    q.bind(1, key);
    if (q.step())
        return q.integer(0);
    Id id = 0;
    // A number too large for an id (from_chars says so) is no document's id.
    if (allDigits(key) && std::from_chars(key.data(), key.data() + key.size(), id).ec == std::errc{}) {
        sql::Query byId(d->db, "SELECT id FROM documents WHERE id = ?");
        byId.bind(1, id);
        if (byId.step())
            return byId.integer(0);
    }
    return std::nullopt;
}

DocumentInfo Store::documentInfo(Id documentId)
{
    sql::Query q(d->db, std::string("SELECT ") + kDocumentColumns + " FROM documents WHERE id = ?");
    q.bind(1, documentId);
    if (!q.step())
        d->fail("there is no document with id " + std::to_string(documentId));
    return readDocumentInfo(q);
}

std::vector<DocumentInfo> Store::listDocuments()
{
    std::vector<DocumentInfo> out;
    sql::Query q(d->db, std::string("SELECT ") + kDocumentColumns + " FROM documents ORDER BY id");
    while (q.step())
        out.push_back(readDocumentInfo(q));
    return out;
}

Document Store::loadDocument(Id documentId)
{
    sql::Query q(d->db,
                 "SELECT text, external_id, category, variant, lang, source, kind, code_language FROM documents WHERE id = ?");
    q.bind(1, documentId);
    if (!q.step())
        d->fail("there is no document with id " + std::to_string(documentId));
    DocumentMeta m;
    m.id = q.text(1);
    m.category = q.text(2);
    m.variant = q.text(3);
    m.lang = q.text(4);
    m.source = q.text(5);
    m.kind = kindFromString(q.text(6));
    m.codeLanguage = q.text(7);
    return Document(q.text(0), std::move(m));
}

void Store::setTokenCount(Id documentId, const std::string& tokenizerHash, std::size_t tokens,
                          const std::string& tokenizerName)
{
    sql::WriteTransaction tx(d->db, "storing a token count");
    d->requireExists("documents", documentId, "document");
    sql::Query q(d->db, "INSERT OR REPLACE INTO document_token_counts (document_id, tokenizer_hash, tokenizer_name, tokens) "
                        "VALUES (?, ?, ?, ?)");
    q.bind(1, documentId).bind(2, tokenizerHash).bind(3, tokenizerName).bind(4, tokens).run();
    tx.commit();
}

std::optional<std::size_t> Store::tokenCount(Id documentId, const std::string& tokenizerHash)
{
    sql::Query q(d->db, "SELECT tokens FROM document_token_counts WHERE document_id = ? AND tokenizer_hash = ?");
    q.bind(1, documentId).bind(2, tokenizerHash);
    if (!q.step())
        return std::nullopt;
    return static_cast<std::size_t>(q.integer(0));
}

// ---- datasets ---------------------------------------------------------------------------------

ImportResult Store::importDataset(const Dataset& dataset, const ImportOptions& options, const Progress& progress)
{
    std::string name = options.name;
    if (name.empty())
        name = fs::path(dataset.path).stem().string();
    if (name.empty())
        d->fail("the dataset needs a name (give --name)");
    if (allDigits(name))
        d->fail("a dataset name cannot be only digits ('" + name + "'): numbers select datasets by id");
    if (options.countTokens && options.tokenizerHash.empty())
        d->fail("token counts need the tokenizer's hash");

    sql::WriteTransaction tx(d->db, "importing dataset '" + name + "'");
    if (const auto existing = findDataset(name))
        d->fail("a dataset named '" + name + "' already exists (id " + std::to_string(*existing)
                + "); import under another name (--name)");
    {
        sql::Query q(d->db, "INSERT INTO datasets (name, source_path, row_count) VALUES (?, ?, ?)");
        q.bind(1, name).bind(2, dataset.path).bind(3, dataset.documents.size()).run();
    }
    ImportResult result;
    result.datasetId = d->db.lastInsertId();
    const std::string params = nlohmann::json{{"origin", "dataset"}, {"dataset", name}}.dump();
    const auto total = static_cast<std::int64_t>(dataset.documents.size());
    for (std::size_t i = 0; i < dataset.documents.size(); ++i) {
        if (progress.stopRequested())
            d->fail("import cancelled: nothing was stored");
        const Document& doc = dataset.documents[i];
        const auto [documentId, isNew] = d->upsertDocument(doc);
        result.newDocuments += isNew;
        if (options.countTokens) {
            sql::Query q(d->db, "INSERT OR REPLACE INTO document_token_counts (document_id, tokenizer_hash, "
                                "tokenizer_name, tokens) VALUES (?, ?, ?, ?)");
            q.bind(1, documentId).bind(2, options.tokenizerHash).bind(3, options.tokenizerName);
            q.bind(4, options.countTokens(doc)).run();
        }
        // References are never edited, so one with the same initial boundaries is the same.
        const std::string initial = boundariesToJson(doc.reference());
        std::optional<Id> reference;
        if (!isNew) {
            sql::Query q(d->db, "SELECT id FROM segmentations WHERE document_id = ? AND segmenter = 'reference' "
                                "AND initial_boundaries = ? ORDER BY id LIMIT 1");
            q.bind(1, documentId).bind(2, initial);
            if (q.step())
                reference = q.integer(0);
        }
        if (!reference)
            reference = d->insertSegmentation({documentId, "reference", params, "import", std::nullopt, doc.reference()});
        const auto& m = doc.meta();
        sql::Query q(d->db, "INSERT INTO dataset_rows (dataset_id, row_index, document_id, record_id, category, variant, "
                            "lang, source, reference_segmentation_id, current_segmentation_id) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        q.bind(1, result.datasetId).bind(2, i).bind(3, documentId).bind(4, m.id).bind(5, m.category);
        q.bind(6, m.variant).bind(7, m.lang).bind(8, m.source).bind(9, *reference).bind(10, *reference);
        q.run();
        result.boundaries += doc.reference().size();
        ++result.rows;
        progress(static_cast<std::int64_t>(i + 1), total, "importing");
    }
    tx.commit();
    return result;
}

std::optional<Id> Store::findDataset(const std::string& nameOrId)
{
    {
        sql::Query q(d->db, "SELECT id FROM datasets WHERE name = ?");
        q.bind(1, nameOrId);
        if (q.step())
            return q.integer(0);
    }
    if (allDigits(nameOrId) && nameOrId.size() < 18) {
        sql::Query q(d->db, "SELECT id FROM datasets WHERE id = ?");
        q.bind(1, static_cast<Id>(std::stoll(nameOrId)));
        if (q.step())
            return q.integer(0);
    }
    return std::nullopt;
}

std::vector<DatasetInfo> Store::listDatasets()
{
    std::vector<DatasetInfo> out;
    sql::Query q(d->db, "SELECT id, name, source_path, row_count, imported_at, "
                        "(SELECT count(*) FROM dataset_rows r WHERE r.dataset_id = datasets.id AND r.reviewed = 1) "
                        "FROM datasets ORDER BY id");
    while (q.step())
        out.push_back({q.integer(0), q.text(1), q.text(2), static_cast<std::size_t>(q.integer(3)),
                       static_cast<std::size_t>(q.integer(5)), q.text(4)});
    return out;
}

std::vector<DatasetRow> Store::datasetRows(Id datasetId)
{
    d->requireExists("datasets", datasetId, "dataset");
    std::vector<DatasetRow> out;
    sql::Query q(d->db, "SELECT row_index, document_id, record_id, category, variant, lang, source, "
                        "reference_segmentation_id, current_segmentation_id, reviewed, coalesce(reviewed_by, ''), "
                        "coalesce(reviewed_at, '') FROM dataset_rows WHERE dataset_id = ? ORDER BY row_index");
    q.bind(1, datasetId);
    while (q.step()) {
        DatasetRow r;
        r.index = static_cast<std::size_t>(q.integer(0));
        r.documentId = q.integer(1);
        r.meta.id = q.text(2);
        r.meta.category = q.text(3);
        r.meta.variant = q.text(4);
        r.meta.lang = q.text(5);
        r.meta.source = q.text(6);
        r.referenceSegmentationId = q.integer(7);
        r.currentSegmentationId = q.integer(8);
        r.reviewed = q.integer(9) != 0;
        r.reviewedBy = q.text(10);
        r.reviewedAt = q.text(11);
        out.push_back(std::move(r));
    }
    return out;
}

std::size_t Store::exportDataset(Id datasetId, std::ostream& out, RecordForm form, bool original, bool reviewedOnly)
{
    return exportDataset(
        datasetId, out,
        [form](const Document& doc, const std::vector<Boundary>& boundaries) {
            return formatDatasetRecord(doc, boundaries, form);
        },
        original, reviewedOnly);
}

std::size_t Store::exportDataset(Id datasetId, std::ostream& out, const RecordFormatter& format, bool original,
                                 bool reviewedOnly)
{
    sql::ReadTransaction snapshot(d->db);
    d->requireExists("datasets", datasetId, "dataset");
    sql::Query q(d->db, "SELECT r.record_id, r.category, r.variant, r.lang, r.source, r.reference_segmentation_id, "
                        "r.current_segmentation_id, doc.text FROM dataset_rows r JOIN documents doc ON doc.id = r.document_id "
                        "WHERE r.dataset_id = ? AND (?2 = 0 OR r.reviewed = 1) ORDER BY r.row_index");
    q.bind(1, datasetId).bind(2, reviewedOnly ? 1 : 0);
    return d->exportRows(q, out, format, 7, [original](sql::Query& row) -> std::optional<Id> { return row.integer(original ? 5 : 6); });
}

std::size_t Store::Impl::exportRows(sql::Query& q, std::ostream& out, const RecordFormatter& format, int text,
                                    const std::function<std::optional<Id>(sql::Query&)>& segmentation)
{
    std::size_t written = 0;
    while (q.step()) {
        const std::optional<Id> boundaries = segmentation(q);
        if (!boundaries)
            continue;
        DocumentMeta m;
        m.id = q.text(0);
        m.category = q.text(1);
        m.variant = q.text(2);
        m.lang = q.text(3);
        m.source = q.text(4);
        const Document doc(q.text(text), std::move(m));
        out << format(doc, loadBoundaries(*boundaries)) << '\n';
        ++written;
    }
    if (!out)
        fail("writing the exported dataset failed");
    return written;
}

void Store::setReviewed(Id datasetId, std::size_t row, bool reviewed, const std::string& author)
{
    sql::WriteTransaction tx(d->db, "marking a row as reviewed");
    sql::Query q(d->db, "UPDATE dataset_rows SET reviewed = ?, reviewed_by = ?, "
                        "reviewed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE dataset_id = ? AND row_index = ?");
    q.bind(1, reviewed ? 1 : 0).bind(2, author).bind(3, datasetId).bind(4, row).run();
    if (d->db.changes() != 1)
        d->fail("dataset " + std::to_string(datasetId) + " has no row " + std::to_string(row));
    tx.commit();
}

} // namespace blocklens::store
