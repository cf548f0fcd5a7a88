#pragma once
// Internal to core/store: a thin RAII layer over the sqlite3 C API. Only store .cpp files
// include this header, so sqlite3.h never leaks into public headers.
//
// Rules:
// - Every failure throws blocklens::Error with the database path in the context and a message
//   a user can act on (disk full, read-only, busy, corrupt), see Connection::fail().
// - Statements are prepared once per connection and cached (Connection::prepare); a Query
//   resets its statement and clears its bindings when it goes out of scope.
// - WriteTransaction is BEGIN IMMEDIATE: it takes the write lock up front (waiting up to
//   busy_timeout), so a transaction never fails half-way with SQLITE_BUSY on lock upgrade.
//   If it is not committed it rolls back. Inside another write transaction (a Store::Batch) it
//   is a SAVEPOINT, so each store call stays all-or-nothing within the batch.
// - A cached statement must not be in use twice at once (no recursion over the same SQL text).
#include "util/error.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace blocklens::store::sql {

class Connection;

// One execution of a cached prepared statement.
class Query {
public:
    Query(Connection& db, std::string_view sql);
    ~Query();
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    // Binds are 1-based, in the order of the '?' in the SQL.
    Query& bind(int index, std::int64_t v);
    Query& bind(int index, int v) { return bind(index, static_cast<std::int64_t>(v)); }
    Query& bind(int index, std::size_t v) { return bind(index, static_cast<std::int64_t>(v)); }
    Query& bind(int index, double v);
    Query& bind(int index, std::string_view v); // copied (SQLITE_TRANSIENT)
    Query& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
    Query& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
    Query& bindNull(int index);
    template <class T>
    Query& bind(int index, const std::optional<T>& v)
    {
        return v ? bind(index, *v) : bindNull(index);
    }

    // Steps once: true while a row is available.
    bool step();
    // Steps to completion (for statements that return no rows).
    void run();

    int columnCount() const;
    std::string columnName(int i) const;
    bool isNull(int i) const;
    int columnType(int i) const; // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL
    std::int64_t integer(int i) const;
    double real(int i) const;
    std::string text(int i) const;
    std::optional<std::int64_t> optInteger(int i) const;
    std::optional<double> optReal(int i) const;

    sqlite3_stmt* handle() const { return stmt_; }

private:
    Connection& db_;
    sqlite3_stmt* stmt_ = nullptr;
};

class Connection {
public:
    Connection() = default;
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // flags: SQLITE_OPEN_* (EXRESCODE is added). `name` is the file name or, with
    // SQLITE_OPEN_URI, a file: URI; `path` (default: name) is what errors show.
    void open(const std::string& name, int flags, const std::string& path = {});
    void close() noexcept;
    bool isOpen() const { return db_ != nullptr; }
    sqlite3* handle() const { return db_; }
    const std::string& path() const { return path_; }
    bool readOnly() const;

    // Runs one or more statements without results.
    void exec(std::string_view sql, std::string_view what = {});
    // A single value of a one-row query (e.g. a PRAGMA); nullopt when there is no row.
    std::optional<std::int64_t> scalarInt(std::string_view sql);
    std::optional<std::string> scalarText(std::string_view sql);

    sqlite3_stmt* prepare(std::string_view sql); // cached
    std::int64_t lastInsertId() const;
    int changes() const;

    // Throws Error for result code rc while doing `what`, with a message that says what the
    // user can do. Uses the connection's extended code and errno when available.
    [[noreturn]] void fail(int rc, std::string_view what) const;
    void check(int rc, std::string_view what) const
    {
        if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
            fail(rc, what);
    }
    ErrorContext context() const { return ErrorContext{.file = path_}; }

    bool inBatch = false; // a Store::Batch holds the outer transaction

private:
    sqlite3* db_ = nullptr;
    std::string path_;
    std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeded.
class WriteTransaction {
public:
    explicit WriteTransaction(Connection& db, std::string_view what);
    ~WriteTransaction();
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;
    void commit();

private:
    Connection& db_;
    std::string what_;
    bool done_ = false;
    bool nested_ = false; // a SAVEPOINT inside an outer transaction
};

// BEGIN (deferred) ... END: a consistent snapshot for several reads.
class ReadTransaction {
public:
    explicit ReadTransaction(Connection& db);
    ~ReadTransaction();
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;

private:
    Connection& db_;
    bool active_ = false;
};

// Human-readable description of a result code: "SQLITE_FULL (database or disk is full)".
std::string describe(int rc);

} // namespace blocklens::store::sql
