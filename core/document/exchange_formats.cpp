#include "document/exchange_formats.hpp"

#include "util/error.hpp"
#include "util/json_input.hpp"
#include "util/utf8.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace blocklens {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

struct Named {
    ExchangeFormat format;
    std::string_view name;
};
constexpr Named kFormats[] = {
    {ExchangeFormat::Record, "record"},
    {ExchangeFormat::Chunks, "chunks"},
    {ExchangeFormat::BlockAttention, "block-attention"},
    {ExchangeFormat::BlockAttentionRequest, "block-attention-request"},
    {ExchangeFormat::CacheBlend, "cacheblend"},
    {ExchangeFormat::ChunkOffsets, "chunk-offsets"},
};

ErrorContext at(const ErrorContext& where, std::string item)
{
    ErrorContext c = where;
    c.item = std::move(item);
    return c;
}

DocumentMeta readMeta(const json& obj, const ErrorContext& where)
{
    DocumentMeta meta;
    const auto field = [&](const char* key, std::string& out) {
        const auto it = obj.find(key);
        if (it == obj.end() || it->is_null())
            return;
        if (it->is_string())
            out = it->get<std::string>();
        else if (it->is_number())
            out = it->dump();
        else
            throw Error("must be a string", at(where, key));
    };
    field("id", meta.id);
    field("category", meta.category);
    field("variant", meta.variant);
    field("lang", meta.lang);
    field("source", meta.source);
    return meta;
}

void writeMeta(ojson& obj, const DocumentMeta& m)
{
    if (!m.id.empty()) obj["id"] = m.id;
    if (!m.category.empty()) obj["category"] = m.category;
    if (!m.variant.empty()) obj["variant"] = m.variant;
    if (!m.lang.empty()) obj["lang"] = m.lang;
    if (!m.source.empty()) obj["source"] = m.source;
}

const std::string& stringField(const json& obj, const char* key, const ErrorContext& where)
{
    const auto it = obj.find(key);
    if (it == obj.end())
        throw Error("missing", at(where, key));
    if (!it->is_string())
        throw Error("must be a string", at(where, key));
    return it->get_ref<const std::string&>();
}

// A document from its blocks in order: the text is their concatenation, a level-1 boundary at
// the start of every block but the first. An empty block would put two boundaries at one offset.
Document fromBlocks(const std::vector<std::string>& blocks, const std::string& field, DocumentMeta meta,
                    const ErrorContext& where)
{
    std::string text;
    std::vector<Boundary> boundaries;
    std::size_t cps = 0;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (blocks[i].empty() && blocks.size() > 1)
            throw Error("is empty: every block holds at least one character", at(where, field + "[" + std::to_string(i) + "]"));
        if (i > 0)
            boundaries.push_back({cps, 1});
        text += blocks[i];
        cps += utf8::countCodePoints(blocks[i]);
    }
    try {
        return Document(std::move(text), std::move(meta), std::move(boundaries));
    } catch (const Error& e) {
        throw Error(e.message(), where);
    }
}

std::vector<std::string> stringArray(const json& obj, const char* key, const ErrorContext& where)
{
    const auto it = obj.find(key);
    if (it == obj.end())
        throw Error("missing", at(where, key));
    if (!it->is_array() || it->empty())
        throw Error("must be a non-empty array of strings", at(where, key));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < it->size(); ++i) {
        if (!(*it)[i].is_string())
            throw Error("must be a string", at(where, std::string(key) + "[" + std::to_string(i) + "]"));
        out.push_back((*it)[i].get<std::string>());
    }
    return out;
}

std::vector<std::string> blocksOf(const Document& doc, const std::vector<Boundary>& boundaries)
{
    validateBoundaries(boundaries, doc.length());
    std::vector<std::string> out;
    std::size_t begin = 0;
    for (const auto& b : boundaries) {
        out.emplace_back(doc.slice(begin, b.offset));
        begin = b.offset;
    }
    out.emplace_back(doc.slice(begin, doc.length()));
    return out;
}

// ---- chunk offsets --------------------------------------------------------------------------

