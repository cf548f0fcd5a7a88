#include "document/document.hpp"
#include "document/stats.hpp"
#include "support/temp_files.hpp"
#include "util/error.hpp"

#include <QtTest>

using namespace blocklens;
using blocklens::test::writeFile;

class TestDocument : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void offsetsAreCodePoints()
    {
        const Document doc("h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x91\x8B!");
        QCOMPARE(doc.length(), std::size_t(11));
        QCOMPARE(std::string(doc.slice(6, 8)), std::string("\xE4\xB8\x96\xE7\x95\x8C"));
        QCOMPARE(std::string(doc.slice(9, 11)), std::string("\xF0\x9F\x91\x8B!"));
        QCOMPARE(doc.byteOffset(2), std::size_t(3));
        QCOMPARE(doc.codePointOffset(3), std::size_t(2));
    }

    void hashIsStableAndContentBased()
    {
        const Document a("same text"), b("same text", DocumentMeta{.source = "elsewhere.txt"}), c("other text");
        QCOMPARE(a.contentHash(), b.contentHash());
        QVERIFY(a.contentHash() != c.contentHash());
        // SHA-256 of "same text", so the hash never changes between versions.
        QCOMPARE(QString::fromStdString(a.contentHash()), QStringLiteral("2e68a7bba11b90d1bae1daea2dd4951779cf45d5897c62539d01f44054bcb1e0"));
        QCOMPARE(a.meta().id, a.contentHash().substr(0, 12));
    }

    void lineStartsFollowPythonSplit()
    {
        QCOMPARE(Document("a\nb\n").lineStarts(), (std::vector<std::size_t>{0, 2, 4}));
        QCOMPARE(Document("\xC3\xA9\n\nx").lineStarts(), (std::vector<std::size_t>{0, 2, 3}));
        QCOMPARE(Document("").lineStarts(), (std::vector<std::size_t>{0}));
    }

    void referenceBoundariesAreValidated()
    {
        Document doc("0123456789");
        doc.setReference({{3, 1}, {7, 2}});
        QCOMPARE(doc.reference().size(), std::size_t(2));
        QVERIFY_THROWS_EXCEPTION(Error, doc.setReference({{0, 1}}));
        QVERIFY_THROWS_EXCEPTION(Error, doc.setReference({{10, 1}}));
        QVERIFY_THROWS_EXCEPTION(Error, doc.setReference({{5, 1}, {5, 1}}));
        QVERIFY_THROWS_EXCEPTION(Error, doc.setReference({{5, 1}, {4, 1}}));
        QVERIFY_THROWS_EXCEPTION(Error, doc.setReference({{5, 0}}));
    }

    void loadsKindsFromExtension()
    {
        QTemporaryDir dir;
        const auto md = loadDocument(writeFile(dir, "notes.md", "# Title\n\ntext\n"));
        QVERIFY(md.meta().kind == DocumentKind::Markdown);
        const auto py = loadDocument(writeFile(dir, "mod.py", "def f():\n    pass\n"));
        QVERIFY(py.meta().kind == DocumentKind::SourceCode);
        QCOMPARE(py.meta().codeLanguage, std::string("python"));
        const auto txt = loadDocument(writeFile(dir, "a.txt", "\xEF\xBB\xBFplain"));
        QCOMPARE(txt.text(), std::string("plain")); // BOM dropped
        QVERIFY(txt.meta().kind == DocumentKind::PlainText);
    }

    void invalidUtf8NamesTheByteOffset()
    {
        QTemporaryDir dir;
        const auto path = writeFile(dir, "bad.txt", "good text\n\xC3\x28 more");
        try {
            loadDocument(path);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.context().byteOffset.value_or(-1), 10);
            QVERIFY(std::string(e.what()).find("invalid UTF-8") != std::string::npos);
            QVERIFY(std::string(e.what()).find("bad.txt") != std::string::npos);
        }
        LoadReport report;
        const auto doc = loadDocument(path, {.replaceInvalidUtf8 = true}, &report);
        QCOMPARE(report.replacedByteOffsets, (std::vector<std::size_t>{10}));
        QCOMPARE(doc.text(), std::string("good text\n\xEF\xBF\xBD( more"));
    }

    void refusesEmptyBinaryMissingAndHugeFiles()
    {
        QTemporaryDir dir;
        auto expectError = [](auto&& f, const char* needle) {
            try {
                f();
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
                return;
            }
            QFAIL("expected an error");
        };
        const auto empty = writeFile(dir, "empty.txt", "");
        expectError([&] { loadDocument(empty); }, "empty");
        const auto binary = writeFile(dir, "image.png", std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16));
        expectError([&] { loadDocument(binary); }, "binary");
        expectError([&] { loadDocument(dir.path().toStdString() + "/missing.txt"); }, "no such file");
        expectError([&] { loadDocument(dir.path().toStdString()); }, "directory");
        const auto big = writeFile(dir, "big.txt", std::string(2000, 'x'));
        expectError([&] { loadDocument(big, {.maxBytes = 1000}); }, "limit");
    }

    void loads50MegabyteFile()
    {
        QTemporaryDir dir;
        std::string text;
        text.reserve(50u << 20);
        const std::string line = "The quick brown fox jumps over the lazy dog; \xC3\xA9t\xC3\xA9 \xE4\xB8\xAD.\n";
        while (text.size() + line.size() <= (50u << 20))
            text += line;
        const auto doc = loadDocument(writeFile(dir, "big.txt", text));
        QCOMPARE(doc.text().size(), text.size());
        QCOMPARE(doc.length(), (text.size() / line.size()) * utf8::countCodePoints(line));
    }

    void statsCountLinesParagraphsWords()
    {
        const auto s = computeStats(Document("Para one\nstill one.\n\n  \nPara two \xC3\xA9t\xC3\xA9\n"));
        QCOMPARE(s.lines, std::size_t(6));
        QCOMPARE(s.paragraphs, std::size_t(2));
        QCOMPARE(s.words, std::size_t(7));
        QCOMPARE(s.nonAscii, std::size_t(2));
    }
};

QTEST_APPLESS_MAIN(TestDocument)
#include "test_document.moc"
