// Line-level metrics: hand-checked cases, and agreement with NLTK on every dev-set document.
#include "document/dataset.hpp"
#include "segment/metrics.hpp"
#include "support/temp_files.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>

using namespace blocklens;
using namespace blocklens::segment;

namespace {

// Line indices of the '1's in an NLTK boundary string.
std::vector<std::size_t> ones(const std::string& s)
{
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i] == '1')
            out.push_back(i);
    return out;
}

std::string repeat(const std::string& s, int n)
{
    std::string out;
    for (int i = 0; i < n; ++i)
        out += s;
    return out;
}

std::filesystem::path devSet() { return test::sourceDir() / ".." / "shared" / "data" / "segdev.jsonl"; }

} // namespace

Q_DECLARE_METATYPE(std::vector<std::size_t>)

class TestMetrics : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void windowSizeRoundsHalfToEven_data()
    {
        QTest::addColumn<int>("lines");
        QTest::addColumn<int>("boundaries");
        QTest::addColumn<int>("k");
        QTest::newRow("2.5 -> 2") << 10 << 1 << 2;
        QTest::newRow("7.5 -> 8") << 30 << 1 << 8;
        QTest::newRow("6.5 -> 6") << 26 << 1 << 6;
        QTest::newRow("5.5 -> 6") << 22 << 1 << 6;
        QTest::newRow("12.5 -> 12") << 100 << 3 << 12;
        QTest::newRow("13.5 -> 14") << 108 << 3 << 14;
        QTest::newRow("at least 2") << 3 << 0 << 2;
        QTest::newRow("no boundaries: half the text") << 41 << 0 << 20;
        QTest::newRow("inexact division") << 1311 << 75 << 9;
    }
    void windowSizeRoundsHalfToEven()
    {
        QFETCH(int, lines);
        QFETCH(int, boundaries);
        QFETCH(int, k);
        QCOMPARE(static_cast<int>(windowSize(lines, boundaries)), k);
    }

    void nltkDocExamples()
    {
        // nltk.metrics.segmentation's own doctests.
        const std::string s1 = "000100000010", s2 = "000010000100", s3 = "100000010000";
        QCOMPARE(windowDiff(ones(s1), ones(s1), 12, 3), 0.0);
        QCOMPARE(QString::number(windowDiff(ones(s1), ones(s2), 12, 3), 'f', 2), QString("0.30"));
        QCOMPARE(QString::number(windowDiff(ones(s2), ones(s3), 12, 3), 'f', 2), QString("0.80"));
        const std::string ref = repeat("0100", 100);
        QCOMPARE(QString::number(pk(ones(ref), ones(repeat("1", 400)), 400, 2), 'f', 2), QString("0.50"));
        QCOMPARE(QString::number(pk(ones(ref), ones(repeat("0", 400)), 400, 2), 'f', 2), QString("0.50"));
        QCOMPARE(pk(ones(ref), ones(ref), 400, 2), 0.0);
    }

    void handCheckedWindows()
    {
        // 10 lines, reference boundary on line 5, k = 2: windows [i, i+2) for i = 0..8.
        const std::vector<std::size_t> ref{5};
        // Off by one (line 6): windows 4 ([4,5]) and 6 ([6,7]) disagree -> 2 / 9.
        QCOMPARE(pk(ref, std::vector<std::size_t>{6}, 10, 2), 2.0 / 9.0);
        QCOMPARE(windowDiff(ref, std::vector<std::size_t>{6}, 10, 2), 2.0 / 9.0);
        // Two boundaries on lines 5 and 6: Pk sees "some boundary" in both, WindowDiff counts.
        QCOMPARE(pk(ref, std::vector<std::size_t>{5, 6}, 10, 2), 1.0 / 9.0);
        QCOMPARE(windowDiff(ref, std::vector<std::size_t>{5, 6}, 10, 2), 2.0 / 9.0);
        // Nothing predicted: the two windows holding line 5 disagree.
        QCOMPARE(pk(ref, {}, 10, 2), 2.0 / 9.0);
        // No window fits: NaN, where NLTK would raise.
        QVERIFY(std::isnan(pk(ref, ref, 1, 2)));
    }

    void boundaryLinesFollowTheReadme()
    {
        // "ab\ncd\n\nef": lines start at 0, 3, 6, 7.
        const std::vector<std::size_t> starts{0, 3, 6, 7};
        // offset 2 is the '\n' after "ab": the boundary opens line 1. offset 4 is inside "cd".
        QCOMPARE(boundaryLines(starts, std::vector<std::size_t>{2}), (std::vector<std::size_t>{1}));
        QCOMPARE(boundaryLines(starts, std::vector<std::size_t>{4}), (std::vector<std::size_t>{1}));
        // offset 5 is the '\n' ending "cd": line 2 (the empty one); offset 6 is its '\n': line 3.
        QCOMPARE(boundaryLines(starts, std::vector<std::size_t>{5, 6}), (std::vector<std::size_t>{2, 3}));
        // Line 0 never carries a boundary; duplicates collapse.
        QCOMPARE(boundaryLines(starts, std::vector<std::size_t>{0, 1, 3, 4}), (std::vector<std::size_t>{1}));
    }

    void boundaryMatching()
    {
        const std::vector<std::size_t> ref{5, 10, 20};
        const std::vector<std::size_t> hyp{6, 10, 25};
        const auto t0 = matchBoundaries(ref, hyp, 0), t1 = matchBoundaries(ref, hyp, 1);
        QCOMPARE(t0.matched, std::size_t(1));
        QCOMPARE(t1.matched, std::size_t(2));
        QCOMPARE(t1.precision(), 2.0 / 3.0);
        QCOMPARE(t1.recall(), 2.0 / 3.0);
        QCOMPARE(t1.f1(), 2.0 / 3.0);
        // One-to-one: two hypotheses next to one reference match it once.
        QCOMPARE(matchBoundaries(std::vector<std::size_t>{5}, std::vector<std::size_t>{4, 6}, 1).matched, std::size_t(1));
        // Greedy in order is optimal: 4 -> 5 and 6 -> 7 (not 6 -> 5).
        QCOMPARE(matchBoundaries(std::vector<std::size_t>{5, 7}, std::vector<std::size_t>{4, 6}, 1).matched, std::size_t(2));
        QCOMPARE(matchBoundaries({}, {}, 1).f1(), 0.0);
    }

    void agreesWithNltkOnEveryDevDocument()
    {
        const auto path = test::fixturesDir() / "segment" / "nltk_pk_windowdiff.json";
        std::ifstream in(path);
        QVERIFY2(in.good(), path.string().c_str());
        const auto fixture = nlohmann::json::parse(in);
        struct Doc {
            std::size_t lines, k;
            std::vector<std::size_t> reference;
        };
        std::map<std::string, Doc> docs;
        for (const auto& d : fixture["documents"]) {
            Doc doc{d["lines"].get<std::size_t>(), d["k"].get<std::size_t>(), d["reference"].get<std::vector<std::size_t>>()};
            // k exactly as Python computed it (banker's rounding).
            QCOMPARE(windowSize(doc.lines, doc.reference.size()), doc.k);
            docs[d["id"].get<std::string>()] = std::move(doc);
        }
        QCOMPARE(docs.size(), std::size_t(280));
        std::size_t checked = 0;
        for (const auto& c : fixture["cases"]) {
            const Doc& d = docs.at(c["id"].get<std::string>());
            const auto hyp = c["hypothesis"].get<std::vector<std::size_t>>();
            const double p = pk(d.reference, hyp, d.lines, d.k), w = windowDiff(d.reference, hyp, d.lines, d.k);
            const std::string what = c["segmenter"].get<std::string>() + " on " + c["id"].get<std::string>();
            QVERIFY2(std::abs(p - c["pk"].get<double>()) <= 1e-9, what.c_str());
            QVERIFY2(std::abs(w - c["windowdiff"].get<double>()) <= 1e-9, what.c_str());
            ++checked;
        }
        QCOMPARE(checked, std::size_t(560));

        // The line mapping of the reference itself, against Python's, where the dev set is at hand.
        if (!std::filesystem::exists(devSet()))
            QSKIP("shared/data/segdev.jsonl is not beside the checkout; the line mapping check needs it");
        const auto level = fixture["level"].get<int>();
        const Dataset ds = loadDataset(devSet());
        for (const auto& doc : ds.documents) {
            const Doc& d = docs.at(doc.meta().id);
            const auto starts = doc.lineStarts();
            QCOMPARE(starts.size(), d.lines);
            std::vector<std::size_t> offsets;
            for (const auto& b : doc.reference())
                if (b.level <= level)
                    offsets.push_back(b.offset);
            QCOMPARE(boundaryLines(starts, offsets), d.reference);
        }
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "test_metrics.moc"
