// Assignment of a dataset's rows to annotators: the plan's properties, determinism, storage in
// the workspace (schema v3), "my next row", and the `assign` command.
#include "campaign/assignment.hpp"
#include "store/store.hpp"
#include "support/cli_capture.hpp"
#include "support/error_of.hpp"
#include "util/error.hpp"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

using namespace blocklens;
using test::errorOf;
using campaign::AssignmentRequest;
using campaign::planAssignment;

namespace {

std::map<std::string, std::size_t> loads(const campaign::AssignmentResult& r)
{
    std::map<std::string, std::size_t> out;
    for (const auto& row : r.rows)
        for (const auto& who : row)
            ++out[who];
    return out;
}

std::set<std::size_t> sharedRows(const campaign::AssignmentResult& r)
{
    std::set<std::size_t> out;
    for (std::size_t i = 0; i < r.rows.size(); ++i)
        if (r.rows[i].size() > 1)
            out.insert(i);
    return out;
}

struct Workspace {
    QTemporaryDir dir;
    std::string path;
    store::Id dataset = 0;
    explicit Workspace(std::size_t rows)
    {
        path = (std::filesystem::path(dir.path().toStdString()) / "ws.db").string();
        auto st = store::Store::open(path);
        Dataset ds;
        ds.path = "campaign.jsonl";
        for (std::size_t i = 0; i < rows; ++i) {
            DocumentMeta m;
            m.id = "d" + std::to_string(i);
            ds.documents.emplace_back("document " + std::to_string(i) + "\nsecond line", m);
        }
        store::ImportOptions o;
        o.name = "campaign";
        dataset = st.importDataset(ds, o).datasetId;
    }
    store::Store open() { return store::Store::open(path); }
};

} // namespace

