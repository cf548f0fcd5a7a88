// Opening, creating and upgrading a workspace file; info and integrity checks.
#include "store/schema.hpp"
#include "store/store_impl.hpp"
#include "util/json_input.hpp"
#include "version.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace blocklens::store {
namespace fs = std::filesystem;

// ---- paths ----------------------------------------------------------------------------------

fs::path defaultWorkspacePath()
{
    const char* xdg = std::getenv("XDG_DATA_HOME");
    if (xdg && *xdg && fs::path(xdg).is_absolute())
        return fs::path(xdg) / "blocklens" / "workspace.db";
    const char* home = std::getenv("HOME");
    if (!home || !*home)
        throw Error("cannot find the default workspace: neither XDG_DATA_HOME nor HOME is set; give --db PATH or set BLOCKLENS_DB");
    return fs::path(home) / ".local" / "share" / "blocklens" / "workspace.db";
}

fs::path resolveWorkspacePath(const std::optional<std::string>& option)
{
    if (option && !option->empty())
        return *option;
    if (const char* env = std::getenv("BLOCKLENS_DB"); env && *env)
        return env;
    return defaultWorkspacePath();
}

bool isDefaultWorkspacePath(const fs::path& path)
{
    try {
        const fs::path def = defaultWorkspacePath();
        return fs::absolute(path).lexically_normal() == fs::absolute(def).lexically_normal();
    } catch (const Error&) {
        return false; // neither XDG_DATA_HOME nor HOME: there is no default workspace
    }
}

// ---- shared helpers -------------------------------------------------------------------------

std::string boundariesToJson(const std::vector<Boundary>& boundaries)
{
    std::string out = "[";
    for (std::size_t i = 0; i < boundaries.size(); ++i) {
        if (i)
            out += ',';
        out += '[' + std::to_string(boundaries[i].offset) + ',' + std::to_string(boundaries[i].level) + ']';
    }
    out += ']';
    return out;
}

std::vector<Boundary> boundariesFromJson(const std::string& text, const ErrorContext& where)
{
    std::vector<Boundary> out;
    const auto j = parseJsonInput(text, where, "stored boundaries are damaged", std::nullopt);
    try {
        for (const auto& b : j)
            out.push_back({b.at(0).get<std::size_t>(), b.at(1).get<int>()});
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string("stored boundaries are damaged: ") + e.what(), where);
    }
    return out;
}

Table readTable(sql::Query& q)
{
    Table t;
    for (int i = 0; i < q.columnCount(); ++i)
        t.columns.push_back(q.columnName(i));
    while (q.step()) {
        std::vector<Value> row;
        row.reserve(t.columns.size());
        for (int i = 0; i < q.columnCount(); ++i) {
            switch (q.columnType(i)) {
            case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
            case SQLITE_INTEGER: row.emplace_back(q.integer(i)); break;
            case SQLITE_FLOAT: row.emplace_back(q.real(i)); break;
            default: row.emplace_back(q.text(i)); break;
            }
        }
        t.rows.push_back(std::move(row));
    }
    return t;
}

void Store::Impl::requireExists(const char* table, Id id, const char* what)
{
    sql::Query q(db, std::string("SELECT 1 FROM ") + table + " WHERE id = ?");
    q.bind(1, id);
    if (!q.step())
        fail(std::string("there is no ") + what + " with id " + std::to_string(id));
}

// ---- opening --------------------------------------------------------------------------------
namespace {

std::uint32_t bigEndian(const unsigned char* p, int n)
{
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 8) | p[i];
    return v;
}

