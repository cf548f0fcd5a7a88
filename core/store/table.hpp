#pragma once
// A query result as plain values (no SQLite types), and its export to CSV and JSONL.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <variant>
#include <vector>

namespace blocklens::store {

using Value = std::variant<std::monostate, std::int64_t, double, std::string>; // monostate = NULL

struct Table {
    std::vector<std::string> columns;
    std::vector<std::vector<Value>> rows; // each row has columns.size() values
};

// RFC 4180: a header line, then one line per row; fields with a comma, quote or line break are
// quoted (quotes doubled); NULL is an empty field; doubles print with up to 17 significant digits.
void writeCsv(const Table& table, std::ostream& out);

// One JSON object per row, keys in column order; NULL is null. Text that holds a JSON object or
// array (e.g. a metrics column) stays a string: consumers decide whether to parse it.
void writeJsonl(const Table& table, std::ostream& out);

enum class TableFormat { Csv, Jsonl };
void writeTable(const Table& table, TableFormat format, std::ostream& out);

} // namespace blocklens::store
