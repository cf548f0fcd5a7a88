#include "document/dataset.hpp"

#include "util/error.hpp"
#include "util/json_input.hpp"

#include <nlohmann/json.hpp>

namespace blocklens {
namespace {

using json = nlohmann::json;

std::string optionalString(const json& obj, const char* key, const ErrorContext& where)
{
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return {};
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_number())
        return it->dump();
    ErrorContext c = where;
    c.item = key;
    throw Error("must be a string", c);
}

std::vector<Boundary> parseBoundaries(const json& list, const ErrorContext& where)
{
    ErrorContext c = where;
    c.item = "boundaries";
    if (!list.is_array())
        throw Error("must be an array of {\"offset\": N, \"level\": L} or of offsets", c);
    std::vector<Boundary> out;
    out.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
        const json& b = list[i];
        c.item = "boundaries[" + std::to_string(i) + "]";
        Boundary boundary;
        const json* offset = &b;
        if (b.is_object()) {
            const auto o = b.find("offset");
            if (o == b.end())
                throw Error("missing \"offset\"", c);
            offset = &*o;
            if (const auto l = b.find("level"); l != b.end()) {
                if (!l->is_number_integer())
                    throw Error("\"level\" must be an integer", c);
                // Range-checked before narrowing to int: 4294967297 must not become level 1.
                const bool inRange = l->is_number_unsigned() ? l->get<std::uint64_t>() >= 1 && l->get<std::uint64_t>() <= 9
                                                             : l->get<std::int64_t>() >= 1 && l->get<std::int64_t>() <= 9;
                if (!inRange)
                    throw Error("\"level\" is " + l->dump() + ", outside 1..9", c);
                boundary.level = static_cast<int>(l->get<std::int64_t>());
            }
        }
        if (!offset->is_number_integer() || (!offset->is_number_unsigned() && offset->get<std::int64_t>() < 0))
            throw Error("offset must be a non-negative integer", c);
        boundary.offset = offset->get<std::size_t>();
        out.push_back(boundary);
    }
    return out;
}

// The last object key the parser read before `line` failed to parse ("" if none).
std::string lastKeyBeforeError(std::string_view line)
{
    std::string lastKey;
    const json::parser_callback_t noteKey = [&lastKey](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && parsed.is_string())
            lastKey = parsed.get<std::string>();
        return true;
    };
    try {
        [[maybe_unused]] const json parsed = json::parse(line, noteKey);
    } catch (const json::exception&) {
    }
    return lastKey;
}

} // namespace

Document parseDatasetRecord(std::string_view line, std::int64_t lineNumber, const std::string& fileName,
                            const LoadOptions& options)
{
    const ErrorContext where{.file = fileName, .line = lineNumber};
    // Nesting is bounded before parsing (util/json_input.hpp says why).
    if (findExcessiveJsonNesting(line))
        throw Error("not valid JSON: " + jsonNestingMessage(), where);
    json obj;
    try {
        obj = json::parse(line);
    } catch (const json::parse_error& e) {
        // nlohmann's message names the byte inside the line; keep that, drop its prefix.
        std::string what = e.what();
        if (const auto p = what.find("parse error"); p != std::string::npos)
            what = what.substr(p);
        throw Error("not valid JSON: " + what, where);
    } catch (const json::out_of_range& e) {
        // 406: "number overflow parsing '1e999'". Say it in words and name the field: parse
        // again (only on this error path, it costs nothing otherwise) noting the last key read.
        ErrorContext c = where;
        const std::string key = lastKeyBeforeError(line);
        if (!key.empty())
            c.item = "\"" + key + "\"";
        std::string what = e.what();
        if (const auto p = what.find("number overflow"); p != std::string::npos)
            what = what.substr(p);
        throw Error("a number is out of range (" + what + "); JSON numbers must fit a 64-bit float", c);
    }
    if (!obj.is_object())
        throw Error("each line must be a JSON object", where);

    std::string text;
    std::vector<Boundary> boundaries;
    if (const auto t = obj.find("text"); t != obj.end()) {
        if (!t->is_string())
            throw Error("\"text\" must be a string", where);
        text = t->get<std::string>();
        if (const auto b = obj.find("boundaries"); b != obj.end() && !b->is_null())
            boundaries = parseBoundaries(*b, where);
    } else if (const auto ch = obj.find("chunks"); ch != obj.end()) {
        if (!ch->is_array() || ch->empty())
            throw Error("\"chunks\" must be a non-empty array of strings", where);
        std::size_t cps = 0;
        for (std::size_t i = 0; i < ch->size(); ++i) {
            if (!(*ch)[i].is_string())
                throw Error("\"chunks\"[" + std::to_string(i) + "] must be a string", where);
            const auto& s = (*ch)[i].get_ref<const std::string&>();
            if (i > 0 && !s.empty() && cps > 0)
                boundaries.push_back({cps, 1});
            text += s;
            cps += utf8::countCodePoints(s);
        }
    } else {
        throw Error("record has neither \"text\" nor \"chunks\"", where);
    }
    // nlohmann validates UTF-8 while parsing, so the text is valid here; keep the options for
    // callers that relax this in future.
    (void)options;

    DocumentMeta meta;
    meta.id = optionalString(obj, "id", where);
    meta.category = optionalString(obj, "category", where);
    meta.variant = optionalString(obj, "variant", where);
    meta.lang = optionalString(obj, "lang", where);
    meta.source = optionalString(obj, "source", where);
    try {
        return Document(std::move(text), std::move(meta), std::move(boundaries));
    } catch (const Error& e) {
        throw Error(e.message(), where);
    }
}

