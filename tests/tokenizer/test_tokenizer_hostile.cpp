// Hostile tokenizer.json files (issue 16): each is refused at load with a one-line error naming
// the file, the field and the rule (a limit names its value), or encodes correctly; none crashes.
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>


using namespace blocklens;
using json = nlohmann::json;

namespace {

json tinyModel()
{
    return {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"x", 2}, {"\xC3\xB6", 3}}}, {"merges", json::array()}};
}

json tinyRoot()
{
    return {{"version", "1.0"}, {"model", tinyModel()}, {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}};
}

// Loads `text`; returns the error message ("" when it loads).
std::string loadError(const std::string& text)
{
    try {
        (void)Tokenizer::fromJson(text, "hostile.json");
        return {};
    } catch (const Error& e) {
        return e.what();
    }
}

json sequenceOf(const char* type, const char* listKey, const json& item, std::size_t n)
{
    return {{"type", type}, {listKey, json(std::vector<json>(n, item))}};
}

} // namespace

class TestTokenizerHostile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // A Sequence of 20,000 components of each kind: refused, naming the list and the limit.
    void longSequences_data()
    {
        QTest::addColumn<QString>("section");
        QTest::addColumn<QByteArray>("component");
        QTest::addColumn<QString>("field");
        QTest::newRow("normalizers") << "normalizer"
                                     << QByteArray(sequenceOf("Sequence", "normalizers",
                                                              {{"type", "Prepend"}, {"prepend", "x"}}, 20000)
                                                       .dump()
                                                       .c_str())
                                     << "normalizer.normalizers";
        QTest::newRow("pre-tokenizers")
            << "pre_tokenizer"
            << QByteArray(sequenceOf("Sequence", "pretokenizers", {{"type", "Digits"}}, 20000).dump().c_str())
            << "pre_tokenizer.pretokenizers";
        QTest::newRow("post-processors")
            << "post_processor"
            << QByteArray(sequenceOf("Sequence", "processors", {{"type", "ByteLevel"}}, 20000).dump().c_str())
            << "post_processor.processors";
        QTest::newRow("decoders") << "decoder"
                                  << QByteArray(sequenceOf("Sequence", "decoders", {{"type", "Fuse"}}, 20000).dump().c_str())
                                  << "decoder.decoders";
    }
    void longSequences()
    {
        QFETCH(QString, section);
        QFETCH(QByteArray, component);
        QFETCH(QString, field);
        json root = tinyRoot();
        root[section.toStdString()] = json::parse(component.toStdString());
        const std::string err = loadError(root.dump());
        QVERIFY2(err.find(field.toStdString()) != std::string::npos, err.c_str());
        QVERIFY2(err.find("the limit is 256") != std::string::npos, err.c_str());
        QVERIFY2(err.find("hostile.json") != std::string::npos, err.c_str());
        QVERIFY2(err.find('\n') == std::string::npos, err.c_str());
    }

    // Nested Sequences count too: 200 Sequences of 2 normalizers inside one is 601 normalizers.
    void nestedSequences()
    {
        const json prepend = {{"type", "Prepend"}, {"prepend", "x"}};
        const json pair = {{"type", "Sequence"}, {"normalizers", json::array({prepend, prepend})}};
        json root = tinyRoot();
        root["normalizer"] = sequenceOf("Sequence", "normalizers", pair, 200);
        const std::string err = loadError(root.dump());
        QVERIFY2(err.find("more than 256 normalizers") != std::string::npos, err.c_str());
        QVERIFY2(err.find("normalizer.normalizers[") != std::string::npos, err.c_str());

        // Within the limits, deep nesting works and keeps the order of the steps.
        json ok = {{"type", "Prepend"}, {"prepend", "a"}};
        for (int i = 0; i < 100; ++i)
            ok = {{"type", "Sequence"}, {"normalizers", json::array({ok, {{"type", "Prepend"}, {"prepend", "b"}}})}};
        root["normalizer"] = ok;
        const Tokenizer tok = Tokenizer::fromJson(root.dump(), "nested.json");
        const Encoding enc = tok.encode("x");
        QCOMPARE(enc.ids.size(), 102u);
        QCOMPARE(enc.ids[100], 0); // "b" * 100 + "a" + "x"
        QCOMPARE(enc.ids[101], 2);
    }

    // 100,000 nested arrays, or 300 nested Sequences, anywhere in the file: refused at the depth
    // limit (512), no stack overflow.
    void deepJson_data()
    {
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        const std::string model = tinyModel().dump();
        QTest::addColumn<QByteArray>("text");
        auto row = [](const char* name, const std::string& text) { QTest::newRow(name) << QByteArray(text.c_str()); };
        row("normalizer", "{\"model\": " + model + ", \"normalizer\": " + deep + "}");
        row("added_tokens", "{\"added_tokens\": " + deep + ", \"model\": " + model + "}");
        row("inside model", "{\"model\": {\"type\": \"BPE\", \"extra\": " + deep + ", \"vocab\": {}, \"merges\": []}}");
        row("inside vocab", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": " + deep + "}, \"merges\": []}}");
        row("inside merges", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": " + deep + "}}");
        json n = {{"type", "Prepend"}, {"prepend", "x"}};
        for (int i = 0; i < 300; ++i)
            n = {{"type", "Sequence"}, {"normalizers", json::array({n})}};
        json root = tinyRoot();
        root["normalizer"] = n;
        row("nested Sequences", root.dump());
    }
    void deepJson()
    {
        QFETCH(QByteArray, text);
        const std::string err = loadError(text.toStdString());
        // Refused by the one nesting bound of JSON from files (util/json_input.hpp) before the reader sees it.
        QVERIFY2(err.find("nesting deeper than 512 levels") != std::string::npos, err.c_str());
        QVERIFY2(err.find("hostile.json") != std::string::npos, err.c_str());
    }

    // \C matches one byte and could split "ö" of "aöb": refused, naming the field.
    void backslashCRefused()
    {
        json root = tinyRoot();
        root["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\C"}}}, {"behavior", "Isolated"},
                                 {"invert", false}};
        const std::string err = loadError(root.dump());
        QVERIFY2(err.find("pre_tokenizer.pattern") != std::string::npos, err.c_str());
        QVERIFY2(err.find("\\C") != std::string::npos, err.c_str());
        // The same split by characters keeps "ö".
        root["pre_tokenizer"]["pattern"] = {{"Regex", "."}};
        const Encoding enc = Tokenizer::fromJson(root.dump()).encode("a\xC3\xB6" "b");
        const std::vector<std::int32_t> expected{0, 3, 1};
        QCOMPARE(enc.ids, expected);
    }

    // Post-processor ids must name a token: no -5, no id past the vocabulary, no 2^40 wrapping to 0.
    void postProcessorIdsChecked_data()
    {
        QTest::addColumn<QString>("id");
        QTest::addColumn<bool>("bert");
        for (const char* id : {"-5", "1000000000", "1099511627776", "18446744073709551615"}) {
            QTest::newRow((std::string("template ") + id).c_str()) << id << false;
            QTest::newRow((std::string("bert ") + id).c_str()) << id << true;
        }
    }
    void postProcessorIdsChecked()
    {
        QFETCH(QString, id);
        QFETCH(bool, bert);
        json root = tinyRoot();
        const json bad = json::parse(id.toStdString());
        if (bert) {
            root["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"b", 1}}, {"cls", {"a", bad}}};
        } else {
            root["post_processor"] = {
                {"type", "TemplateProcessing"},
                {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", json::array({0, bad})}, {"tokens", {"a", "b"}}}}}}};
        }
        const std::string err = loadError(root.dump());
        QVERIFY2(err.find("token id " + id.toStdString() + " is not in the vocabulary") != std::string::npos, err.c_str());
        QVERIFY2(err.find(bert ? "post_processor.cls[1]" : "post_processor.special_tokens.<s>.ids[1]") !=
                     std::string::npos,
                 err.c_str());
        // A valid id still works.
        if (bert)
            root["post_processor"]["cls"] = {"a", 0};
        else
            root["post_processor"]["special_tokens"]["<s>"]["ids"] = {0, 2};
        const Encoding enc = Tokenizer::fromJson(root.dump()).encode("b", true);
        const std::vector<std::int32_t> expected = bert ? std::vector<std::int32_t>{0, 1, 1} : std::vector<std::int32_t>{0, 2, 1};
        QCOMPARE(enc.ids, expected);
    }

    // An empty Replace pattern matches between all characters (as the library's regex does):
    // the content goes before, between and after them. Ids and spans are those of the
    // `tokenizers` npm package 0.23.2 for this file.
    void emptyPatternReplace()
    {
        json root = tinyRoot();
        root["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", ""}}}, {"content", "x"}};
        const Encoding enc = Tokenizer::fromJson(root.dump()).encode("ab");
        const std::vector<std::int32_t> expected{2, 0, 2, 1, 2};
        QCOMPARE(enc.ids, expected);
        const std::vector<TokenSpan> spans{{0, 0}, {0, 1}, {0, 1}, {1, 2}, {1, 2}};
        QCOMPARE(enc.spans, spans);
    }
};

QTEST_APPLESS_MAIN(TestTokenizerHostile)
#include "test_tokenizer_hostile.moc"
