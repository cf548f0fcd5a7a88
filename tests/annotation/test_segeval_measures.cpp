// Boundary edit distance, B, S and the chance-corrected coefficients against segeval's published
// values. Every expected number is taken from segeval 2.0's own tests (repository
// cfournie/segmentation.evaluation, files named at each case); the inputs are its sample data
// (segeval/data/samples.py: Kazantseva and Szpakowicz 2012, Hearst 1997, and Fournier's contrived
// sets), which are also the worked examples of Fournier (2013).
#include "analysis/agreement.hpp"
#include "analysis/boundary_similarity.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <initializer_list>
#include <map>

using namespace blocklens;
using namespace blocklens::analysis;

namespace {

using Masses = std::vector<std::size_t>;
using Coders = std::vector<std::pair<std::string, Masses>>;
using Items = std::vector<std::pair<std::string, Coders>>;

BoundaryString masses(std::initializer_list<std::size_t> m)
{
    const Masses v(m);
    return boundaryStringFromMasses(v);
}

// A boundary string from sets of types: {{}, {1}, {2, 3}} -> [0, bit 1, bits 2 and 3].
BoundaryString sets(std::initializer_list<std::initializer_list<int>> positions)
{
    BoundaryString s;
    for (const auto& p : positions) {
        TypeSet t = 0;
        for (int type : p)
            t |= static_cast<TypeSet>(TypeSet{1} << type);
        s.push_back(t);
    }
    return s;
}

std::vector<CodedItem> coded(const Items& items)
{
    std::vector<CodedItem> out;
    for (const auto& [id, coders] : items) {
        CodedItem item{id, {}};
        for (const auto& [coder, m] : coders)
            item.codings.emplace_back(coder, boundaryStringFromMasses(m));
        out.push_back(std::move(item));
    }
    return out;
}

// segeval/data/samples.py, KAZANTSEVA2012_G5: 4 coders, 4 chapters of The Moonstone.
const Items kKazantsevaG5 = {
    {"ch1", {{"an4", {2, 8, 2, 1}}, {"an1", {11, 2}}, {"an2", {2, 1, 7, 2, 1}}, {"an3", {9, 4}}}},
    {"ch11",
     {{"an4", {10, 4, 3, 2, 1, 8, 3, 2, 6, 1, 2, 8, 10, 9, 4, 10, 4, 8, 4, 3, 5, 4}},
      {"an1", {20, 22, 8, 11, 11, 11, 13, 11, 4}},
      {"an2", {1, 7, 2, 4, 3, 3, 10, 1, 1, 5, 3, 2, 8, 3, 3, 3, 14, 4, 1, 1, 4, 4, 2, 7, 3, 2, 3, 3, 2, 1, 1}},
      {"an3", {10, 10, 15, 11, 4, 10, 13, 5, 4, 23, 6}}}},
    {"ch4",
     {{"an4", {2, 9, 2, 5, 2, 19, 1, 6}},
      {"an1", {17, 25, 4}},
      {"an2", {1, 10, 2, 4, 1, 2, 3, 10, 6, 6, 1}},
      {"an3", {12, 5, 29}}}},
    {"ch3",
     {{"an4", {2, 3, 4, 2, 5, 17, 4, 1}},
      {"an1", {6, 5, 27}},
      {"an2", {3, 8, 2, 3, 17, 2, 2, 1}},
      {"an3", {3, 15, 15, 5}}}},
};

// segeval/data/samples.py, KAZANTSEVA2012_G2: 6 coders.
const Items kKazantsevaG2 = {
    {"ch8",
     {{"an5", {9, 7, 5, 12, 4, 2}},
      {"an6", {3, 5, 4, 3, 6, 7, 5, 4, 2}},
      {"an7", {2, 6, 2, 2, 2, 8, 8, 3, 4, 1, 1}},
      {"an10", {2, 6, 4, 3, 6, 7, 5, 4, 1, 1}},
      {"an8", {8, 4, 21, 4, 2}},
      {"an9", {3, 5, 4, 10, 9, 6, 2}}}},
    {"ch10",
     {{"an5", {24, 6, 45, 6, 2}},
      {"an6", {3, 3, 2, 3, 8, 1, 4, 6, 11, 22, 10, 6, 4}},
      {"an7", {3, 3, 2, 16, 6, 45, 4, 1, 1, 1, 1}},
      {"an10", {3, 5, 16, 5, 8, 2, 23, 13, 4, 4}},
      {"an8", {8, 16, 6, 32, 11, 6, 1, 3}},
      {"an9", {3, 3, 2, 11, 5, 6, 45, 4, 4}}}},
    {"ch2",
     {{"an5", {4, 7, 3, 1}},
      {"an6", {4, 7, 3, 1}},
      {"an7", {5, 6, 3, 1}},
      {"an10", {5, 5, 4, 1}},
      {"an8", {14, 1}},
      {"an9", {14, 1}}}},
    {"ch5",
     {{"an5", {9, 4, 5, 9, 8, 7}},
      {"an6", {2, 1, 6, 3, 2, 4, 17, 7}},
      {"an7", {19, 15, 8}},
      {"an10", {4, 10, 5, 1, 14, 4, 4}},
      {"an8", {9, 4, 6, 16, 3, 4}},
      {"an9", {13, 6, 15, 8}}}},
};

Items only(const Items& items, const std::string& id)
{
    for (const auto& item : items)
        if (item.first == id)
            return {item};
    return {};
}

Items completeAgreement() // samples.py COMPLETE_AGREEMENT
{
    const std::vector<Masses> rows = {{2, 8, 2, 1}, {20, 22, 8, 11, 11, 11, 13, 11, 4}, {2, 9, 2, 5, 2, 19, 1, 6}, {6, 5, 27}};
    Items out;
    for (std::size_t i = 0; i < rows.size(); ++i)
        out.push_back({"item" + std::to_string(i + 1), {{"an4", rows[i]}, {"an1", rows[i]}, {"an2", rows[i]}, {"an3", rows[i]}}});
    return out;
}

Items largeDisagreement() // samples.py LARGE_DISAGREEMENT
{
    Items out;
    for (std::size_t n : {12u, 20u, 5u, 42u})
        out.push_back({"item" + std::to_string(n), {{"an5", {n}}, {"an6", Masses(n, 1)}}});
    return out;
}

std::vector<CodedItem> multipleBoundaryTypes() // samples.py MULTIPLE_BOUNDARY_TYPES
{
    return {{"item1", {{"an5", sets({{1}, {}, {}, {}, {1}})}, {"an6", sets({{1}, {}, {}, {}, {2}})}}},
            {"item2", {{"an5", sets({{1}, {}, {}, {}, {1}})}, {"an6", sets({{}, {}, {}, {1}, {}})}}}};
}

} // namespace

