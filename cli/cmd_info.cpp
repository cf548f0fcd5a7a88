// blocklens-cli info FILE: statistics of a document or a JSONL dataset.
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "cli/input.hpp"
#include "document/stats.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

json documentJson(const Document& doc, const std::optional<Tokenizer>& tokenizer)
{
    const auto s = computeStats(doc);
    json j;
    j["id"] = doc.meta().id;
    j["source"] = doc.meta().source;
    j["kind"] = std::string(toString(doc.meta().kind));
    if (!doc.meta().codeLanguage.empty()) j["code_language"] = doc.meta().codeLanguage;
    if (!doc.meta().category.empty()) j["category"] = doc.meta().category;
    if (!doc.meta().variant.empty()) j["variant"] = doc.meta().variant;
    if (!doc.meta().lang.empty()) j["lang"] = doc.meta().lang;
    j["bytes"] = s.bytes;
    j["code_points"] = s.codePoints;
    j["lines"] = s.lines;
    j["paragraphs"] = s.paragraphs;
    j["words"] = s.words;
    j["non_ascii"] = s.nonAscii;
    j["sha256"] = doc.contentHash();
    j["reference_boundaries"] = doc.reference().size();
    if (tokenizer)
        j["tokens"] = tokenizer->encode(doc.text()).ids.size();
    return j;
}

void printDocument(std::ostream& out, const json& j)
{
    auto row = [&](const char* label, const json& v) {
        out << "  " << label << std::string(22 - std::string(label).size(), ' ')
            << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    };
    out << (j["source"].get<std::string>().empty() ? j["id"].get<std::string>() : j["source"].get<std::string>()) << "\n";
    for (const auto& [k, v] : j.items())
        if (k != "source")
            row(k.c_str(), v);
}

void printDataset(std::ostream& out, const json& j)
{
    const auto& cp = j["code_points"];
    out << j["path"].get<std::string>() << "\n  documents             " << j["documents"].dump()
        << "\n  code points           min " << cp["min"].dump() << ", median " << cp["median"].dump() << ", max "
        << cp["max"].dump() << "\n";
    if (j.contains("tokens_total"))
        out << "  tokens (total)        " << j["tokens_total"].dump() << "\n";
    out << "  category/variant\n";
    for (const auto& [k, v] : j["by_category_variant"].items())
        out << "    " << k << std::string(k.size() < 24 ? 24 - k.size() : 1, ' ') << v.dump() << "\n";
    out << "  boundaries by level\n";
    for (const auto& [k, v] : j["boundaries_by_level"].items())
        out << "    level " << k << "               " << v.dump() << "\n";
}

json datasetJson(const Dataset& ds, const std::optional<Tokenizer>& tokenizer)
{
    json j;
    j["path"] = ds.path;
    j["documents"] = ds.documents.size();
    std::map<std::string, std::size_t> byGroup;
    std::map<int, std::size_t> byLevel;
    std::vector<std::size_t> lengths;
    std::size_t totalTokens = 0;
    for (const auto& d : ds.documents) {
        const auto& m = d.meta();
        ++byGroup[(m.category.empty() ? "-" : m.category) + "/" + (m.variant.empty() ? "-" : m.variant)];
        for (const auto& b : d.reference())
            ++byLevel[b.level];
        lengths.push_back(d.length());
        if (tokenizer)
            totalTokens += tokenizer->encode(d.text()).ids.size();
    }
    std::sort(lengths.begin(), lengths.end());
    j["code_points"] = {{"min", lengths.front()}, {"median", lengths[lengths.size() / 2]}, {"max", lengths.back()}};
    if (tokenizer)
        j["tokens_total"] = totalTokens;
    json groups = json::object();
    for (const auto& [k, v] : byGroup)
        groups[k] = v;
    j["by_category_variant"] = groups;
    json levels = json::object();
    for (const auto& [k, v] : byLevel)
        levels[std::to_string(k)] = v;
    j["boundaries_by_level"] = levels;
    return j;
}

} // namespace

Command infoCommand()
{
    ArgSpec spec("info FILE [--tokenizer PATH] [--json]",
                 "Statistics of a document (text, Markdown, source code) or a JSONL dataset.");
    spec.positional("FILE", "a document, or a dataset (.jsonl)")
        .option("tokenizer", "PATH", "tokenizer.json: also count tokens")
        .flag("replace-invalid", "replace invalid UTF-8 with U+FFFD instead of failing")
        .flag("json", "print JSON");
    return {"info", spec, [](const ArgSpec::Parsed& a, Io& io) {
                const std::filesystem::path path = a.positionals[0];
                const InputOptions in{a.flag("replace-invalid")};
                const auto tokenizer = loadOptionalTokenizer(a.optional("tokenizer"));
                json j;
                if (isDatasetPath(path))
                    j = datasetJson(loadInputDataset(path, in, io.err), tokenizer);
                else
                    j = documentJson(loadInputDocument(path, in, io.err), tokenizer);
                if (a.flag("json"))
                    io.out << jsonText(j) << "\n";
                else if (isDatasetPath(path))
                    printDataset(io.out, j);
                else
                    printDocument(io.out, j);
                return 0;
            }};
}

} // namespace blocklens::cli
