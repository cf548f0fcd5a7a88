// Tokenizer tests: every golden case (ids, code-point spans, decoded text computed with the
// `tokenizers` library 0.23.2) of the Llama 3, Qwen3 and Llama 2 tokenizer.json fixtures;
// malformed tokenizer files; empty text; concurrent encoding; `blocklens-cli tokenize --json`.
#include "cli/cli.hpp"
#include "support/temp_files.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

using namespace blocklens;
using json = nlohmann::json;

namespace {

const char* const kTokenizers[] = {"llama3", "qwen3", "llama2"};

std::string readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::filesystem::path tokenizerPath(const std::string& name)
{
    return test::fixturesDir() / "tokenizers" / name / "tokenizer.json";
}

// Loaded once per test run: the tokenizers, their goldens and the texts.
const Tokenizer& tokenizer(const std::string& name)
{
    static std::mutex m;
    static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
    std::lock_guard lock(m);
    auto& t = cache[name];
    if (!t)
        t = std::make_unique<Tokenizer>(Tokenizer::fromFile(tokenizerPath(name)));
    return *t;
}

const json& golden(const std::string& name)
{
    static std::map<std::string, json> cache;
    auto& g = cache[name];
    if (g.is_null())
        g = json::parse(readAll(test::fixturesDir() / "tokenizers" / name / "golden.json"));
    return g;
}

const json& texts()
{
    static const json t = json::parse(readAll(test::sourceDir() / "tests/fixtures/tokenizers/texts.json"));
    return t;
}

std::vector<TokenSpan> spansOf(const json& offsets)
{
    std::vector<TokenSpan> s;
    for (const auto& o : offsets)
        s.push_back({o[0].get<std::size_t>(), o[1].get<std::size_t>()});
    return s;
}

// A readable description of the first difference between two encodings.
std::string firstDifference(const Encoding& got, const std::vector<std::int32_t>& ids, const std::vector<TokenSpan>& spans)
{
    const std::size_t n = std::min(got.ids.size(), ids.size());
    std::size_t i = 0;
    while (i < n && got.ids[i] == ids[i] && got.spans[i] == spans[i])
        ++i;
    std::ostringstream os;
    os << "first difference at token " << i << " of " << ids.size() << " expected (" << got.ids.size() << " got)";
    for (std::size_t k = i; k < i + 3; ++k) {
        os << "\n  #" << k << " expected ";
        if (k < ids.size())
            os << ids[k] << " [" << spans[k].begin << "," << spans[k].end << ")";
        else
            os << "-";
        os << " got ";
        if (k < got.ids.size())
            os << got.ids[k] << " [" << got.spans[k].begin << "," << got.spans[k].end << ")";
        else
            os << "-";
    }
    return os.str();
}

struct CliResult {
    int code;
    std::string out, err;
};

CliResult runCli(const std::vector<std::string>& args)
{
    std::ostringstream out, err;
    const int code = cli::runCli(args, out, err);
    return {code, out.str(), err.str()};
}

} // namespace