class TestAssignment : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void planOfThreeAnnotators()
    {
        const auto r = planAssignment({280, {"ann", "bob", "cy"}, 0.2, 7});
        QCOMPARE(r.rows.size(), std::size_t(280));
        QCOMPARE(r.shared, std::size_t(56));
        QCOMPARE(sharedRows(r).size(), std::size_t(56));
        std::map<std::string, std::size_t> pairs;
        for (const auto& row : r.rows) {
            QVERIFY(row.size() == 1 || row.size() == 2);
            if (row.size() == 2) {
                QVERIFY(row[0] != row[1]);
                ++pairs[row[0] + "/" + row[1]];
            }
        }
        // Every pair shares rows, about equally (56 shared rows, 3 pairs).
        QCOMPARE(pairs.size(), std::size_t(3));
        for (const auto& [pair, n] : pairs)
            QVERIFY2(n >= 18 && n <= 19, pair.c_str());
        // Loads: (280 + 56) / 3 = 112 each.
        for (const auto& [who, n] : loads(r))
            QCOMPARE(n, std::size_t(112));
    }

    void deterministicPerSeed()
    {
        const AssignmentRequest request{280, {"ann", "bob", "cy"}, 0.2, 7};
        QCOMPARE(planAssignment(request).rows, planAssignment(request).rows);
        auto other = request;
        other.seed = 8;
        QVERIFY(sharedRows(planAssignment(other)) != sharedRows(planAssignment(request)));
    }

    void everyPairOfFourAnnotators()
    {
        const auto r = planAssignment({100, {"a", "b", "c", "d"}, 0.5, 3});
        std::set<std::string> pairs;
        for (const auto& row : r.rows)
            if (row.size() == 2)
                pairs.insert(row[0] + row[1]);
        QCOMPARE(pairs.size(), std::size_t(6));
        const auto l = loads(r);
        const auto [lo, hi] = std::minmax_element(l.begin(), l.end(), [](auto& x, auto& y) { return x.second < y.second; });
        QVERIFY(hi->second - lo->second <= 1);
    }

    void noOverlapAndFullOverlap()
    {
        const auto none = planAssignment({10, {"a", "b", "c"}, 0.0, 1});
        QCOMPARE(none.shared, std::size_t(0));
        for (const auto& row : none.rows)
            QCOMPARE(row.size(), std::size_t(1));
        const auto l = loads(none);
        QCOMPARE(l.at("a") + l.at("b") + l.at("c"), std::size_t(10));
        QVERIFY(l.at("a") >= 3 && l.at("a") <= 4);
        const auto all = planAssignment({10, {"a", "b"}, 1.0, 1});
        for (const auto& row : all.rows)
            QCOMPARE(row.size(), std::size_t(2));
        QCOMPARE(planAssignment({5, {"solo"}, 0.0, 1}).rows[4], std::vector<std::string>{"solo"});
    }

    void badRequests()
    {
        QVERIFY(errorOf([] { planAssignment({10, {"a", "a"}, 0.2, 1}); }).find("named twice") != std::string::npos);
        QVERIFY(errorOf([] { planAssignment({10, {"a", "b"}, 1.5, 1}); }).find("between 0 and 1") != std::string::npos);
        QVERIFY(errorOf([] { planAssignment({10, {"a"}, 0.2, 1}); }).find("two or more annotators") != std::string::npos);
        QVERIFY(errorOf([] { planAssignment({10, {}, 0.0, 1}); }).find("no annotators") != std::string::npos);
        QVERIFY(errorOf([] { campaign::parseAnnotatorList("a,,b"); }).find("empty name") != std::string::npos);
        QCOMPARE(campaign::parseAnnotatorList(" a , b,c"), (std::vector<std::string>{"a", "b", "c"}));
    }

    void storedInTheWorkspace()
    {
        Workspace ws(20);
        auto st = ws.open();
        const auto r = planAssignment({20, {"ann", "bob"}, 0.25, 5});
        store::AssignmentPlan plan;
        plan.annotators = {"ann", "bob"};
        plan.overlap = 0.25;
        plan.seed = 5;
        plan.createdBy = "lead";
        plan.rows = r.rows;
        st.setAssignmentPlan(ws.dataset, plan);
        const auto back = st.assignmentPlan(ws.dataset);
        QVERIFY(back.has_value());
        QCOMPARE(back->rows, r.rows);
        QCOMPARE(back->seed, std::uint64_t(5));
        QCOMPARE(back->createdBy, std::string("lead"));
        // A second plan does not silently replace the first.
        auto other = plan;
        other.rows = planAssignment({20, {"ann", "bob"}, 0.25, 6}).rows;
        const std::string error = errorOf([&] { st.setAssignmentPlan(ws.dataset, other); });
        QVERIFY2(error.find("already assigned") != std::string::npos, error.c_str());
        QCOMPARE(st.assignmentPlan(ws.dataset)->rows, r.rows);
        st.setAssignmentPlan(ws.dataset, other, true);
        QCOMPARE(st.assignmentPlan(ws.dataset)->rows, other.rows);
        // One entry per dataset row.
        other.rows.pop_back();
        QVERIFY(errorOf([&] { st.setAssignmentPlan(ws.dataset, other, true); }).find("lists 19 rows") != std::string::npos);
    }

    void nextRowOfAnAnnotator()
    {
        Workspace ws(6);
        auto st = ws.open();
        store::AssignmentPlan plan;
        plan.annotators = {"ann", "bob"};
        plan.rows = {{"ann"}, {"bob"}, {"ann", "bob"}, {"ann"}, {"bob"}, {"ann"}};
        st.setAssignmentPlan(ws.dataset, plan);
        QCOMPARE(st.nextAssignedRow(ws.dataset, "ann"), std::optional<std::size_t>(0));
        QCOMPARE(st.nextAssignedRow(ws.dataset, "bob"), std::optional<std::size_t>(1));
        st.setReviewed(ws.dataset, 0, true, "ann"); // done by ann
        QCOMPARE(st.nextAssignedRow(ws.dataset, "ann"), std::optional<std::size_t>(2));
        // A reviewed manual version of ann's own counts as done; bob's review of row 2 does not.
        const auto rows = st.datasetRows(ws.dataset);
        const auto v = st.addSegmentation({rows[2].documentId, "manual", "{}", "ann", std::nullopt, {}});
        st.setSegmentationReviewed(v, true, "ann");
        QCOMPARE(st.nextAssignedRow(ws.dataset, "ann"), std::optional<std::size_t>(3));
        QCOMPARE(st.nextAssignedRow(ws.dataset, "bob"), std::optional<std::size_t>(1));
        st.setReviewed(ws.dataset, 3, true, "bob"); // someone else's review is not ann's
        QCOMPARE(st.nextAssignedRow(ws.dataset, "ann"), std::optional<std::size_t>(3));
        QCOMPARE(st.nextAssignedRow(ws.dataset, "nobody"), std::nullopt);
    }

    void command()
    {
        Workspace ws(50);
        auto r = test::runCliCaptured({"assign", "--db", ws.path, "--dataset", "campaign", "--annotators", "ann,bob,cy",
                                       "--overlap", "0.2", "--seed", "11", "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        auto j = nlohmann::json::parse(r.out);
        QCOMPARE(j["shared_rows"].get<int>(), 10);
        QCOMPARE(j["per_annotator"]["ann"].get<int>() + j["per_annotator"]["bob"].get<int>() + j["per_annotator"]["cy"].get<int>(), 60);
        // The stored plan is what the planner makes for the same seed.
        r = test::runCliCaptured({"assign", "--db", ws.path, "--dataset", "campaign", "--show", "--json"});
        QCOMPARE(r.code, 0);
        j = nlohmann::json::parse(r.out);
        const auto expected = planAssignment({50, {"ann", "bob", "cy"}, 0.2, 11});
        for (std::size_t i = 0; i < 50; ++i) {
            auto want = expected.rows[i];
            std::sort(want.begin(), want.end());
            QCOMPARE(j["assignments"][i].get<std::vector<std::string>>(), want);
        }
        r = test::runCliCaptured({"assign", "--db", ws.path, "--dataset", "campaign", "--annotators", "x,y"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.find("already assigned") != std::string::npos, r.err.c_str());
        r = test::runCliCaptured({"assign", "--db", ws.path, "--dataset", "campaign", "--annotators", "x,y", "--replace"});
        QVERIFY2(r.code == 0, r.err.c_str());
        QVERIFY(r.out.find("x: ") != std::string::npos);
        r = test::runCliCaptured({"assign", "--db", ws.path, "--dataset", "campaign", "--next", "x", "--json"});
        QCOMPARE(r.code, 0);
        QVERIFY(nlohmann::json::parse(r.out)["row"].is_number());
        r = test::runCliCaptured({"assign", "--db", ws.path, "--dataset", "campaign", "--annotators", "a,b", "--overlap", "2"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.find("between 0 and 1") != std::string::npos, r.err.c_str());
        r = test::runCliCaptured({"assign", "--db", ws.path, "--dataset", "campaign", "--show", "--next", "x"});
        QCOMPARE(r.code, 2);
    }
};

QTEST_GUILESS_MAIN(TestAssignment)
#include "test_assignment.moc"
