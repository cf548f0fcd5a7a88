// blocklens-cli tokenize: token ids, code-point spans and counts under a tokenizer.json.
#include "cli/command.hpp"
#include "cli/input.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

// Shows a token's text with control characters made visible, for the text table.
std::string visible(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else out += c;
    }
    return out;
}

} // namespace

Command tokenizeCommand()
{
    ArgSpec spec("tokenize (FILE | --text TEXT) --tokenizer PATH [--add-special] [--count] [--json]",
                 "Encode a document with a Hugging Face tokenizer.json: ids, code-point spans, counts.");
    spec.positional("FILE", "a document to encode (or give --text)", false)
        .option("tokenizer", "PATH", "tokenizer.json to use (required)")
        .option("text", "TEXT", "encode this text instead of a file")
        .flag("add-special", "add the tokenizer's special tokens (e.g. BOS) as its template says")
        .flag("count", "print only the number of tokens")
        .flag("replace-invalid", "replace invalid UTF-8 with U+FFFD instead of failing")
        .flag("json", "print JSON: {count, ids, spans, tokens}");
    return {"tokenize", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (!a.has("tokenizer"))
                    throw UsageError{"--tokenizer PATH is required"};
                if (a.positionals.empty() == !a.has("text"))
                    throw UsageError{"give either FILE or --text TEXT"};
                const Tokenizer tok = Tokenizer::fromFile(a.value("tokenizer"));
                const Document doc = a.has("text") ? Document(a.value("text"))
                                                   : loadInputDocument(a.positionals[0], {a.flag("replace-invalid")}, io.err);
                const Encoding enc = tok.encode(doc.text(), a.flag("add-special"));
                if (a.flag("count") && !a.flag("json")) {
                    io.out << enc.ids.size() << "\n";
                    return 0;
                }
                if (a.flag("json")) {
                    // Written as it goes, the same text as one json value's dump(): a tree of every
                    // token (about 200 bytes each) was the largest thing in memory on a long
                    // document, and running out while freeing it aborted (tests/core/test_command_memory).
                    auto value = [](const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); };
                    io.out << "{\"tokenizer\":" << value(a.value("tokenizer")) << ",\"count\":" << enc.ids.size();
                    if (!a.flag("count")) {
                        io.out << ",\"ids\":[";
                        for (std::size_t i = 0; i < enc.ids.size(); ++i)
                            io.out << (i ? "," : "") << enc.ids[i];
                        io.out << "],\"spans\":[";
                        for (std::size_t i = 0; i < enc.spans.size(); ++i)
                            io.out << (i ? ",[" : "[") << enc.spans[i].begin << "," << enc.spans[i].end << "]";
                        io.out << "],\"tokens\":[";
                        for (std::size_t i = 0; i < enc.ids.size(); ++i)
                            io.out << (i ? "," : "") << value(tok.idToToken(enc.ids[i]));
                        io.out << "]";
                    }
                    io.out << "}\n";
                    return 0;
                }
                io.out << enc.ids.size() << " tokens (" << tok.describe() << ")\n";
                io.out << "index\tid\tbegin\tend\ttext\n";
                for (std::size_t i = 0; i < enc.ids.size(); ++i) {
                    const auto& s = enc.spans[i];
                    io.out << i << "\t" << enc.ids[i] << "\t" << s.begin << "\t" << s.end << "\t"
                           << visible(doc.slice(s.begin, s.end)) << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
