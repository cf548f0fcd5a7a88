#include "store/sqlite.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <sys/resource.h>
#include <sys/statvfs.h>

namespace blocklens::store::sql {

namespace {

// Whether a failed write was (most likely) for lack of space: the disk (or its quota) is full,
// or a file reached the process's size limit (ulimit -f). SQLite reports some of these as a
// plain SQLITE_IOERR_WRITE and does not always keep errno, so look at the files themselves.
bool outOfSpace(const std::string& path, int savedErrno, int sysErrno)
{
    for (int e : {savedErrno, sysErrno})
        if (e == ENOSPC || e == EFBIG || e == EDQUOT)
            return true;
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path db(path);
    rlimit limit{};
    if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        for (const char* suffix : {"", "-wal", "-journal"}) {
            const auto size = fs::file_size(db.string() + suffix, ec);
            if (!ec && size + 65536 >= limit.rlim_cur)
                return true;
        }
    }
    struct statvfs vfs{};
    const fs::path dir = db.has_parent_path() ? db.parent_path() : fs::path(".");
    if (statvfs(dir.c_str(), &vfs) == 0 && static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize < (1ull << 20))
        return true;
    return false;
}

} // namespace

std::string describe(int rc)
{
    return std::string(sqlite3_errstr(rc)) + " (SQLite code " + std::to_string(rc) + ")";
}

// ---------------------------------------------------------------------------------------------
// Connection

Connection::~Connection() { close(); }

void Connection::open(const std::string& name, int flags, const std::string& path)
{
    close();
    path_ = path.empty() ? name : path;
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_EXRESCODE, nullptr);
    if (rc != SQLITE_OK) {
        std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        throw Error("cannot open the workspace database: " + detail, ErrorContext{.file = path_});
    }
    db_ = db;
}

void Connection::close() noexcept
{
    for (auto& [sql, stmt] : cache_)
        sqlite3_finalize(stmt);
    cache_.clear();
    if (db_) {
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }
}

bool Connection::readOnly() const { return db_ && sqlite3_db_readonly(db_, "main") == 1; }

void Connection::exec(std::string_view sql, std::string_view what)
{
    char* message = nullptr;
    const std::string s(sql);
    const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &message);
    sqlite3_free(message);
    if (rc != SQLITE_OK)
        fail(rc, what.empty() ? std::string_view(s) : what);
}

std::optional<std::int64_t> Connection::scalarInt(std::string_view sql)
{
    Query q(*this, sql);
    if (!q.step() || q.isNull(0))
        return std::nullopt;
    return q.integer(0);
}

std::optional<std::string> Connection::scalarText(std::string_view sql)
{
    Query q(*this, sql);
    if (!q.step() || q.isNull(0))
        return std::nullopt;
    return q.text(0);
}

sqlite3_stmt* Connection::prepare(std::string_view sql)
{
    if (const auto it = cache_.find(sql); it != cache_.end())
        return it->second;
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                      nullptr);
    if (rc != SQLITE_OK)
        fail(rc, "preparing a query");
    cache_.emplace(std::string(sql), stmt);
    return stmt;
}

std::int64_t Connection::lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
int Connection::changes() const { return sqlite3_changes(db_); }

void Connection::fail(int rc, std::string_view what) const
{
    const int savedErrno = errno;
    const int extended = db_ ? sqlite3_extended_errcode(db_) : rc;
    const int primary = rc & 0xff;
    const int sysErrno = db_ ? sqlite3_system_errno(db_) : 0;
    const std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    const std::string doing = what.empty() ? std::string() : " while " + std::string(what);
    std::string message;
    const bool noSpace = primary == SQLITE_FULL || (extended & 0xff) == SQLITE_FULL
        || ((primary == SQLITE_IOERR || (extended & 0xff) == SQLITE_IOERR) && outOfSpace(path_, savedErrno, sysErrno));
    if (noSpace) {
        message = "the disk is full (or the file size limit was reached)" + doing
            + ": the change was rolled back and everything stored before it is intact; free some space and retry";
    } else if (primary == SQLITE_READONLY) {
        message = "the workspace is read-only" + doing + " (" + detail
            + "): check the file's permissions, or open it read-only";
    } else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        message = "the workspace is busy" + doing + ": another program held its lock too long (" + detail
            + "); retry when it has finished";
    } else if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
        message = "the workspace file is corrupt or not a SQLite database" + doing + " (" + detail
            + "); it was not changed: restore a backup or choose another file";
    } else if (primary == SQLITE_CANTOPEN) {
        message = "cannot open the workspace file" + doing + " (" + detail
            + "): check that the directory exists and is accessible";
    } else if (primary == SQLITE_IOERR) {
        message = "input/output error" + doing + " (" + detail + (sysErrno ? ", " + std::string(std::strerror(sysErrno)) : "")
            + "): the change was rolled back";
    } else {
        message = (what.empty() ? std::string("database error") : std::string(what)) + ": " + detail;
    }
    throw Error(message, context());
}

