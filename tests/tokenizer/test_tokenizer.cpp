// Tokenizer tests: every golden case (ids, code-point spans, decoded text computed with the
// `tokenizers` library 0.23.2) of the Llama 3, Qwen3 and Llama 2 tokenizer.json fixtures;
// malformed tokenizer files; empty text; concurrent encoding; `blocklens-cli tokenize --json`.
#include "cli/cli.hpp"
#include "support/cli_capture.hpp"
#include "support/temp_files.hpp"
#include "tokenizer/regex.hpp"
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

using CliResult = blocklens::test::CliResult;
const auto runCli = &blocklens::test::runCliCaptured;

// A small tokenizer.json: a BPE model over `vocab` (ids in order), ignore_merges so that whole
// pre-tokenized words found in the vocabulary come out as one token, no merges.
std::string tinyTokenizer(const std::vector<std::string>& vocab, const json& normalizer, const json& preTokenizer,
                          const json& addedTokens = json::array())
{
    json v = json::object();
    for (std::size_t i = 0; i < vocab.size(); ++i)
        v[vocab[i]] = static_cast<int>(i);
    json model = {{"type", "BPE"}, {"vocab", v}, {"merges", json::array()}, {"ignore_merges", true}};
    json root = {{"version", "1.0"}, {"model", model}, {"normalizer", normalizer}, {"pre_tokenizer", preTokenizer},
                 {"added_tokens", addedTokens}};
    return root.dump();
}

json addedToken(int id, const std::string& content, bool special, bool lstrip = false, bool rstrip = false,
                bool singleWord = false)
{
    return {{"id", id}, {"content", content}, {"special", special}, {"lstrip", lstrip}, {"rstrip", rstrip},
            {"single_word", singleWord}, {"normalized", !special}};
}

// "token [b,e)" for each token, to compare encodings in a readable form.
std::vector<std::string> describe(const Tokenizer& tok, const Encoding& enc)
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < enc.ids.size(); ++i)
        out.push_back(tok.idToToken(enc.ids[i]) + " [" + std::to_string(enc.spans[i].begin) + "," +
                      std::to_string(enc.spans[i].end) + ")");
    return out;
}

