#pragma once
// Runs SQL on a workspace file with the plain sqlite3 API, bypassing the store: how the hostile
// and safety tests damage or forge files the way a user (or another program) might.
#include <sqlite3.h>

#include <QTest>

#include <filesystem>
#include <string>

namespace blocklens::test {

inline void rawSql(const std::filesystem::path& path, const std::string& sql)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, message.c_str());
}

} // namespace blocklens::test