std::size_t unitLength(std::string_view s, OffsetUnit unit)
{
    switch (unit) {
    case OffsetUnit::Bytes: return s.size();
    case OffsetUnit::CodePoints: return utf8::countCodePoints(s);
    case OffsetUnit::Utf16: {
        std::size_t n = 0;
        for (std::size_t i = 0; i < s.size();)
            n += utf8::decodeAt(s, i) > 0xFFFF ? 2 : 1;
        return n;
    }
    }
    return s.size();
}

// Where each code point of `text` starts in `unit`s, plus the end: a unit offset maps to a code
// point only if it is in this list (not inside a UTF-8 sequence or a surrogate pair).
std::vector<std::size_t> unitStarts(std::string_view text, OffsetUnit unit)
{
    std::vector<std::size_t> starts;
    std::size_t units = 0;
    for (std::size_t i = 0; i < text.size();) {
        starts.push_back(units);
        const std::size_t before = i;
        const char32_t cp = utf8::decodeAt(text, i);
        units += unit == OffsetUnit::Bytes ? i - before : unit == OffsetUnit::Utf16 && cp > 0xFFFF ? 2 : 1;
    }
    starts.push_back(units);
    return starts;
}

std::size_t offsetField(const json& chunk, const char* key, const std::string& item, const ErrorContext& where)
{
    const auto it = chunk.find(key);
    if (it == chunk.end() || it->is_null())
        throw Error("missing: each chunk needs \"text\", \"start_index\" and \"end_index\"", at(where, item + "." + key));
    if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<std::int64_t>() < 0))
        throw Error("must be a non-negative integer, not " + it->dump(), at(where, item + "." + key));
    return it->get<std::size_t>();
}

Document parseChunkOffsets(const json& value, const ErrorContext& where, const ExchangeOptions& options)
{
    const json* chunks = &value;
    const json* fullText = nullptr;
    DocumentMeta meta;
    std::string field = "chunks";
    if (value.is_object()) {
        meta = readMeta(value, where);
        const auto it = value.find("chunks");
        if (it == value.end())
            throw Error("missing (a chunk-offsets record is {\"chunks\": [...]} or an array of chunks)", at(where, "chunks"));
        chunks = &*it;
        if (const auto t = value.find("text"); t != value.end()) {
            if (!t->is_string())
                throw Error("must be a string", at(where, "text"));
            fullText = &*t;
        }
    } else {
        field = "";
    }
    if (!chunks->is_array() || chunks->empty())
        throw Error("must be a non-empty array of {\"text\", \"start_index\", \"end_index\"} objects",
                    at(where, field.empty() ? "chunks" : field));
    const std::string unit = std::string(toString(options.offsets));
    std::vector<std::size_t> starts; // with the full text: unit offset of every code point
    std::optional<Document> full;    // slices the full text by code point
    if (fullText) {
        starts = unitStarts(fullText->get_ref<const std::string&>(), options.offsets);
        full.emplace(fullText->get<std::string>());
    }
    const auto codePointAt = [&](std::size_t units, const std::string& item) -> std::size_t {
        const auto it = std::lower_bound(starts.begin(), starts.end(), units);
        if (it == starts.end())
            throw Error("is " + std::to_string(units) + ", past the end of \"text\" (" + std::to_string(starts.back()) + " "
                            + unit + ")",
                        at(where, item));
        if (*it != units)
            throw Error("is " + std::to_string(units) + ", inside a character of \"text\" (offsets are counted in " + unit + ")",
                        at(where, item));
        return static_cast<std::size_t>(it - starts.begin());
    };

    std::string text;
    std::vector<Boundary> boundaries;
    std::size_t previousEnd = 0;      // units
    std::size_t cps = 0;              // code points of the text built so far (no full text)
    for (std::size_t i = 0; i < chunks->size(); ++i) {
        const json& chunk = (*chunks)[i];
        const std::string item = (field.empty() ? "" : field) + "[" + std::to_string(i) + "]";
        if (!chunk.is_object())
            throw Error("must be an object {\"text\", \"start_index\", \"end_index\"}", at(where, item));
        const std::string& chunkText = stringField(chunk, "text", at(where, item));
        const std::size_t start = offsetField(chunk, "start_index", item, where);
        const std::size_t end = offsetField(chunk, "end_index", item, where);
        if (end < start)
            throw Error("is " + std::to_string(end) + ", before start_index " + std::to_string(start), at(where, item + ".end_index"));
        const std::size_t length = unitLength(chunkText, options.offsets);
        if (end - start != length)
            throw Error("end_index - start_index is " + std::to_string(end - start) + " but the chunk's text is "
                            + std::to_string(length) + " " + unit + " long",
                        at(where, item + ".end_index"));
        if (i > 0 && start < previousEnd)
            throw Error("is " + std::to_string(start) + ", inside the previous chunk (which ends at " + std::to_string(previousEnd)
                            + "): overlapping chunks have no single boundary",
                        at(where, item + ".start_index"));
        if (fullText) {
            const std::size_t b = codePointAt(start, item + ".start_index");
            const std::size_t e = codePointAt(end, item + ".end_index");
            if (full->slice(b, e) != chunkText)
                throw Error("is not the text at [" + std::to_string(start) + ", " + std::to_string(end) + ") of \"text\"",
                            at(where, item + ".text"));
            if (b > 0 && (boundaries.empty() || boundaries.back().offset != b))
                boundaries.push_back({b, 1});
        } else {
            if (start != previousEnd)
                throw Error("is " + std::to_string(start) + " but " + (i == 0 ? std::string("without a \"text\" field the chunks must start at 0")
                                                                            : "the previous chunk ends at " + std::to_string(previousEnd)
                                                                                  + " (without a \"text\" field chunks must follow each other)"),
                            at(where, item + ".start_index"));
            if (i > 0) {
                if (chunkText.empty())
                    throw Error("is empty: every chunk after the first holds at least one character", at(where, item + ".text"));
                boundaries.push_back({cps, 1});
            }
            text += chunkText;
            cps += utf8::countCodePoints(chunkText);
        }
        previousEnd = end;
    }
    if (fullText)
        text = fullText->get<std::string>();
    try {
        return Document(std::move(text), std::move(meta), std::move(boundaries));
    } catch (const Error& e) {
        throw Error(e.message(), where);
    }
}

} // namespace

