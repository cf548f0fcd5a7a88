// TokenGrid: the approximate unit, grids from encodings, cut points and snapping.
#include "segment/token_grid.hpp"
#include "util/error.hpp"

#include <QtTest>

using namespace blocklens;
using namespace blocklens::segment;

namespace {

std::vector<TokenSpan> spansOf(const TokenGrid& g)
{
    std::vector<TokenSpan> out;
    for (std::size_t i = 0; i < g.size(); ++i)
        out.push_back(g.span(i));
    return out;
}

} // namespace

Q_DECLARE_METATYPE(std::vector<std::size_t>)

class TestTokenGrid : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void approximateCountsWordsAndPunctuation_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<int>("tokens");
        QTest::newRow("empty") << QByteArray("") << 0;
        QTest::newRow("spaces only") << QByteArray(" \n\t ") << 0;
        QTest::newRow("words") << QByteArray("hello big world") << 3;
        QTest::newRow("punctuation") << QByteArray("a, b.") << 4;
        QTest::newRow("digits and underscore join") << QByteArray("x_1 42") << 2;
        QTest::newRow("non-ASCII letters") << QByteArray("w\xC3\xB6rld \xC3\xA9t\xC3\xA9") << 2;
        QTest::newRow("no-break space separates") << QByteArray("a\xC2\xA0" "b") << 2;
        QTest::newRow("em dash is punctuation") << QByteArray("a\xE2\x80\x94" "b") << 3;
    }
    void approximateCountsWordsAndPunctuation()
    {
        QFETCH(QByteArray, text);
        QFETCH(int, tokens);
        const auto g = TokenGrid::approximate(std::string_view(text.constData(), text.size()));
        QCOMPARE(static_cast<int>(g.size()), tokens);
        QCOMPARE(g.unit(), std::string(kApproxTokenUnit));
    }

    void approximateSpansAreCodePoints()
    {
        // "wörld, ok": wörld [0,5) , [5,6) ok [7,9)
        const auto g = TokenGrid::approximate(std::string_view("w\xC3\xB6rld, ok"));
        QCOMPARE(g.textLength(), std::size_t(9));
        const std::vector<TokenSpan> expected{{0, 5}, {5, 6}, {7, 9}};
        QVERIFY(spansOf(g) == expected);
        QCOMPARE(g.tokensBefore(0), std::size_t(0));
        QCOMPARE(g.tokensBefore(5), std::size_t(1));
        QCOMPARE(g.tokensBefore(7), std::size_t(2));
        QCOMPARE(g.count(5, 9), std::size_t(2));
        QCOMPARE(g.tokenBegin(2), std::size_t(7));
        QCOMPARE(g.tokenBegin(3), std::size_t(9)); // past the last token: the text end
    }

    void cutPointsAndSnapping_data()
    {
        QTest::addColumn<int>("offset");
        QTest::addColumn<bool>("isCut");
        QTest::addColumn<int>("snapped");
        // "alpha beta" -> alpha [0,5) beta [6,10)
        QTest::newRow("start") << 0 << true << 0;
        QTest::newRow("inside first word") << 3 << false << 0;
        QTest::newRow("word end") << 5 << true << 5;
        QTest::newRow("after the space") << 6 << true << 6;
        QTest::newRow("inside second word") << 8 << false << 6;
        QTest::newRow("text end") << 10 << true << 10;
    }
    void cutPointsAndSnapping()
    {
        QFETCH(int, offset);
        QFETCH(bool, isCut);
        QFETCH(int, snapped);
        const auto g = TokenGrid::approximate(std::string_view("alpha beta"));
        QCOMPARE(g.isCutPoint(offset), isCut);
        QCOMPARE(static_cast<int>(g.snap(offset)), snapped);
    }

    void fromEncodingSkipsEmptySpansAndHandlesOverlaps()
    {
        // A template BOS token {0,0}; "ab" one token; a character split into two byte-fallback
        // tokens with the same span; a token covering "\n\n" whose inside is no cut point.
        Encoding enc;
        enc.ids = {1, 10, 11, 12, 13, 14};
        enc.spans = {{0, 0}, {0, 2}, {2, 3}, {2, 3}, {3, 5}, {5, 8}};
        const auto g = TokenGrid::fromEncoding(enc, 8, "tokens (test)");
        QCOMPARE(g.unit(), std::string("tokens (test)"));
        QCOMPARE(g.size(), std::size_t(5));
        QVERIFY(g.isCutPoint(2));
        QVERIFY(g.isCutPoint(3));
        QVERIFY(!g.isCutPoint(4));
        QCOMPARE(g.snap(4), std::size_t(3));
        QCOMPARE(g.snap(7), std::size_t(5));
        QCOMPARE(g.count(2, 3), std::size_t(2)); // both byte tokens belong to the same block
        QCOMPARE(g.count(0, 8), std::size_t(5));
    }

    void overlappingSpansSnapBeforeTheWholeCluster()
    {
        Encoding enc;
        enc.ids = {1, 2, 3};
        enc.spans = {{0, 4}, {2, 6}, {6, 7}}; // [0,4) and [2,6) overlap: nothing between 0 and 6 is a cut
        const auto g = TokenGrid::fromEncoding(enc, 7, "t");
        for (std::size_t o = 1; o < 6; ++o) {
            QVERIFY(!g.isCutPoint(o));
            QCOMPARE(g.snap(o), std::size_t(0));
        }
        QVERIFY(g.isCutPoint(6));
    }

    void fromEncodingRejectsSpansOutsideTheText()
    {
        Encoding enc;
        enc.ids = {1};
        enc.spans = {{0, 9}};
        QVERIFY_THROWS_EXCEPTION(Error, TokenGrid::fromEncoding(enc, 4, "t"));
        enc.spans.clear();
        QVERIFY_THROWS_EXCEPTION(Error, TokenGrid::fromEncoding(enc, 4, "t")); // ids without spans
    }
};

QTEST_GUILESS_MAIN(TestTokenGrid)
#include "test_token_grid.moc"
