#include "util/error.hpp"
#include "util/sha256.hpp"
#include "util/utf8.hpp"

#include <QtTest>

using namespace blocklens;

class TestUtf8 : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void findInvalid_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<qlonglong>("offset"); // -1: valid
        QTest::newRow("ascii") << QByteArray("hello world, long enough for the 8-byte path") << -1LL;
        QTest::newRow("mixed valid") << QByteArray("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80") << -1LL;
        QTest::newRow("lone continuation") << QByteArray("abc\x80") << 3LL;
        QTest::newRow("0xFF after 8 ascii") << QByteArray("abcdefghij\xFFk") << 10LL;
        QTest::newRow("truncated 3-byte") << QByteArray("x\xE2\x82") << 1LL;
        QTest::newRow("overlong slash") << QByteArray("\xC0\xAF") << 0LL;
        QTest::newRow("overlong 3-byte") << QByteArray("\xE0\x80\x80") << 0LL;
        QTest::newRow("surrogate") << QByteArray("ok\xED\xA0\x80") << 2LL;
        QTest::newRow("above U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << 0LL;
        QTest::newRow("empty") << QByteArray("") << -1LL;
    }
    void findInvalid()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(qlonglong, offset);
        const auto got = utf8::findInvalid(std::string_view(bytes.constData(), bytes.size()));
        QCOMPARE(got == std::string_view::npos ? -1LL : static_cast<qlonglong>(got), offset);
    }

    // Expected strings computed with Python: bytes.decode("utf-8", "replace").
    void replaceMatchesPython_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("ff") << QByteArray("a\xFF" "b") << QString::fromUtf8("a\uFFFDb");
        QTest::newRow("truncated") << QByteArray("\xE2\x82") << QString::fromUtf8("\uFFFD");
        QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80x") << QString::fromUtf8("\uFFFD\uFFFD\uFFFDx");
        QTest::newRow("overlong") << QByteArray("\xC0\xAFz") << QString::fromUtf8("\uFFFD\uFFFDz");
        QTest::newRow("truncated emoji") << QByteArray("ok\xF0\x9F\x98") << QString::fromUtf8("ok\uFFFD");
        QTest::newRow("too large") << QByteArray("\xF4\x90\x80\x80") << QString::fromUtf8("\uFFFD\uFFFD\uFFFD\uFFFD");
    }
    void replaceMatchesPython()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        const auto r = utf8::replaceInvalid(std::string_view(bytes.constData(), bytes.size()));
        QCOMPARE(QString::fromStdString(r.text), expected);
        QVERIFY(!r.invalidOffsets.empty());
        QCOMPARE(utf8::findInvalid(r.text), std::string_view::npos);
    }

    void codePointIndexRoundTrips()
    {
        // Long enough to cross several checkpoints, with 1- to 4-byte sequences.
        std::string text;
        for (int i = 0; i < 500; ++i)
            text += (i % 4 == 0) ? "a" : (i % 4 == 1) ? "\xC3\xA9" : (i % 4 == 2) ? "\xE4\xB8\xAD" : "\xF0\x9F\x98\x80";
        const utf8::CodePointIndex index(text);
        QCOMPARE(index.size(), std::size_t(500));
        QVERIFY(!index.isAscii());
        std::size_t byte = 0;
        for (std::size_t cp = 0; cp <= 500; ++cp) {
            QCOMPARE(index.byteOffset(text, cp), byte);
            QCOMPARE(index.codePointOffset(text, byte), cp);
            if (cp < 500)
                byte += utf8::sequenceLength(static_cast<unsigned char>(text[byte]));
        }
        QVERIFY_THROWS_EXCEPTION(Error, index.byteOffset(text, 501));
    }

    void utf32RoundTrip()
    {
        const std::string s = "Z\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";
        const auto u = utf8::toUtf32(s);
        QCOMPARE(u.size(), std::size_t(4));
        QCOMPARE(static_cast<quint32>(u[3]), 0x1F600u);
        QCOMPARE(utf8::fromUtf32(u), s);
    }

    void sha256KnownVectors()
    {
        QCOMPARE(QString::fromStdString(Sha256::hex("")),
                 QStringLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(QString::fromStdString(Sha256::hex("abc")),
                 QStringLiteral("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        const std::string million(1000000, 'a');
        QCOMPARE(QString::fromStdString(Sha256::hex(million)),
                 QStringLiteral("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    }
};

QTEST_APPLESS_MAIN(TestUtf8)
#include "test_utf8.moc"