std::string_view toString(ExchangeFormat format)
{
    for (const auto& f : kFormats)
        if (f.format == format)
            return f.name;
    return "record";
}

std::string exchangeFormatNames()
{
    std::string out;
    for (const auto& f : kFormats)
        out += (out.empty() ? "" : ", ") + std::string(f.name);
    return out;
}

ExchangeFormat parseExchangeFormat(std::string_view name)
{
    for (const auto& f : kFormats)
        if (f.name == name)
            return f.format;
    throw Error("unknown format '" + std::string(name) + "' (known: " + exchangeFormatNames() + ")");
}

std::string_view toString(OffsetUnit unit)
{
    switch (unit) {
    case OffsetUnit::CodePoints: return "codepoints";
    case OffsetUnit::Utf16: return "utf16";
    case OffsetUnit::Bytes: return "bytes";
    }
    return "codepoints";
}

OffsetUnit parseOffsetUnit(std::string_view name)
{
    if (name == "codepoints")
        return OffsetUnit::CodePoints;
    if (name == "utf16")
        return OffsetUnit::Utf16;
    if (name == "bytes")
        return OffsetUnit::Bytes;
    throw Error("unknown offset unit '" + std::string(name) + "' (known: codepoints, utf16, bytes)");
}

Document parseExchangeRecord(std::string_view line, std::int64_t lineNumber, const std::string& fileName,
                             ExchangeFormat format, const ExchangeOptions& options)
{
    if (format == ExchangeFormat::Record || format == ExchangeFormat::Chunks)
        return parseDatasetRecord(line, lineNumber, fileName);
    const ErrorContext where{.file = fileName, .line = lineNumber};
    const json value = parseJsonInput(line, where, "not valid JSON", std::nullopt);
    if (format == ExchangeFormat::ChunkOffsets) {
        if (!value.is_object() && !value.is_array())
            throw Error("each line must be a JSON object or an array of chunks", where);
        return parseChunkOffsets(value, where, options);
    }
    if (!value.is_object())
        throw Error("each line must be a JSON object", where);
    switch (format) {
    case ExchangeFormat::BlockAttention: {
        const auto blocks = stringArray(value, "blocks", where);
        if (const auto p = value.find("prompt"); p != value.end()) {
            if (!p->is_string())
                throw Error("must be a string", at(where, "prompt"));
            std::string joined;
            for (const auto& b : blocks)
                joined += b;
            if (p->get_ref<const std::string&>() != joined)
                throw Error("is not the blocks joined in order (a Block-Attention record's prompt is its blocks)",
                            at(where, "prompt"));
        }
        if (const auto r = value.find("response"); r != value.end() && !r->is_string() && !r->is_null())
            throw Error("must be a string", at(where, "response"));
        return fromBlocks(blocks, "blocks", readMeta(value, where), where);
    }
    case ExchangeFormat::BlockAttentionRequest:
        return fromBlocks(stringArray(value, "blocks", where), "blocks", readMeta(value, where), where);
    case ExchangeFormat::CacheBlend: {
        if (options.separator.empty())
            throw Error("the CacheBlend separator is empty: it must be a non-empty string");
        const std::string& prompt = stringField(value, "prompt", where);
        std::vector<std::string> blocks;
        std::size_t begin = 0;
        for (std::size_t pos; (pos = prompt.find(options.separator, begin)) != std::string::npos;
             begin = pos + options.separator.size())
            blocks.push_back(prompt.substr(begin, pos - begin));
        blocks.push_back(prompt.substr(begin));
        for (std::size_t i = 0; i < blocks.size(); ++i)
            if (blocks[i].empty() && blocks.size() > 1)
                throw Error("block " + std::to_string(i) + " between separators \"" + options.separator
                                + "\" is empty (a separator at the start or end, or two in a row)",
                            at(where, "prompt"));
        return fromBlocks(blocks, "prompt", readMeta(value, where), where);
    }
    default:
        break;
    }
    throw Error("unsupported format", where);
}