// Looks at the first 100 bytes of an existing, non-empty file before SQLite touches it: a file
// that is not SQLite, or visibly truncated, is refused without being opened for writing.
void checkHeader(const fs::path& path, std::uintmax_t size, const ErrorContext& ctx)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot read the workspace file (check its permissions)", ctx);
    std::array<unsigned char, 100> h{};
    in.read(reinterpret_cast<char*>(h.data()), h.size());
    const auto got = static_cast<std::size_t>(in.gcount());
    static constexpr char kMagic[] = "SQLite format 3";
    if (got < 16 || std::memcmp(h.data(), kMagic, 16) != 0) {
        std::string start;
        for (std::size_t i = 0; i < std::min<std::size_t>(got, 16); ++i)
            start += (h[i] >= 0x20 && h[i] < 0x7f) ? static_cast<char>(h[i]) : '.';
        throw Error("not a BlockLens workspace: the file is not a SQLite database (it starts with \"" + start
                        + "\"); it was left unchanged. Give another path, or move the file away",
                    ctx);
    }
    if (got < 100)
        throw Error("the workspace file is truncated: only " + std::to_string(size)
                        + " bytes, less than a SQLite header; it was left unchanged. Restore a backup",
                    ctx);
    std::uint32_t pageSize = bigEndian(&h[16], 2);
    if (pageSize == 1)
        pageSize = 65536;
    const std::uint32_t changeCounter = bigEndian(&h[24], 4);
    const std::uint32_t pages = bigEndian(&h[28], 4);
    const std::uint32_t validFor = bigEndian(&h[92], 4);
    std::error_code ec;
    fs::path wal = path;
    wal += "-wal";
    const bool walHasData = fs::exists(wal, ec) && fs::file_size(wal, ec) > 0;
    const bool truncatedPage = pageSize >= 512 && size % pageSize != 0;
    const bool shorterThanHeader = pages > 0 && validFor == changeCounter
        && size < static_cast<std::uintmax_t>(pages) * pageSize;
    if (!walHasData && (truncatedPage || shorterThanHeader))
        throw Error("the workspace file is truncated or damaged: it has " + std::to_string(size)
                        + " bytes but its header describes " + std::to_string(pages) + " pages of "
                        + std::to_string(pageSize) + " bytes; it was left unchanged. Restore a backup",
                    ctx);
}

// integrity_check reports some problems on several lines ("*** in database main ***\nPage 3:
// ..."); an error message and each problem of db check stay on one line.
std::string oneLine(std::string text)
{
    for (std::size_t p = 0; (p = text.find('\n', p)) != std::string::npos;)
        text.replace(p, 1, "; ");
    return text;
}

struct FileState {
    std::int64_t applicationId = 0;
    std::int64_t userVersion = 0;
    std::int64_t objects = 0;
    std::string someTables;
};

