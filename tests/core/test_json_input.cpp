// JSON from files (issue 16): nesting is bounded before anything walks the value, and every error
// is one line naming the file and the rule. 100,000 nested arrays crashed readers (stack overflow
// in dump(), copies and recursive walks) before the bound.
#include "document/dataset.hpp"
#include "support/temp_files.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"
#include "util/json_input.hpp"
#include "support/error_of.hpp"

#include <QtTest>

using namespace blocklens;
using blocklens::test::errorOf;

namespace {

std::string nested(std::size_t depth, const std::string& inner = "1")
{
    return std::string(depth, '[') + inner + std::string(depth, ']');
}

} // namespace

class TestJsonInput : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void findsTheFirstBracketTooDeep()
    {
        QVERIFY(!findExcessiveJsonNesting(nested(kMaxJsonNesting)));
        QCOMPARE(findExcessiveJsonNesting(nested(kMaxJsonNesting + 1)).value_or(0), kMaxJsonNesting);
        // Objects count as levels too, and so do arrays inside them.
        QCOMPARE(findExcessiveJsonNesting("{\"a\": {\"b\": [1]}}", 2).value_or(0), std::size_t(12));
        QVERIFY(!findExcessiveJsonNesting("{\"a\": {\"b\": 1}, \"c\": [2]}", 2));
        // Brackets inside strings, escaped quotes included, are text.
        QVERIFY(!findExcessiveJsonNesting("[\"[[[[\", \"\\\"[[[[\\\\\", \"]\"]", 1));
        QCOMPARE(findExcessiveJsonNesting("[\"\\\\\", [2]]", 1).value_or(0), std::size_t(7)); // the quote after an escaped backslash ends the string
    }

    void deepValueIsAnErrorNotACrash()
    {
        const std::string deep = "{\"a\": " + nested(100000) + "}";
        const auto e = errorOf([&] { (void)parseJsonInput(deep, {.file = "x.json"}); });
        QVERIFY2(e == "x.json: byte 517: not valid JSON: nesting deeper than 512 levels of arrays and objects", e.c_str());
        // Within the bound the value parses and can be walked and printed.
        const auto j = parseJsonInput("{\"a\": " + nested(500) + "}", {.file = "x.json"});
        QCOMPARE(j.dump().size(), std::size_t(1007));
    }

    void syntaxAndRangeErrorsNameFileAndPlace()
    {
        auto e = errorOf([] { (void)parseJsonInput("{\"a\": [1,", {.file = "h.json"}, "header is not valid JSON", 8); });
        QVERIFY2(e.starts_with("h.json: byte 17: header is not valid JSON: parse error at line 1, column 10"), e.c_str());
        QVERIFY2(e.find("[json.exception") == std::string::npos, e.c_str());
        // A number too large for a double: nlohmann throws out_of_range, not parse_error.
        e = errorOf([] { (void)parseJsonInput("{\"x\": 1e999}", {.file = "n.json"}); });
        QVERIFY2(e.starts_with("n.json: not valid JSON: number overflow parsing '1e999'"), e.c_str());
    }

    void datasetRecordNestedTooDeep()
    {
        const std::string line = "{\"text\": \"abc\", \"id\": " + nested(100000) + "}";
        auto e = errorOf([&] { (void)parseDatasetRecord(line, 3, "d.jsonl"); });
        QVERIFY2(e == "d.jsonl:3: not valid JSON: nesting deeper than 512 levels of arrays and objects", e.c_str());
        // The same through the file reader, and 1e999 now names the file and the line.
        QTemporaryDir dir;
        const auto path = test::writeFile(dir, "d.jsonl", "{\"text\": \"ok\"}\n" + line + "\n");
        e = errorOf([&] { (void)loadDataset(path); });
        QVERIFY2(e.find("d.jsonl:2: not valid JSON: nesting deeper than 512 levels") != std::string::npos, e.c_str());
        const auto big = test::writeFile(dir, "n.jsonl", "{\"text\": \"ok\", \"id\": 1e999}\n");
        e = errorOf([&] { (void)loadDataset(big); });
        // The dataset reader names the field too (core/document/dataset.cpp).
        QVERIFY2(e.find("n.jsonl:1: ") != std::string::npos && e.find("number overflow") != std::string::npos, e.c_str());
    }

    void tokenizerJsonNestedTooDeep()
    {
        // The tokenizer loader walks nested Sequence components recursively: bounded the same way.
        const std::string text = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"normalizer\": " +
                                 nested(100000) + "}";
        const auto e = errorOf([&] { (void)Tokenizer::fromJson(text, "t.json"); });
        QVERIFY2(e.starts_with("t.json: byte ") && e.find("nesting deeper than 512 levels") != std::string::npos, e.c_str());
    }
};

QTEST_GUILESS_MAIN(TestJsonInput)
#include "test_json_input.moc"
