#include "store/table.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <ostream>

namespace blocklens::store {
namespace {

std::string formatDouble(double v)
{
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v); // shortest round-trip form
    return ec == std::errc{} ? std::string(buf, end) : std::to_string(v);
}

std::string csvField(const Value& v)
{
    if (std::holds_alternative<std::monostate>(v))
        return {};
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v))
        return formatDouble(*d);
    const auto& s = std::get<std::string>(v);
    if (s.find_first_of(",\"\r\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"')
            out += '"';
        out += c;
    }
    out += '"';
    return out;
}

} // namespace

void writeCsv(const Table& table, std::ostream& out)
{
    for (std::size_t i = 0; i < table.columns.size(); ++i)
        out << (i ? "," : "") << csvField(table.columns[i]);
    out << "\r\n";
    for (const auto& row : table.rows) {
        for (std::size_t i = 0; i < row.size(); ++i)
            out << (i ? "," : "") << csvField(row[i]);
        out << "\r\n";
    }
}

void writeJsonl(const Table& table, std::ostream& out)
{
    using json = nlohmann::ordered_json;
    for (const auto& row : table.rows) {
        json obj = json::object();
        for (std::size_t i = 0; i < row.size() && i < table.columns.size(); ++i) {
            const Value& v = row[i];
            if (std::holds_alternative<std::monostate>(v))
                obj[table.columns[i]] = nullptr;
            else if (const auto* n = std::get_if<std::int64_t>(&v))
                obj[table.columns[i]] = *n;
            else if (const auto* d = std::get_if<double>(&v))
                obj[table.columns[i]] = *d;
            else
                obj[table.columns[i]] = std::get<std::string>(v);
        }
        out << obj.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
}

void writeTable(const Table& table, TableFormat format, std::ostream& out)
{
    if (format == TableFormat::Csv)
        writeCsv(table, out);
    else
        writeJsonl(table, out);
}

} // namespace blocklens::store