FileState readState(sql::Connection& db, const ErrorContext& ctx)
{
    FileState s;
    try {
        s.applicationId = db.scalarInt("PRAGMA application_id").value_or(0);
        s.userVersion = db.scalarInt("PRAGMA user_version").value_or(0);
        s.objects = db.scalarInt("SELECT count(*) FROM sqlite_master").value_or(0);
        sql::Query q(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name LIMIT 4");
        while (q.step())
            s.someTables += (s.someTables.empty() ? "" : ", ") + q.text(0);
    } catch (const Error& e) {
        throw Error("cannot read the workspace file: " + e.message(), ctx);
    }
    return s;
}

// file: URI of a path that SQLite reads as immutable (no locks, no -shm file).
std::string immutableUri(const fs::path& path)
{
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string uri = "file:";
    for (unsigned char c : fs::absolute(path).string()) {
        if (c == '%' || c == '?' || c == '#' || c <= 0x20 || c >= 0x7f) {
            uri += '%';
            uri += kHex[c >> 4];
            uri += kHex[c & 15];
        } else {
            uri += static_cast<char>(c);
        }
    }
    return uri + "?mode=ro&immutable=1";
}

std::string backupPathFor(const fs::path& path, int version)
{
    const std::string base = path.string() + ".v" + std::to_string(version) + ".bak";
    std::error_code ec;
    if (!fs::exists(base, ec))
        return base;
    for (int i = 1;; ++i) {
        const std::string p = base + "." + std::to_string(i);
        if (!fs::exists(p, ec))
            return p;
    }
}

// Copies the committed state of the database to `dest` through a second, read-only connection
// (the first one holds the write lock while it waits to upgrade).
void writeBackup(const fs::path& path, const std::string& dest, const ErrorContext& ctx)
{
    sql::Connection src;
    src.open(path.string(), SQLITE_OPEN_READONLY);
    sqlite3_busy_timeout(src.handle(), 5000);
    sqlite3* out = nullptr;
    int rc = sqlite3_open_v2(dest.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc == SQLITE_OK) {
        sqlite3_backup* b = sqlite3_backup_init(out, "main", src.handle(), "main");
        if (!b) {
            rc = sqlite3_errcode(out);
        } else {
            rc = sqlite3_backup_step(b, -1);
            const int finish = sqlite3_backup_finish(b);
            rc = rc == SQLITE_DONE ? finish : rc;
        }
    }
    const std::string detail = out ? sqlite3_errmsg(out) : sqlite3_errstr(rc);
    sqlite3_close_v2(out);
    if (rc != SQLITE_OK) {
        std::error_code ec;
        fs::remove(dest, ec);
        throw Error("cannot write the backup copy " + dest + " before upgrading (" + detail
                        + "); the workspace was left unchanged",
                    ctx);
    }
}

void runMigrations(sql::Connection& db, int from, int to)
{
    for (const auto& m : migrations()) {
        if (m.version <= from || m.version > to)
            continue;
        db.exec(m.sql, "upgrading the schema to version " + std::to_string(m.version));
        sql::Query q(db, "INSERT INTO schema_migrations (version, description, software) VALUES (?, ?, ?)");
        q.bind(1, m.version).bind(2, m.description).bind(3, std::string("BlockLens ") + kVersion);
        q.run();
    }
    db.exec("PRAGMA user_version = " + std::to_string(to), "setting the schema version");
}

// What a file of schema `version` lacks against the schema its migrations make: tables, indexes
// and columns (a table dropped by hand, say, which integrity_check does not notice). The
// expected schema is built by running the same migrations on an in-memory database.
std::vector<std::string> schemaProblems(sql::Connection& db, int version)
{
    sql::Connection expected;
    expected.open(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "the expected schema");
    runMigrations(expected, 0, version);
    struct Object {
        std::string type, name, table;
        bool operator==(const Object&) const = default;
    };
    auto objects = [](sql::Connection& c) {
        std::vector<Object> out; // tables first, then indexes
        sql::Query q(c, "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index') "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, name");
        while (q.step())
            out.push_back({q.text(0), q.text(1), q.text(2)});
        return out;
    };
    auto columns = [](sql::Connection& c, const std::string& table) {
        std::vector<std::string> out;
        sql::Query q(c, "SELECT name FROM pragma_table_info(?)");
        q.bind(1, table);
        while (q.step())
            out.push_back(q.text(0));
        return out;
    };
    const auto have = objects(db);
    std::vector<std::string> problems, missingTables;
    for (const auto& o : objects(expected)) {
        if (std::find(have.begin(), have.end(), o) == have.end()) {
            // The indexes of a missing table went with it: report the table only.
            if (o.type == "index" && std::find(missingTables.begin(), missingTables.end(), o.table) != missingTables.end())
                continue;
            if (o.type == "table")
                missingTables.push_back(o.name);
            problems.push_back("schema: the " + o.type + " " + o.name + " is missing (schema version "
                               + std::to_string(version) + " has it)");
            continue;
        }
        if (o.type != "table")
            continue;
        const auto present = columns(db, o.name);
        for (const auto& column : columns(expected, o.name))
            if (std::find(present.begin(), present.end(), column) == present.end())
                problems.push_back("schema: table " + o.name + " has no column " + column + " (schema version "
                                   + std::to_string(version) + " has it)");
    }
    return problems;
}

} // namespace

Store Store::open(const fs::path& path, const OpenOptions& options)
{
    auto d = std::make_unique<Impl>();
    d->path = path;
    d->options = options;
    const ErrorContext ctx = d->context();

    std::error_code ec;
    const auto status = fs::status(path, ec);
    const bool exists = fs::exists(status);
    if (exists && fs::is_directory(status))
        throw Error("this is a directory, not a workspace file", ctx);
    if (exists && !fs::is_regular_file(status))
        throw Error("this is not a regular file, so not a workspace", ctx);
    const std::uintmax_t size = exists ? fs::file_size(path, ec) : 0;
    if (!exists) {
        if (options.mode != OpenMode::OpenOrCreate)
            throw Error("no workspace here: the file does not exist (create one with 'blocklens-cli db init')", ctx);
        const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
        if (!fs::exists(parent, ec)) {
            // The default workspace is created on first use by whatever writes to it first (an
            // edit, a recorded comparison, an import); a directory the user named is not
            // guessed at, so a typo in --db still fails here.
            if (!options.createDirectories && !isDefaultWorkspacePath(path))
                throw Error("cannot create the workspace: directory " + parent.string() + " does not exist", ctx);
            fs::create_directories(parent, ec);
            if (ec)
                throw Error("cannot create directory " + parent.string() + ": " + ec.message(), ctx);
        }
    } else if (size == 0) {
        if (options.mode != OpenMode::OpenOrCreate)
            throw Error("the file is empty (0 bytes), not a workspace", ctx);
    } else {
        checkHeader(path, size, ctx);
    }

    const bool readOnlyMode = options.mode == OpenMode::ReadOnly;
    int flags = readOnlyMode ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (!exists && !readOnlyMode)
        flags |= SQLITE_OPEN_CREATE;
    d->db.open(path.string(), flags);
    sqlite3_busy_timeout(d->db.handle(), options.busyTimeoutMs);
    sqlite3_extended_result_codes(d->db.handle(), 1);

    FileState state;
    try {
        state = readState(d->db, ctx);
    } catch (const Error&) {
        // A WAL workspace in a directory this user may not write: SQLite cannot create the -shm
        // file it reads through. Without a -wal file no writer has it open, so read the file as
        // it is (immutable); otherwise say what to do. A damaged file (a corrupt sqlite_master,
        // say) is reported as what it is, not as a question of permissions.
        fs::path wal = path;
        wal += "-wal";
        const int code = sqlite3_extended_errcode(d->db.handle()) & 0xff;
        const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
        if (!d->db.readOnly() || !exists || code == SQLITE_CORRUPT || code == SQLITE_NOTADB
            || ::access(dir.c_str(), W_OK) == 0)
            throw;
        if (fs::exists(wal, ec))
            throw Error("cannot read this read-only workspace: its directory is not writable and a write-ahead log "
                        "(" + wal.filename().string() + ") exists, so another program may be writing it; make the "
                        "directory writable or copy the workspace",
                        ctx);
        d->db.open(immutableUri(path), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path.string());
        sqlite3_extended_result_codes(d->db.handle(), 1);
        state = readState(d->db, ctx);
    }
    const bool empty = state.objects == 0 && state.applicationId == 0 && state.userVersion == 0;
    if (!empty && state.applicationId != kApplicationId) {
        std::ostringstream msg;
        msg << "not a BlockLens workspace: a SQLite database of another program (application_id " << state.applicationId
            << (state.someTables.empty() ? std::string() : ", tables " + state.someTables + " ...")
            << "); it was left unchanged. Give another path";
        throw Error(msg.str(), ctx);
    }
    if (empty && options.mode != OpenMode::OpenOrCreate)
        throw Error("an empty SQLite database, not a workspace (create one with 'blocklens-cli db init')", ctx);
    if (!empty && options.quickCheck) {
        std::string problems;
        try {
            sql::Query q(d->db, "PRAGMA quick_check(5)");
            while (q.step())
                if (const auto line = q.text(0); line != "ok")
                    problems += (problems.empty() ? "" : "; ") + oneLine(line);
        } catch (const Error& e) {
            problems = e.message();
        }
        if (!problems.empty())
            throw Error("the workspace file is corrupt (" + problems
                            + "); it was left unchanged. Restore a backup, or run 'blocklens-cli db check' for the full report",
                        ctx);
    }
    if (!empty && state.userVersion > kSchemaVersion)
        throw Error("this workspace was written by a newer BlockLens: its schema is version "
                        + std::to_string(state.userVersion) + ", this BlockLens (" + kVersion
                        + ") reads up to version " + std::to_string(kSchemaVersion)
                        + "; it was left unchanged. Upgrade BlockLens to open it",
                    ctx);
    if (!empty && state.userVersion < 1)
        throw Error("the workspace is incomplete (schema version 0); it was left unchanged", ctx);

    const bool writable = !d->db.readOnly();
    const bool needsWork = empty || state.userVersion < kSchemaVersion;
    const bool readOlder = options.mode == OpenMode::ReadOnly && options.allowOlderSchema && !empty;
    if (needsWork && !writable && !readOlder)
        throw Error(empty ? "cannot create the workspace: the file is read-only"
                          : "this workspace has schema version " + std::to_string(state.userVersion)
                                + " and needs an upgrade to version " + std::to_string(kSchemaVersion)
                                + (readOnlyMode ? ", which a read-only open does not do; open it for writing once (e.g. "
                                                  "'blocklens-cli db init --db PATH' upgrades it after a backup copy)"
                                                : ", but the file is read-only; make it writable once so it can be upgraded"),
                    ctx);
    if (writable) {
        // WAL must be switched outside a transaction; it is a no-op when already on.
        const auto mode = d->db.scalarText("PRAGMA journal_mode");
        if (!mode || *mode != "wal") {
            const auto now = d->db.scalarText("PRAGMA journal_mode = WAL");
            if (!now || *now != "wal")
                throw Error("cannot switch the workspace to WAL mode (journal mode stays " + now.value_or("?") + ")", ctx);
        }
    }
    if (needsWork && !readOlder) {
        sql::WriteTransaction tx(d->db, empty ? "creating the workspace" : "upgrading the workspace");
        state = readState(d->db, ctx); // another process may have done it meanwhile
        const bool stillEmpty = state.objects == 0 && state.applicationId == 0 && state.userVersion == 0;
        if (stillEmpty) {
            runMigrations(d->db, 0, kSchemaVersion);
            d->db.exec("PRAGMA application_id = " + std::to_string(kApplicationId), "creating the workspace");
            sql::Query info(d->db, "INSERT INTO schema_info (key, value) VALUES (?, ?)");
            info.bind(1, "application").bind(2, "blocklens").run();
            sqlite3_reset(info.handle());
            info.bind(1, "created_with").bind(2, std::string(kVersion)).run();
        } else if (state.applicationId == kApplicationId && state.userVersion < kSchemaVersion) {
            const int from = static_cast<int>(state.userVersion);
            const std::string backup = backupPathFor(path, from);
            writeBackup(path, backup, ctx);
            // An upgrade that fails is rolled back, so the file is still what the backup holds:
            // remove the copy, or every retry would leave one more full copy behind.
            try {
                runMigrations(d->db, from, kSchemaVersion);
                tx.commit();
            } catch (...) {
                std::error_code removeError;
                fs::remove(backup, removeError);
                throw;
            }
            d->upgradedFrom = std::to_string(from) + " (backup: " + backup + ")";
        } else if (state.applicationId != kApplicationId || state.userVersion > kSchemaVersion) {
            throw Error("the workspace changed while it was being opened; try again", ctx);
        }
        if (stillEmpty)
            tx.commit();
    }
    d->schemaVersion = readOlder ? static_cast<int>(state.userVersion) : kSchemaVersion;
    if (writable)
        d->db.exec("PRAGMA synchronous = FULL", "opening the workspace");
    d->db.exec("PRAGMA foreign_keys = ON", "opening the workspace");
    return Store(std::move(d));
}

Store::Store(std::unique_ptr<Impl> impl) : d(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

Store::Batch::Batch(Store& store) : store_(store)
{
    tx_ = std::make_unique<sql::WriteTransaction>(store_.d->db, "writing a batch of changes");
    outer_ = !store_.d->db.inBatch;
    store_.d->db.inBatch = true;
}

Store::Batch::~Batch()
{
    tx_.reset(); // rolls back unless committed
    if (outer_)
        store_.d->db.inBatch = false;
}

void Store::Batch::commit()
{
    if (outer_)
        store_.d->db.inBatch = false;
    outer_ = false;
    tx_->commit();
}

const fs::path& Store::path() const { return d->path; }
bool Store::readOnly() const { return d->db.readOnly(); }

StoreInfo Store::info()
{
    StoreInfo s;
    s.path = d->path.string();
    s.schemaVersion = static_cast<int>(d->db.scalarInt("PRAGMA user_version").value_or(0));
    s.journalMode = d->db.scalarText("PRAGMA journal_mode").value_or("");
    s.readOnly = readOnly();
    std::error_code ec;
    s.fileBytes = static_cast<std::int64_t>(fs::file_size(d->path, ec));
    s.upgradedFrom = d->upgradedFrom;
    sql::ReadTransaction rt(d->db);
    s.createdWith = d->db.scalarText("SELECT value FROM schema_info WHERE key = 'created_with'").value_or("");
    // Tolerant of older schemas (db info on a file that is not upgraded): a missing table counts -1.
    auto count = [&](const char* table) -> std::int64_t {
        sql::Query exists(d->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
        exists.bind(1, table);
        if (!exists.step())
            return -1;
        return d->db.scalarInt(std::string("SELECT count(*) FROM ") + table).value_or(0);
    };
    s.documents = count("documents");
    s.datasets = count("datasets");
    s.segmentations = count("segmentations");
    s.annotationEvents = count("annotation_events");
    s.evaluations = count("evaluations");
    s.runs = count("inference_runs");
    s.tags = count("tags");
    s.notes = count("notes");
    sql::Query q(d->db, "SELECT version, applied_at FROM schema_migrations ORDER BY version");
    while (q.step())
        s.migrations.emplace_back(static_cast<int>(q.integer(0)), q.text(1));
    return s;
}

CheckResult Store::check(bool full)
{
    CheckResult r;
    {
        sql::Query q(d->db, full ? "PRAGMA integrity_check" : "PRAGMA quick_check");
        while (q.step())
            if (const auto line = q.text(0); line != "ok")
                r.problems.push_back(oneLine(line));
    }
    for (auto& problem : schemaProblems(d->db, d->schemaVersion))
        r.problems.push_back(std::move(problem));
    {
        sql::Query q(d->db, "PRAGMA foreign_key_check");
        while (q.step())
            r.problems.push_back("foreign key: row " + q.text(1) + " of " + q.text(0) + " refers to a missing row of "
                                 + q.text(2));
    }
    r.ok = r.problems.empty();
    return r;
}

} // namespace blocklens::store