Dataset loadDataset(const std::filesystem::path& path, const DatasetLoadOptions& options, const Progress& progress)
{
    return loadDatasetWith(
        path,
        [&options](std::string_view line, std::int64_t lineNumber, const std::string& fileName) {
            return parseDatasetRecord(line, lineNumber, fileName, options);
        },
        options, progress);
}

Dataset loadDatasetWith(const std::filesystem::path& path, const RecordParser& parse, const DatasetLoadOptions& options,
                        const Progress& progress)
{
    const std::string name = path.string();
    std::string bytes = readFileBytes(path, options.maxBytes, "dataset");
    if (bytes.empty() || bytes == "\xEF\xBB\xBF") // a byte-order mark alone is empty too
        throw Error("file is empty: a dataset needs one JSON object per line", {.file = name});
    // Invalid UTF-8 is reported with its line: find it before JSON parsing hides the offset.
    if (const auto bad = utf8::findInvalid(bytes); bad != std::string_view::npos && !options.replaceInvalidUtf8) {
        const auto line = 1 + std::count(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
        throw Error("invalid UTF-8", {.file = name, .line = line, .byteOffset = static_cast<std::int64_t>(bad)});
    }
    if (options.replaceInvalidUtf8)
        bytes = utf8::replaceInvalid(bytes).text;

    Dataset ds;
    ds.path = name;
    std::size_t pos = 0;
    std::int64_t lineNumber = 0;
    while (pos < bytes.size()) {
        if (progress.stopRequested())
            throw Error("loading cancelled", {.file = name});
        std::size_t end = bytes.find('\n', pos);
        if (end == std::string::npos)
            end = bytes.size();
        ++lineNumber;
        std::string_view line(bytes.data() + pos, end - pos);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") != std::string_view::npos)
            ds.documents.push_back(parse(line, lineNumber, name));
        pos = end + 1;
        progress(static_cast<std::int64_t>(std::min(pos, bytes.size())), static_cast<std::int64_t>(bytes.size()), "reading");
    }
    if (ds.documents.empty())
        throw Error("no records: every line is blank", {.file = name});
    return ds;
}

std::string formatDatasetRecord(const Document& doc, const std::vector<Boundary>& boundaries, RecordForm form)
{
    validateBoundaries(boundaries, doc.length());
    nlohmann::ordered_json obj = nlohmann::ordered_json::object(); // keeps the field order of the format
    const auto& m = doc.meta();
    obj["id"] = m.id;
    if (!m.category.empty()) obj["category"] = m.category;
    if (!m.variant.empty()) obj["variant"] = m.variant;
    if (!m.lang.empty()) obj["lang"] = m.lang;
    if (!m.source.empty()) obj["source"] = m.source;
    if (form == RecordForm::Record) {
        obj["text"] = doc.text();
        auto list = nlohmann::ordered_json::array();
        for (const auto& b : boundaries)
            list.push_back({{"offset", b.offset}, {"level", b.level}});
        obj["boundaries"] = std::move(list);
    } else {
        auto chunks = nlohmann::ordered_json::array();
        std::size_t begin = 0;
        for (const auto& b : boundaries) {
            chunks.push_back(std::string(doc.slice(begin, b.offset)));
            begin = b.offset;
        }
        chunks.push_back(std::string(doc.slice(begin, doc.length())));
        obj["chunks"] = std::move(chunks);
    }
    return obj.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
}

} // namespace blocklens