class TestTokenizer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void goldenCases_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("index");
        for (const char* name : kTokenizers) {
            const json& g = golden(name);
            const auto& cases = g["cases"];
            for (std::size_t i = 0; i < cases.size(); ++i) {
                const std::string tag = std::string(name) + "/" + cases[i]["text"].get<std::string>() +
                                        (cases[i]["add_special_tokens"].get<bool>() ? "+special" : "");
                QTest::newRow(tag.c_str()) << QString(name) << static_cast<int>(i);
            }
        }
    }

    void goldenCases()
    {
        QFETCH(QString, name);
        QFETCH(int, index);
        const json& c = golden(name.toStdString())["cases"][static_cast<std::size_t>(index)];
        const std::string text = texts()[c["text"].get<std::string>()].get<std::string>();
        const Tokenizer& tok = tokenizer(name.toStdString());

        const Encoding enc = tok.encode(text, c["add_special_tokens"].get<bool>());
        const auto ids = c["ids"].get<std::vector<std::int32_t>>();
        const auto spans = spansOf(c["offsets"]);
        QCOMPARE(enc.spans.size(), enc.ids.size());
        const bool same = enc.ids == ids && enc.spans == spans;
        QVERIFY2(same, firstDifference(enc, ids, spans).c_str());

        const std::string decoded = tok.decode(enc.ids);
        QCOMPARE(QString::fromStdString(decoded), QString::fromStdString(c["decoded"].get<std::string>()));
    }

    void emptyText()
    {
        for (const char* name : kTokenizers) {
            const Encoding enc = tokenizer(name).encode("");
            QVERIFY(enc.ids.empty());
            QVERIFY(enc.spans.empty());
            QCOMPARE(tokenizer(name).decode({}), std::string());
        }
    }

    void addsBosOnlyWhenAsked()
    {
        const Tokenizer& llama2 = tokenizer("llama2");
        const Encoding plain = llama2.encode("Hello world");
        const Encoding withBos = llama2.encode("Hello world", true);
        QCOMPARE(withBos.ids.size(), plain.ids.size() + 1);
        QCOMPARE(withBos.ids.front(), *llama2.tokenToId("<s>"));
        QCOMPARE(withBos.spans.front(), (TokenSpan{0, 0}));
    }

    void vocabularyLookups()
    {
        const Tokenizer& llama3 = tokenizer("llama3");
        QCOMPARE(llama3.vocabSize(), std::size_t{128256});
        QCOMPARE(llama3.tokenToId("<|begin_of_text|>").value_or(-1), 128000);
        QCOMPARE(llama3.idToToken(128000), std::string("<|begin_of_text|>"));
        QCOMPARE(llama3.idToToken(9906), std::string("Hello"));
        QCOMPARE(llama3.idToToken(-5), std::string());
        QCOMPARE(llama3.idToToken(999999), std::string());
        QVERIFY(!llama3.tokenToId("no such token at all").has_value());
        QCOMPARE(llama3.contentHash().size(), std::size_t{64});
        QVERIFY2(llama3.describe().find("byte-level BPE") != std::string::npos, llama3.describe().c_str());
        QVERIFY(tokenizer("llama2").describe().find("byte fallback") != std::string::npos);
    }

    void skipSpecialTokensWhenDecoding()
    {
        const Tokenizer& llama3 = tokenizer("llama3");
        const Encoding enc = llama3.encode("<|begin_of_text|>Hello<|end_of_text|>");
        QCOMPARE(llama3.decode(enc.ids, false), std::string("<|begin_of_text|>Hello<|end_of_text|>"));
        QCOMPARE(llama3.decode(enc.ids, true), std::string("Hello"));
        const Tokenizer& llama2 = tokenizer("llama2");
        QCOMPARE(llama2.decode(llama2.encode("Hi there", true).ids, true), std::string("Hi there"));
    }

    void rejectsInvalidUtf8()
    {
        QVERIFY_THROWS_EXCEPTION(Error, tokenizer("llama3").encode(std::string("ab\xff", 3)));
    }

    void malformedFiles_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected"); // part of the error message

        const std::string llama2 = readAll(tokenizerPath("llama2"));
        QTest::newRow("empty file") << QByteArray() << "empty";
        QTest::newRow("only whitespace") << QByteArray(" \n\t ") << "empty";
        QTest::newRow("truncated json") << QByteArray::fromStdString(llama2.substr(0, llama2.size() / 2))
                                        << "truncated";
        QTest::newRow("not json") << QByteArray("this is not json {") << "not valid JSON";
        QTest::newRow("json array") << QByteArray("[1, 2, 3]") << "not a tokenizer.json";
        QTest::newRow("json without model") << QByteArray("{\"version\": \"1.0\", \"added_tokens\": []}")
                                            << "no \"model\"";
        QTest::newRow("config.json by mistake")
            << QByteArray("{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
                          "\"hidden_size\": 4096, \"vocab_size\": 32000}")
            << "config.json";
        QTest::newRow("tokenizer_config.json by mistake")
            << QByteArray("{\"tokenizer_class\": \"LlamaTokenizer\", \"add_bos_token\": true}") << "tokenizer_config.json";
        QTest::newRow("unigram model")
            << QByteArray("{\"model\": {\"type\": \"Unigram\", \"unk_id\": 0, \"vocab\": [[\"a\", -1.0]]}}")
            << "model type \"Unigram\"";
        QTest::newRow("wordpiece model")
            << QByteArray("{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", "
                          "\"continuing_subword_prefix\": \"##\", \"max_input_chars_per_word\": 100, "
                          "\"vocab\": {\"a\": 0}}}")
            << "model type \"WordPiece\"";
        QTest::newRow("merge with unknown token")
            << QByteArray("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, "
                          "\"merges\": [\"a b\", \"a c\"]}}")
            << "model.merges[1]";
        QTest::newRow("merge making an unknown token")
            << QByteArray("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"b\"]]}}")
            << "\"ab\"";
        QTest::newRow("bad merge string")
            << QByteArray("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a\"]}}")
            << "two tokens";
        QTest::newRow("vocab id not a number")
            << QByteArray("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"zero\"}, \"merges\": []}}") << "integers";
        QTest::newRow("unsupported normalizer")
            << QByteArray("{\"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"\"}, "
                          "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}")
            << "normalizer \"Precompiled\"";
        QTest::newRow("unsupported pre-tokenizer")
            << QByteArray("{\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, "
                          "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}")
            << "pre-tokenizer \"BertPreTokenizer\"";
        QTest::newRow("bad regex")
            << QByteArray("{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(unclosed\"}, "
                          "\"behavior\": \"Isolated\", \"invert\": false}, "
                          "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}")
            << "pre_tokenizer.pattern";
        QTest::newRow("unknown template token")
            << QByteArray("{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": "
                          "[{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", "
                          "\"type_id\": 0}}], \"special_tokens\": {}}, "
                          "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}")
            << "\"<s>\"";
    }

    void malformedFiles()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const auto path = test::writeFile(dir, "tokenizer.json", std::string_view(content.constData(), content.size()));
        try {
            (void)Tokenizer::fromFile(path);
            QFAIL("no error");
        } catch (const Error& e) {
            const std::string what = e.what();
            QVERIFY2(what.find(expected.toStdString()) != std::string::npos, what.c_str());
            QVERIFY2(what.find("tokenizer.json") != std::string::npos, what.c_str()); // names the file
        }
    }

    void missingFile()
    {
        QTemporaryDir dir;
        const auto path = std::filesystem::path(dir.path().toStdString()) / "nope" / "tokenizer.json";
        try {
            (void)Tokenizer::fromFile(path);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("nope") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, Tokenizer::fromFile(dir.path().toStdString())); // a folder
    }

    void encodesFromSeveralThreads()
    {
        const Tokenizer& tok = tokenizer("qwen3");
        const std::string text = texts()["document_100k"].get<std::string>();
        const Encoding reference = tok.encode(text);
        Encoding results[2];
        std::thread a([&] { results[0] = tok.encode(text); });
        std::thread b([&] { results[1] = Tokenizer(tok).encode(text); });
        a.join();
        b.join();
        for (const Encoding& r : results) {
            QVERIFY(r.ids == reference.ids);
            QVERIFY(r.spans == reference.spans);
        }
    }

    void cliTokenizeJson()
    {
        const json* found = nullptr;
        for (const auto& k : golden("llama3")["cases"])
            if (k["text"] == "contractions_upper" && !k["add_special_tokens"].get<bool>())
                found = &k;
        QVERIFY(found);
        const json& c = *found;
        const std::string text = texts()[c["text"].get<std::string>()].get<std::string>();
        QTemporaryDir dir;
        const auto input = test::writeFile(dir, "input.txt", text);
        const CliResult r = runCli({"tokenize", input.string(), "--tokenizer", tokenizerPath("llama3").string(), "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        const json out = json::parse(r.out);
        QCOMPARE(out["count"].get<std::size_t>(), c["ids"].size());
        QVERIFY(out["ids"] == c["ids"]);
        QVERIFY(out["spans"] == c["offsets"]);
        QCOMPARE(out["tokens"].size(), c["ids"].size());

        const CliResult count = runCli({"tokenize", "--text", text, "--tokenizer", tokenizerPath("llama3").string(), "--count"});
        QCOMPARE(count.code, 0);
        QCOMPARE(count.out, std::to_string(c["ids"].size()) + "\n");
    }

    void cliReportsABadTokenizer()
    {
        QTemporaryDir dir;
        const auto bad = test::writeFile(dir, "tokenizer.json", "{\"model_type\": \"llama\"}");
        const CliResult r = runCli({"tokenize", "--text", "hi", "--tokenizer", bad.string()});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.find("config.json") != std::string::npos, r.err.c_str());
    }
};

QTEST_APPLESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