Dataset loadExchangeDataset(const std::filesystem::path& path, ExchangeFormat format, const ExchangeOptions& options,
                            const DatasetLoadOptions& load, const Progress& progress)
{
    if (format == ExchangeFormat::Record || format == ExchangeFormat::Chunks)
        return loadDataset(path, load, progress);
    return loadDatasetWith(
        path,
        [&](std::string_view line, std::int64_t lineNumber, const std::string& fileName) {
            return parseExchangeRecord(line, lineNumber, fileName, format, options);
        },
        load, progress);
}

std::string formatExchangeRecord(const Document& doc, const std::vector<Boundary>& boundaries, ExchangeFormat format,
                                 const ExchangeOptions& options)
{
    if (format == ExchangeFormat::Record)
        return formatDatasetRecord(doc, boundaries, RecordForm::Record);
    if (format == ExchangeFormat::Chunks)
        return formatDatasetRecord(doc, boundaries, RecordForm::Chunks);
    const auto blocks = blocksOf(doc, boundaries);
    ojson obj = ojson::object();
    switch (format) {
    case ExchangeFormat::BlockAttention:
        writeMeta(obj, doc.meta());
        obj["prompt"] = doc.text();
        obj["blocks"] = blocks;
        obj["response"] = "";
        break;
    case ExchangeFormat::BlockAttentionRequest:
        obj["blocks"] = blocks;
        break;
    case ExchangeFormat::CacheBlend: {
        if (options.separator.empty())
            throw Error("the CacheBlend separator is empty: it must be a non-empty string");
        std::string prompt;
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            if (blocks[i].find(options.separator) != std::string::npos)
                throw Error("block " + std::to_string(i) + " of document '" + doc.meta().id + "' contains the separator \""
                            + options.separator + "\": the prompt could not be split back; choose another separator");
            prompt += (i ? options.separator : "") + blocks[i];
        }
        writeMeta(obj, doc.meta());
        obj["prompt"] = prompt;
        break;
    }
    case ExchangeFormat::ChunkOffsets: {
        writeMeta(obj, doc.meta());
        auto chunks = ojson::array();
        std::size_t start = 0;
        for (const auto& b : blocks) {
            const std::size_t end = start + unitLength(b, options.offsets);
            chunks.push_back({{"text", b}, {"start_index", start}, {"end_index", end}});
            start = end;
        }
        obj["chunks"] = std::move(chunks);
        break;
    }
    default:
        break;
    }
    return obj.dump(-1, ' ', false, ojson::error_handler_t::strict);
}

} // namespace blocklens
