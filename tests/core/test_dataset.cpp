#include "document/dataset.hpp"
#include "support/temp_files.hpp"
#include "util/error.hpp"
#include "support/error_of.hpp"

#include <QtTest>

#include <fstream>
#include <sstream>

using namespace blocklens;
using blocklens::test::errorOf;
using blocklens::test::writeFile;

namespace {

} // namespace

class TestDataset : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parsesRecordForm()
    {
        const auto doc = parseDatasetRecord(
            "{\"id\": \"abc\", \"category\": \"book\", \"variant\": \"plain\", \"lang\": \"fr\", \"source\": \"x.html\","
            " \"text\": \"Été\\nsecond\\nthird\", \"boundaries\": [{\"offset\": 4, \"level\": 1}, {\"offset\": 11, \"level\": 2}]}",
            1, "d.jsonl");
        QCOMPARE(doc.meta().id, std::string("abc"));
        QCOMPARE(doc.meta().category, std::string("book"));
        QCOMPARE(doc.meta().variant, std::string("plain"));
        QCOMPARE(doc.meta().lang, std::string("fr"));
        QCOMPARE(doc.length(), std::size_t(16));
        QCOMPARE(doc.reference(), (std::vector<Boundary>{{4, 1}, {11, 2}}));
    }

    void parsesChunksForm()
    {
        const auto doc = parseDatasetRecord("{\"chunks\": [\"ab\\n\", \"\", \"çd\\n\", \"e\"]}", 3, "c.jsonl");
        QCOMPARE(doc.text(), std::string("ab\n\xC3\xA7" "d\ne"));
        QCOMPARE(doc.reference(), (std::vector<Boundary>{{3, 1}, {6, 1}})); // empty chunk adds none
        QCOMPARE(doc.meta().id.size(), std::size_t(12));
    }

    void malformedLinesNameTheLine_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("needle");
        const QByteArray good = "{\"text\": \"fine\", \"boundaries\": []}";
        QTest::newRow("truncated json") << good + "\n" + good + "\n" + "{\"text\": \"cut off" << "d.jsonl:3: not valid JSON";
        QTest::newRow("not an object") << good + "\n[1, 2]\n" << "d.jsonl:2: each line must be a JSON object";
        QTest::newRow("no text") << QByteArray("{\"id\": \"x\"}") << "d.jsonl:1: record has neither";
        QTest::newRow("text not string") << QByteArray("{\"text\": 5}") << "d.jsonl:1: \"text\" must be a string";
        QTest::newRow("offset 0") << good + "\n\n" + "{\"text\": \"abc\", \"boundaries\": [{\"offset\": 0, \"level\": 1}]}"
                                  << "d.jsonl:3: boundary 0 (offset 0)";
        QTest::newRow("offset past end") << QByteArray("{\"text\": \"abc\", \"boundaries\": [9]}") << "d.jsonl:1: boundary 0 (offset 9)";
        QTest::newRow("descending") << QByteArray("{\"text\": \"abcdef\", \"boundaries\": [4, 2]}") << "strictly ascending";
        QTest::newRow("bad offset type") << QByteArray("{\"text\": \"abc\", \"boundaries\": [{\"offset\": \"1\"}]}")
                                         << "d.jsonl:1: boundaries[0]: offset must be a non-negative integer";
        QTest::newRow("invalid utf8") << good + "\n" + "{\"text\": \"caf\xC3\"}" << "d.jsonl:2: byte";
        QTest::newRow("empty file") << QByteArray() << "empty";
        QTest::newRow("only blank lines") << QByteArray("\n  \n\n") << "no records";
    }
    void malformedLinesNameTheLine()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, needle);
        QTemporaryDir dir;
        const auto path = writeFile(dir, "d.jsonl", std::string_view(content.constData(), content.size()));
        const std::string what = errorOf([&] { loadDataset(path); });
        QVERIFY2(!what.empty(), "expected an error");
        QVERIFY2(what.find(needle.toStdString()) != std::string::npos, what.c_str());
    }

    void roundTripIsByteIdentical()
    {
        QTemporaryDir dir;
        std::ostringstream lines;
        lines << "{\"id\": \"a1\", \"category\": \"code\", \"variant\": \"structured\", \"lang\": \"en\", \"source\": \"m.py\", \"text\": \"def f():\\n\\tpass\\r\\n\\nclass C: ...\\n\", \"boundaries\": [{\"offset\": 16, \"level\": 1}]}" << "\n"
              << "{\"id\": \"b2\", \"text\": \"x\\u00e9\\ud83d\\ude00 y\\n\\nz\", \"boundaries\": [{\"offset\": 5, \"level\": 2}]}" << "\n";
        const auto ds = loadDataset(writeFile(dir, "in.jsonl", lines.str()));
        QCOMPARE(ds.documents.size(), std::size_t(2));
        std::string written;
        for (const auto& d : ds.documents)
            written += formatDatasetRecord(d, d.reference()) + "\n";
        const auto again = loadDataset(writeFile(dir, "out.jsonl", written));
        for (std::size_t i = 0; i < 2; ++i) {
            QCOMPARE(again.documents[i].text(), ds.documents[i].text());
            QCOMPARE(again.documents[i].reference(), ds.documents[i].reference());
            QCOMPARE(again.documents[i].meta().id, ds.documents[i].meta().id);
            QCOMPARE(again.documents[i].contentHash(), ds.documents[i].contentHash());
        }
        // The chunks form carries the same text and the boundaries as level-1 joins.
        const auto chunks = formatDatasetRecord(ds.documents[1], ds.documents[1].reference(), RecordForm::Chunks);
        const auto back = parseDatasetRecord(chunks, 1, "chunks");
        QCOMPARE(back.text(), ds.documents[1].text());
        QCOMPARE(back.reference(), (std::vector<Boundary>{{5, 1}}));
    }

    void loadsSharedDevSet()
    {
        const auto path = test::sourceDir() / ".." / "shared" / "data" / "segdev.jsonl";
        if (!std::filesystem::exists(path))
            QSKIP("shared/data/segdev.jsonl is not beside this checkout");
        const auto ds = loadDataset(path);
        QCOMPARE(ds.documents.size(), std::size_t(280));
        for (const auto& d : ds.documents) {
            QVERIFY(!d.reference().empty());
            QVERIFY(d.meta().variant == "structured" || d.meta().variant == "plain");
        }
    }
};

QTEST_APPLESS_MAIN(TestDataset)
#include "test_dataset.moc"
