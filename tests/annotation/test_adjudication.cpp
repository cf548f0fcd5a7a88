// Adjudication (issue 21): majority and contested boundaries of three annotators, decisions stored
// with who and when, undo, the adjudicated version reread from the file, `db export --adjudicated`.
#include "analysis/adjudication.hpp"
#include "analysis/annotator_agreement.hpp"
#include "store/store.hpp"
#include "support/cli_capture.hpp"
#include "util/error.hpp"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace blocklens;
using namespace blocklens::analysis;

namespace {

std::vector<AnnotatorVersion> threeAnnotators()
{
    // 10: all three, level 1. 20: ann and bob (majority). 30: cy alone. 40: all three, levels 1, 2, 2.
    return {{"ann", 0, {{10, 1}, {20, 1}, {40, 1}}},
            {"bob", 0, {{10, 1}, {20, 2}, {40, 2}}},
            {"cy", 0, {{10, 1}, {30, 1}, {40, 2}}}};
}

} // namespace

class TestAdjudication : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void majorityAndContestedBoundaries()
    {
        const auto plan = planAdjudication(threeAnnotators());
        QCOMPARE(plan.annotators, (std::vector<std::string>{"ann", "bob", "cy"}));
        QCOMPARE(plan.boundaries.size(), std::size_t(4));
        // 20: one level-1 and one level-2 vote, a tie: the coarser level 1.
        QCOMPARE(plan.majority(), (std::vector<Boundary>{{10, 1}, {20, 1}, {40, 2}}));
        QCOMPARE(plan.contested(), (std::vector<std::size_t>{1, 2, 3})); // 20, 30, 40 (levels differ)
        QCOMPARE(plan.boundaries[2].annotators, (std::vector<std::string>{"cy"}));
        QVERIFY(!plan.boundaries[2].majority);
        QVERIFY(!plan.boundaries[0].contested);
    }

    void identicalVersionsLeaveNothingContested()
    {
        std::vector<AnnotatorVersion> v = {{"a", 0, {{5, 1}, {9, 2}}}, {"b", 0, {{5, 1}, {9, 2}}}};
        const auto plan = planAdjudication(v);
        QVERIFY(plan.contested().empty());
        QCOMPARE(plan.majority(), (std::vector<Boundary>{{5, 1}, {9, 2}}));
    }

    void refusesOneAnnotatorOrOneNamedTwice()
    {
        QVERIFY_THROWS_EXCEPTION(Error, planAdjudication({{"a", 0, {}}}));
        QVERIFY_THROWS_EXCEPTION(Error, planAdjudication({{"a", 0, {}}, {"a", 0, {}}}));
    }

    void decisionsAreStoredUndoneAndExported()
    {
        QTemporaryDir dir;
        const auto path = std::filesystem::path(dir.path().toStdString()) / "ws.db";
        store::Id dataset = 0, documentId = 0, adjudicated = 0;
        {
            auto st = store::Store::open(path);
            Dataset ds;
            ds.path = "campaign.jsonl";
            DocumentMeta meta;
            meta.id = "doc0";
            ds.documents.emplace_back(std::string(60, 'x'), meta);
            store::ImportOptions o;
            o.name = "campaign";
            dataset = st.importDataset(ds, o).datasetId;
            documentId = st.datasetRows(dataset).at(0).documentId;
            for (const auto& v : threeAnnotators())
                st.addSegmentation({documentId, "manual", "{}", v.annotator, std::nullopt, v.boundaries});
            const auto docs = loadAnnotatorVersions(st, "campaign");
            QCOMPARE(docs.at(0).versions.size(), std::size_t(3));
            const auto plan = planAdjudication(docs.at(0).versions);
            adjudicated = openAdjudicatedVersion(st, documentId, plan, "rev");
            QCOMPARE(openAdjudicatedVersion(st, documentId, plan, "rev"), adjudicated); // reopened, not duplicated
            QCOMPARE(st.segmentationInfo(adjudicated).segmenter, std::string("adjudicated"));
            QCOMPARE(st.boundaries(adjudicated), plan.majority());
            // The adjudicated version is no annotator: agreement still sees three.
            QCOMPARE(loadAnnotatorVersions(st, "campaign").at(0).versions.size(), std::size_t(3));

            st.recordAdjudicationDecision(adjudicated, {30, 1}, true, "rev");  // accept cy's lone boundary
            st.recordAdjudicationDecision(adjudicated, {20, 1}, false, "rev"); // reject the majority's 20
            st.recordAdjudicationDecision(adjudicated, {40, 2}, false, "rev"); // reject 40, then undo it
            QCOMPARE(st.boundaries(adjudicated), (std::vector<Boundary>{{10, 1}, {30, 1}}));
            QVERIFY(st.undoAdjudicationDecision(adjudicated, "rev"));
            QCOMPARE(st.boundaries(adjudicated), (std::vector<Boundary>{{10, 1}, {30, 1}, {40, 2}}));
            QVERIFY_THROWS_EXCEPTION(Error, st.recordAdjudicationDecision(adjudicated, {60, 1}, true, "rev"));
            const auto manual = st.segmentationHistory(documentId).at(1).id;
            QVERIFY_THROWS_EXCEPTION(Error, st.recordAdjudicationDecision(manual, {30, 1}, true, "rev"));
        }
        {
            auto st = store::Store::open(path, {.mode = store::OpenMode::ReadOnly});
            const auto decisions = st.adjudicationDecisions(adjudicated);
            QCOMPARE(decisions.size(), std::size_t(3));
            QVERIFY(decisions[0].accepted);
            QCOMPARE(decisions[0].boundary, (Boundary{30, 1}));
            QVERIFY(!decisions[1].accepted);
            QVERIFY(decisions[2].undone);
            QVERIFY(!decisions[2].undoneAt.empty());
            for (const auto& d : decisions) {
                QCOMPARE(d.author, std::string("rev"));
                QVERIFY(d.createdAt.starts_with("20"));
            }
            QCOMPARE(verdictAt(decisions, 30), std::optional<bool>(true));
            QCOMPARE(verdictAt(decisions, 20), std::optional<bool>(false));
            QVERIFY(!verdictAt(decisions, 40).has_value());
            const auto plan = planAdjudication(loadAnnotatorVersions(st, "campaign").at(0).versions);
            QCOMPARE(applyDecisions(plan.majority(), decisions), st.boundaries(adjudicated));
        }
        const auto r = test::runCliCaptured({"db", "export", "--db", path.string(), "--dataset", "campaign", "--adjudicated"});
        QCOMPARE(r.code, 0);
        const auto line = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
        QCOMPARE(line["id"], nlohmann::json("doc0"));
        const auto all = test::runCliCaptured({"db", "export", "--db", path.string(), "--dataset", "campaign"});
        QVERIFY(r.out != all.out); // the corrected (imported, unbounded) rows differ from the adjudicated ones
        QCOMPARE(line["boundaries"], nlohmann::json::parse(R"([{"offset":10,"level":1},{"offset":30,"level":1},)"
                                                           R"({"offset":40,"level":2}])"));
        QCOMPARE(std::count(r.out.begin(), r.out.end(), '\n'), std::ptrdiff_t(1));
    }
};

QTEST_GUILESS_MAIN(TestAdjudication)
#include "test_adjudication.moc"