Q_DECLARE_METATYPE(std::vector<CodedItem>)
Q_DECLARE_METATYPE(BoundaryString)

class TestSegevalMeasures : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // segeval/similarity/distance/multipleboundary_test.py, each test_edit_distance* case.
    void editDistance_data()
    {
        QTest::addColumn<BoundaryString>("a");
        QTest::addColumn<BoundaryString>("b");
        QTest::addColumn<int>("nT");
        QTest::addColumn<QString>("expected"); // additions | substitutions | transpositions
        QTest::newRow("identity") << sets({{}, {1}, {}, {}, {1}, {}, {}, {}, {}, {}})
                                  << sets({{}, {1}, {}, {}, {1}, {}, {}, {}, {}, {}}) << 2 << "||";
        QTest::newRow("compliment") << BoundaryString(10, 0) << BoundaryString(10, 2) << 2
                                    << "1b 1b 1b 1b 1b 1b 1b 1b 1b 1b||";
        QTest::newRow("mixed") << sets({{}, {1}, {}, {}, {1}, {}, {}, {}, {}, {}})
                               << sets({{}, {2, 3}, {}, {}, {}, {1}, {}, {}, {3}, {}}) << 2 << "3b 3b|1-2|4-5:1";
        QTest::newRow("two_transpositions") << sets({{}, {}, {}, {2}, {}, {}, {2}, {}, {}, {}})
                                            << sets({{}, {}, {}, {}, {}, {2}, {}, {}, {}, {}}) << 2 << "2a||5-6:2";
        QTest::newRow("no_two_transpositions") << sets({{}, {}, {2}, {}, {}, {2}, {2}, {}, {}, {}})
                                               << sets({{}, {}, {}, {}, {}, {2}, {2}, {}, {}, {}}) << 2 << "2a||";
        QTest::newRow("two_transpositions_equal") << sets({{}, {}, {}, {}, {2}, {}, {2}, {}, {}, {}})
                                                  << sets({{}, {}, {}, {}, {}, {2}, {}, {}, {}, {}}) << 2 << "2a||4-5:2";
        QTest::newRow("two_substitutions_into_two_transpositions")
            << sets({{}, {}, {}, {2}, {}, {1}, {}, {}, {}, {}}) << sets({{}, {}, {}, {1}, {}, {2}, {}, {}, {}, {}}) << 3
            << "|2-1 1-2|";
        QTest::newRow("two_substitutions_into_no_transpositions")
            << sets({{}, {}, {}, {2}, {}, {3}, {}, {}, {}, {}}) << sets({{}, {}, {}, {1}, {}, {2}, {}, {}, {}, {}}) << 3
            << "|2-1 3-2|";
        QTest::newRow("two_substitutions_one_ad_into_one_transpositions")
            << sets({{}, {}, {}, {2, 4}, {}, {3}, {}, {}, {}, {}}) << sets({{}, {}, {}, {1}, {}, {2}, {}, {}, {}, {}}) << 3
            << "4a|2-1 3-2|";
        QTest::newRow("two_substitutions_one_ad_into_no_transpositions")
            << sets({{}, {}, {}, {2}, {}, {3}, {}, {}, {}, {}}) << sets({{}, {}, {}, {1, 4}, {}, {2}, {}, {}, {}, {}}) << 3
            << "4b|2-1 3-2|";
        QTest::newRow("three_transpositions_overlapping")
            << sets({{}, {}, {}, {1, 2, 3}, {}, {}, {}, {}, {}, {}}) << sets({{}, {}, {}, {}, {3}, {1, 2}, {}, {}, {}, {}})
            << 3 << "||3-4:3 3-5:1 3-5:2";
    }
    void editDistance()
    {
        QFETCH(BoundaryString, a);
        QFETCH(BoundaryString, b);
        QFETCH(int, nT);
        QFETCH(QString, expected);
        const auto e = boundaryEditDistance(a, b, static_cast<std::size_t>(nT));
        QStringList add, sub, tr;
        for (const auto& x : e.additions)
            add << QString::number(x.type) + (x.side == Side::A ? "a" : "b");
        for (const auto& x : e.substitutions)
            sub << QStringLiteral("%1-%2").arg(x.typeA).arg(x.typeB);
        for (const auto& x : e.transpositions)
            tr << QStringLiteral("%1-%2:%3").arg(x.start).arg(x.end).arg(x.type);
        // segeval returns substitutions as a set: compare them in sorted order.
        sub.sort();
        QStringList want = expected.split('|');
        QStringList wantSub = want[1].split(' ', Qt::SkipEmptyParts);
        wantSub.sort();
        QCOMPARE(add.join(' '), want[0]);
        QCOMPARE(sub.join(' '), wantSub.join(' '));
        QCOMPARE(tr.join(' '), want[2]);
    }

    // segeval/similarity/boundary_test.py and segmentation_test.py (masses as segeval's default
    // boundary format).
    void similarities_data()
    {
        QTest::addColumn<BoundaryString>("a");
        QTest::addColumn<BoundaryString>("b");
        QTest::addColumn<double>("b_value");
        QTest::addColumn<double>("s_value");
        QTest::newRow("fn") << masses({2, 3, 6}) << masses({5, 6}) << 0.5 << 0.9;
        QTest::newRow("fp") << masses({2, 3, 6}) << masses({2, 3, 3, 3}) << 2.0 / 3.0 << 0.9;
        QTest::newRow("near_miss") << masses({2, 3, 6}) << masses({2, 2, 7}) << 0.75 << 0.95;
        QTest::newRow("clustered_fps") << masses({2, 3, 6}) << masses({1, 1, 3, 1, 5}) << 0.5 << 0.8;
        // test_boundary_format_nltk: '01001000000' and '01010000000' are masses (2, 3, 7) and (2, 2, 8).
        QTest::newRow("nltk_format") << masses({2, 3, 7}) << masses({2, 2, 8}) << 0.75 << std::nan("");
        // test_boundary_format_nltk of segmentation_test.py: '0100100000' / '0101000000'.
        QTest::newRow("nltk_format_s") << masses({2, 3, 6}) << masses({2, 2, 7}) << std::nan("") << 0.95;
        // test_positions: position labels (1 x 13) and (1 x 4, 2 x 4, 3 x 5) are masses (13) and (4, 4, 5).
        QTest::newRow("positions") << masses({13}) << masses({4, 4, 5}) << 0.0 << std::nan("");
        QTest::newRow("int_as_param") << masses({11}) << masses({5, 6}) << 0.0 << std::nan("");
        QTest::newRow("int_as_param_reversed") << masses({5, 6}) << masses({11}) << 0.0 << std::nan("");
    }
    void similarities()
    {
        QFETCH(BoundaryString, a);
        QFETCH(BoundaryString, b);
        QFETCH(double, b_value);
        QFETCH(double, s_value);
        if (!std::isnan(b_value))
            QVERIFY(std::abs(boundarySimilarity(a, b) - b_value) < 1e-12);
        if (!std::isnan(s_value))
            QVERIFY(std::abs(segmentationSimilarity(a, b) - s_value) < 1e-12);
    }

    void partsAndWeights()
    {
        // segmentation_test.py test_parts: S of (2,3,6) and (5,6) is 9 / 10.
        const auto s = segmentationSimilarityParts(boundaryStatistics(masses({2, 3, 6}), masses({5, 6})));
        QCOMPARE(s.numerator, 9.0);
        QCOMPARE(s.denominator, 10.0);
        // boundary_test.py test_weight_t: unweighted transpositions, (2,3,6) and (5,6): B = 0.5.
        QCOMPARE(boundarySimilarity(masses({2, 3, 6}), masses({5, 6}), 2, {false, false}), 0.5);
        // test_one_minus: 1 - B((2,3,6), (2,2,7)) = 0.25 and 1 - S = 0.05.
        QVERIFY(std::abs((1 - boundarySimilarity(masses({2, 3, 6}), masses({2, 2, 7}))) - 0.25) < 1e-12);
        QVERIFY(std::abs((1 - segmentationSimilarity(masses({2, 3, 6}), masses({2, 2, 7}))) - 0.05) < 1e-12);
    }

    void lengthMismatchIsAnError()
    {
        // segmentation_test.py test_mass_exception: (2,2,7) against (2,2,8).
        QVERIFY_THROWS_EXCEPTION(Error, boundaryEditDistance(masses({2, 2, 7}), masses({2, 2, 8})));
    }

    void multipleBoundaryTypesB()
    {
        // boundary_test.py test_multiple_boundary_types: mean 0.5, standard deviation 0.25 over
        // the two items, i.e. B = 0.75 and 0.25.
        const auto items = multipleBoundaryTypes();
        QCOMPARE(boundarySimilarity(items[0].codings[0].second, items[0].codings[1].second), 0.75);
        QCOMPARE(boundarySimilarity(items[1].codings[0].second, items[1].codings[1].second), 0.25);
    }

    void stargazer_data()
    {
        // boundary_test.py test_b_datasets and segmentation_test.py test_s_datasets: hypotheses
        // h1, h2 against Hearst (1997)'s coders 1 and 2 of "Stargazers look for life".
        QTest::addColumn<BoundaryString>("hypothesis");
        QTest::addColumn<BoundaryString>("reference");
        QTest::addColumn<double>("b_value");
        QTest::addColumn<double>("s_value");
        const auto h1 = masses({2, 6, 4, 2, 4, 3}), h2 = masses({2, 1, 1, 1, 5, 8, 2, 1});
        const auto c1 = masses({2, 3, 3, 1, 3, 6, 3}), c2 = masses({2, 8, 2, 4, 2, 3});
        QTest::newRow("h1,1") << h1 << c1 << 0.57142857 << 0.85;
        QTest::newRow("h2,1") << h2 << c1 << 0.38888888 << 0.725;
        QTest::newRow("h1,2") << h1 << c2 << 0.42857142 << 0.8;
        QTest::newRow("h2,2") << h2 << c2 << 0.33333333 << 0.7;
    }
    void stargazer()
    {
        QFETCH(BoundaryString, hypothesis);
        QFETCH(BoundaryString, reference);
        QFETCH(double, b_value);
        QFETCH(double, s_value);
        // assertAlmostEquals: 7 decimal places.
        QVERIFY(std::abs(boundarySimilarity(hypothesis, reference) - b_value) < 5e-8);
        QVERIFY(std::abs(segmentationSimilarity(hypothesis, reference) - s_value) < 5e-8);
    }

    // segeval/agreement/pi_test.py, kappa_test.py and bias_test.py.
    void coefficients_data()
    {
        QTest::addColumn<std::vector<CodedItem>>("items");
        QTest::addColumn<double>("pi");
        QTest::addColumn<double>("kappa");
        QTest::addColumn<double>("bias");
        const double none = std::nan("");
        QTest::newRow("g5") << coded(kKazantsevaG5) << 0.2399575652197196472212284944 << 0.2421099324579046442791865267
                            << 0.00277829320319822615823397979;
        QTest::newRow("g5_ch1") << coded(only(kKazantsevaG5, "ch1")) << 0.2226720647773279352226720649
                                << 0.2258064516129032258064516129 << 0.00390625000000000000000000011;
        QTest::newRow("g2") << coded(kKazantsevaG2) << 0.4083169765912929422042553174 << 0.4106841873722731313872632664
                            << 0.00393636062003502686364542151;
        QTest::newRow("g2_ch2") << coded(only(kKazantsevaG2, "ch2")) << 0.5335548172757475083056478405
                                << 0.5339895791843801565560911374 << 0.00090702947845804988662131528;
        QTest::newRow("disagree") << coded(largeDisagreement()) << -0.3333333333333333333333333333 << 0.0 << 0.25;
        QTest::newRow("complete") << coded(completeAgreement()) << 1.0 << 1.0 << 0.008099721956129627956849957112;
        QTest::newRow("pi1") << coded({{"i1", {{"c1", {2, 8, 2, 1}}, {"c2", {2, 1, 7, 2, 1}}}}})
                             << 0.7267552182163187855787476281 << 0.7272727272727272727272727273 << none;
        QTest::newRow("pi2") << coded({{"i1", {{"c1", {2, 8, 2, 1}}, {"c2", {11, 2}}}}}) << 0.1428571428571428571428571429
                             << 0.1489361702127659574468085107 << none;
        // test_multiple_boundary_types (bias: assertAlmostEqual with 0.00916666666, 7 places).
        QTest::newRow("multiple_types") << multipleBoundaryTypes() << 0.4666666666666666666666666667
                                        << 0.4718309859154929577464788733 << 0.00916666666;
    }
    void coefficients()
    {
        QFETCH(std::vector<CodedItem>, items);
        QFETCH(double, pi);
        QFETCH(double, kappa);
        QFETCH(double, bias);
        const auto r = chanceCorrectedAgreement(items);
        // segeval's assertAlmostEqual: 7 decimal places.
        QVERIFY2(std::abs(r.pi - pi) < 5e-8, qPrintable(QString::number(r.pi, 'g', 17)));
        QVERIFY2(std::abs(r.kappa - kappa) < 5e-8, qPrintable(QString::number(r.kappa, 'g', 17)));
        if (!std::isnan(bias))
            QVERIFY2(std::abs(r.bias() - bias) < 5e-8, qPrintable(QString::number(r.bias(), 'g', 17)));
    }

    void biasParts()
    {
        // bias_test.py test_parts: A_e(pi) = 0.25 and A_e(kappa) = 0 on LARGE_DISAGREEMENT.
        const auto r = chanceCorrectedAgreement(coded(largeDisagreement()));
        QCOMPARE(r.expectedPi, 0.25);
        QCOMPARE(r.expectedKappa, 0.0);
        QCOMPARE(r.actual, 0.0);
    }

    void oneCoderItemsAreSkipped()
    {
        // segeval raises for an item with one coder; here it is left out (and counted by the caller).
        auto items = coded(only(kKazantsevaG5, "ch1"));
        items.push_back({"lonely", {{"an1", masses({3, 4})}}});
        const auto r = chanceCorrectedAgreement(items);
        QCOMPARE(r.items, std::size_t(1));
        QCOMPARE(r.pairs, std::size_t(6));
        QVERIFY(std::abs(r.pi - 0.2226720647773279352226720649) < 5e-8);
    }

    void duplicateCoderIsAnError()
    {
        const std::vector<CodedItem> items = {{"i", {{"a", masses({3, 4})}, {"a", masses({7})}}}};
        QVERIFY_THROWS_EXCEPTION(Error, chanceCorrectedAgreement(items));
    }

    void noBoundariesAnywhereIsPerfectAgreement()
    {
        // segeval divides by zero here; two annotators agreeing that nothing is cut agree fully.
        const std::vector<CodedItem> items = {{"i", {{"a", masses({9})}, {"b", masses({9})}}}};
        const auto r = chanceCorrectedAgreement(items);
        QCOMPARE(r.actual, 1.0);
        QCOMPARE(r.pi, 1.0);
        QCOMPARE(r.kappa, 1.0);
        QCOMPARE(boundarySimilarity(masses({9}), masses({9})), 1.0);
        QCOMPARE(segmentationSimilarity(masses({9}), masses({9})), 1.0);
    }
};

QTEST_GUILESS_MAIN(TestSegevalMeasures)
#include "test_segeval_measures.moc"