// ---------------------------------------------------------------------------------------------
// Query

Query::Query(Connection& db, std::string_view sql) : db_(db), stmt_(db.prepare(sql)) {}

Query::~Query()
{
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

Query& Query::bind(int index, std::int64_t v)
{
    db_.check(sqlite3_bind_int64(stmt_, index, v), "binding a value");
    return *this;
}

Query& Query::bind(int index, double v)
{
    db_.check(sqlite3_bind_double(stmt_, index, v), "binding a value");
    return *this;
}

Query& Query::bind(int index, std::string_view v)
{
    db_.check(sqlite3_bind_text64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8), "binding a value");
    return *this;
}

Query& Query::bindNull(int index)
{
    db_.check(sqlite3_bind_null(stmt_, index), "binding a value");
    return *this;
}

bool Query::step()
{
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    // The statement's error is also the connection's; the destructor resets the statement.
    db_.fail(rc, {});
}

void Query::run()
{
    while (step()) {
    }
}

int Query::columnCount() const { return sqlite3_column_count(stmt_); }
std::string Query::columnName(int i) const { return sqlite3_column_name(stmt_, i); }
bool Query::isNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
int Query::columnType(int i) const { return sqlite3_column_type(stmt_, i); }
std::int64_t Query::integer(int i) const { return sqlite3_column_int64(stmt_, i); }
double Query::real(int i) const { return sqlite3_column_double(stmt_, i); }

std::string Query::text(int i) const
{
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    const int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
}

std::optional<std::int64_t> Query::optInteger(int i) const
{
    if (isNull(i))
        return std::nullopt;
    return integer(i);
}

std::optional<double> Query::optReal(int i) const
{
    if (isNull(i))
        return std::nullopt;
    return real(i);
}

// ---------------------------------------------------------------------------------------------
// Transactions

WriteTransaction::WriteTransaction(Connection& db, std::string_view what) : db_(db), what_(what)
{
    if (db_.readOnly())
        throw Error("the workspace is read-only (the file is not writable, or it was opened read-only): nothing was "
                    "changed while " + what_,
                    db_.context());
    if (sqlite3_get_autocommit(db_.handle()) == 0) {
        nested_ = true;
        db_.exec("SAVEPOINT blocklens_write", what_);
        return;
    }
    if (db_.inBatch)
        throw Error("the batch of changes was rolled back after an earlier error; nothing of it was stored (while "
                        + what_ + ")",
                    db_.context());
    db_.exec("BEGIN IMMEDIATE", what_);
}

WriteTransaction::~WriteTransaction()
{
    if (done_ || sqlite3_get_autocommit(db_.handle()) != 0)
        return;
    if (nested_) {
        sqlite3_exec(db_.handle(), "ROLLBACK TO blocklens_write", nullptr, nullptr, nullptr);
        sqlite3_exec(db_.handle(), "RELEASE blocklens_write", nullptr, nullptr, nullptr);
    } else {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void WriteTransaction::commit()
{
    if (nested_) {
        if (sqlite3_get_autocommit(db_.handle()) != 0)
            throw Error("the batch of changes was rolled back after an error; nothing of it was stored (while " + what_
                            + ")",
                        db_.context());
        db_.exec("RELEASE blocklens_write", what_);
        done_ = true;
        return;
    }
    if (sqlite3_get_autocommit(db_.handle()) != 0)
        throw Error("the change was rolled back after an error; nothing of it was stored (while " + what_ + ")",
                    db_.context());
    const int rc = sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        // A failed COMMIT (disk full, I/O error) can leave the transaction open: roll it back
        // here so nothing half-written stays, then report.
        const int extended = sqlite3_extended_errcode(db_.handle());
        try {
            db_.fail(extended ? extended : rc, what_);
        } catch (...) {
            if (sqlite3_get_autocommit(db_.handle()) == 0)
                sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
            done_ = true;
            throw;
        }
    }
    done_ = true;
}

ReadTransaction::ReadTransaction(Connection& db) : db_(db)
{
    if (sqlite3_get_autocommit(db_.handle()) != 0) {
        db_.exec("BEGIN", "starting a read");
        active_ = true;
    }
}

ReadTransaction::~ReadTransaction()
{
    if (active_)
        sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr);
}

} // namespace blocklens::store::sql