std::vector<std::string> byteAlphabet()
{
    std::vector<std::string> v;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        static int n = 0;
        if (b == 0)
            n = 0;
        const char32_t c = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
        std::string s;
        if (c < 0x80) {
            s += static_cast<char>(c);
        } else {
            s += static_cast<char>(0xC0 | (c >> 6));
            s += static_cast<char>(0x80 | (c & 0x3F));
        }
        v.push_back(s);
    }
    return v;
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


    // Expectations below are those of the `tokenizers` library's own unit tests (metaspace.rs,
    // byte_level.rs, normalizer.rs, added_vocabulary.rs), with byte offsets turned into code points.
    void componentSemantics_data()
    {
        QTest::addColumn<QString>("tokenizerJson");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("expected");
        auto row = [](const char* tag, const std::string& tj, const std::string& text, const QStringList& expected) {
            QTest::newRow(tag) << QString::fromStdString(tj) << QString::fromStdString(text) << expected;
        };
        const std::string meta = "\u2581";

        const json metaspaceAlways = {{"type", "Metaspace"}, {"replacement", meta}, {"prepend_scheme", "always"}, {"split", true}};
        row("metaspace multiple spaces",
            tinyTokenizer({meta + "Hey", meta, meta + "friend!"}, nullptr, metaspaceAlways), "Hey   friend!",
            {QString::fromStdString(meta + "Hey [0,3)"), QString::fromStdString(meta + " [3,4)"),
             QString::fromStdString(meta + " [4,5)"), QString::fromStdString(meta + "friend! [5,13)")});

        const json metaspaceFirst = {{"type", "Metaspace"}, {"replacement", meta}, {"prepend_scheme", "first"}, {"split", false}};
        row("metaspace first, around an added token",
            tinyTokenizer({meta + "Hey" + meta + "my" + meta + "friend" + meta, "how" + meta + "are" + meta + "you"},
                          nullptr, metaspaceFirst, json::array({addedToken(2, "<s>", true)})),
            "Hey my friend <s>how" + meta + "are you",
            {QString::fromStdString(meta + "Hey" + meta + "my" + meta + "friend" + meta + " [0,14)"), "<s> [14,17)",
             QString::fromStdString("how" + meta + "are" + meta + "you [17,28)")});

        const json metaspaceNever = {{"type", "Metaspace"}, {"replacement", meta}, {"prepend_scheme", "never"}, {"split", true}};
        row("metaspace never", tinyTokenizer({"Hey", meta + "you"}, nullptr, metaspaceNever), "Hey you",
            {"Hey [0,3)", QString::fromStdString(meta + "you [3,7)")});

        const json nfd = {{"type", "NFD"}};
        row("NFD alignments", tinyTokenizer({"e", "\u0301", "l", "g", "a", "n", "t"}, nfd, nullptr), "\u00e9l\u00e9gant",
            {"e [0,1)", "\u0301 [0,1)", "l [1,2)", "e [2,3)", "\u0301 [2,3)", "g [3,4)", "a [4,5)", "n [5,6)", "t [6,7)"});

        // GPT-2 style: ByteLevel with a prefix space and its own regex, through the raw-byte path
        // (all 256 byte characters in the vocabulary) and the written-out path (not all of them).
        const json gpt2 = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
        const std::string G = "\u0120";
        std::vector<std::string> words = {G + "Hello", G + "my", G + "friend", ",", G + "how", G + "is", G + "your",
                                          G + "day", G + "going", "?"};
        const QStringList gpt2Expected = {
            QString::fromStdString(G + "Hello [0,5)"), QString::fromStdString(G + "my [5,8)"),
            QString::fromStdString(G + "friend [8,15)"), ", [15,16)", QString::fromStdString(G + "how [16,20)"),
            QString::fromStdString(G + "is [20,23)"), QString::fromStdString(G + "your [23,28)"),
            QString::fromStdString(G + "day [28,32)"), QString::fromStdString(G + "going [32,38)"), "? [38,39)"};
        std::vector<std::string> full = byteAlphabet();
        full.insert(full.end(), words.begin(), words.end());
        row("byte-level prefix space, raw bytes", tinyTokenizer(full, nullptr, gpt2),
            "Hello my friend, how is your day going?", gpt2Expected);
        row("byte-level prefix space, written out", tinyTokenizer(words, nullptr, gpt2),
            "Hello my friend, how is your day going?", gpt2Expected);

        // A character split into bytes: every byte's token spans the whole character.
        const json byteLevel = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
        row("byte-level split character", tinyTokenizer(byteAlphabet(), nullptr, byteLevel), "i\u2b62j",
            {"i [0,1)", "\u00e2 [1,2)", "\u0143 [1,2)", "\u00a2 [1,2)", "j [2,3)"});

        // Added tokens: lstrip/rstrip take the spaces around "my"; "ony" is not a single word in
        // "anthony"; special tokens are matched on the raw text.
        std::vector<std::string> chars = {" ", "i", "s", "a", "n", "t", "h", "o", "y"};
        const json added = json::array({addedToken(9, "my", false, true, true), addedToken(10, "name", false),
                                         addedToken(11, "ony", false, false, false, true), addedToken(12, "[CLS]", true),
                                         addedToken(13, "[SEP]", true)});
        row("added token options", tinyTokenizer(chars, nullptr, nullptr, added), "[CLS] my name is anthony [SEP]",
            {"[CLS] [0,5)", "my [5,9)", "name [9,13)", "  [13,14)", "i [14,15)", "s [15,16)", "  [16,17)", "a [17,18)",
             "n [18,19)", "t [19,20)", "h [20,21)", "o [21,22)", "n [22,23)", "y [23,24)", "  [24,25)", "[SEP] [25,30)"});
    }

    void componentSemantics()
    {
        QFETCH(QString, tokenizerJson);
        QFETCH(QString, text);
        QFETCH(QStringList, expected);
        const Tokenizer tok = Tokenizer::fromJson(tokenizerJson.toStdString(), "synthetic tokenizer.json");
        QStringList got;
        for (const std::string& s : describe(tok, tok.encode(text.toStdString())))
            got << QString::fromStdString(s);
        QCOMPARE(got, expected);
    }

    void byteFallbackDecoding()
    {
        const Tokenizer& llama2 = tokenizer("llama2");
        // Bytes that do not form UTF-8 decode to one U+FFFD each; complete ones to their character.
        const std::int32_t e2 = *llama2.tokenToId("<0xE2>"), x96 = *llama2.tokenToId("<0x96>"),
                           x81 = *llama2.tokenToId("<0x81>");
        QCOMPARE(llama2.decode(std::vector<std::int32_t>{e2, x96}), std::string("\xEF\xBF\xBD\xEF\xBF\xBD"));
        QCOMPARE(llama2.decode(std::vector<std::int32_t>{e2, x96, x81}), std::string("\xE2\x96\x81"));
    }


    // Split patterns run with PCRE2 but must match what Oniguruma (used by `tokenizers`) matches.
    void regexClassesFollowOniguruma_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("subject");
        QTest::addColumn<bool>("matches");
        // Code points, not UTF-8 literals: QString(const char*) drops a leading byte order mark, so
        // "\ufeff" became an empty subject and its row passed without testing anything (found by the
        // sanitized Debug build, whose Qt asserts on at(0) of an empty string).
        const char16_t spaces[] = {u' ', u'\t', u'\n', u'\v', u'\f', u'\r', 0x85, 0xa0, 0x1680, 0x2003, 0x2028, 0x2029, 0x202f, 0x3000};
        for (const char16_t sp : spaces)
            QTest::newRow(("\\s matches U+" + QString::number(sp, 16)).toUtf8()) << "^\\s$" << QString(QChar(sp)) << true;
        for (const char16_t other : {char16_t(0x180e), char16_t(0x200b), char16_t(0xfeff), u'a', u'_'})
            QTest::newRow(("\\s rejects U+" + QString::number(other, 16)).toUtf8()) << "^\\s$" << QString(QChar(other)) << false;
        QTest::newRow("\\S takes U+180E") << "^\\S$" << QString("\u180e") << true;
        QTest::newRow("negated class with \\s") << "^[^\\s\\p{L}\\p{N}]+$" << QString("\u180e-") << true;
        QTest::newRow("negated class rejects NEL") << "^[^\\s\\p{L}\\p{N}]+$" << QString("\u0085") << false;
        QTest::newRow("\\w takes marks") << "^\\w+$" << QString("e\u0301_\u0663") << true;
        QTest::newRow("\\w rejects dash") << "^\\w$" << QString("-") << false;
        QTest::newRow("\\h is a hex digit") << "^\\h+$" << QString("09afAF") << true;
        QTest::newRow("\\h is not a space") << "^\\h$" << QString(" ") << false;
        QTest::newRow("case-insensitive group") << "^(?i:'s|'re)$" << QString("'RE") << true;
        QTest::newRow("lookahead") << "^\\s+(?!\\S)" << QString("  \u2028") << true;
    }

    void regexClassesFollowOniguruma()
    {
        QFETCH(QString, pattern);
        QFETCH(QString, subject);
        QFETCH(bool, matches);
        QVERIFY(!subject.isEmpty());
        const auto re = tok::Regex::compile(pattern.toStdString(), "test");
        std::vector<std::pair<std::uint32_t, std::uint32_t>> found;
        re.findAll(subject.toStdString(), found);
        QCOMPARE(!found.empty(), matches);
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
