#pragma once
// Internal to core/store: the numbered schema migrations of a workspace file.
//
// Migration N turns a version N-1 file into version N (version 0 = an empty file). A migration
// is never edited once released: files in the field were made by it. Add a new one instead, raise
// kSchemaVersion (store.hpp), and commit a fixture file made by the previous version under
// tests/fixtures/store/ so the upgrade is tested.
#include <span>

namespace blocklens::store {

struct Migration {
    int version;
    const char* description;
    const char* sql; // one or more statements, run inside the upgrade transaction
};

std::span<const Migration> migrations();

} // namespace blocklens::store
