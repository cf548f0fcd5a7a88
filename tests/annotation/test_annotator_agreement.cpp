// Agreement between the annotators of a stored dataset: the latest manual version per author,
// line units, levels, documents left out, and the `agreement` command.
#include "analysis/annotator_agreement.hpp"
#include "segment/metrics.hpp"
#include "store/store.hpp"
#include "support/cli_capture.hpp"
#include "util/error.hpp"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <map>

using namespace blocklens;
using namespace blocklens::analysis;

namespace {

// A text of `lines` lines ("line 0" ... without a final newline) and the offset where each starts.
std::string linesText(std::size_t lines)
{
    std::string text;
    for (std::size_t i = 0; i < lines; ++i)
        text += (i ? "\n" : "") + std::string("line ") + std::to_string(i);
    return text;
}

// Boundaries opening the given lines (at their first character), all of `level`.
std::vector<Boundary> atLines(const Document& doc, std::initializer_list<std::size_t> lines, int level = 1)
{
    const auto starts = doc.lineStarts();
    std::vector<Boundary> out;
    for (std::size_t l : lines)
        out.push_back({starts.at(l), level});
    return out;
}

// Boundaries after each segment of `masses` lines but the last (segeval's mass format in lines).
std::vector<Boundary> fromMasses(const Document& doc, const std::vector<std::size_t>& masses)
{
    const auto starts = doc.lineStarts();
    std::vector<Boundary> out;
    std::size_t line = 0;
    for (std::size_t i = 0; i + 1 < masses.size(); ++i) {
        line += masses[i];
        out.push_back({starts.at(line), 1});
    }
    return out;
}

struct Workspace {
    QTemporaryDir dir;
    std::filesystem::path path;
    std::optional<store::Store> db;
    store::Id dataset = 0;
    std::vector<Document> docs;
    std::vector<store::Id> ids;

    explicit Workspace(const std::vector<std::size_t>& lineCounts)
    {
        path = std::filesystem::path(dir.path().toStdString()) / "ws.db";
        db.emplace(store::Store::open(path));
        Dataset ds;
        ds.path = "campaign.jsonl";
        for (std::size_t i = 0; i < lineCounts.size(); ++i) {
            DocumentMeta meta;
            meta.id = "doc" + std::to_string(i);
            docs.emplace_back(linesText(lineCounts[i]) + " of doc " + std::to_string(i), meta);
        }
        ds.documents = docs;
        store::ImportOptions o;
        o.name = "campaign";
        dataset = db->importDataset(ds, o).datasetId;
        for (const auto& row : db->datasetRows(dataset))
            ids.push_back(row.documentId);
    }

    store::Id annotate(std::size_t doc, const std::string& author, std::vector<Boundary> boundaries)
    {
        return db->addSegmentation({ids[doc], "manual", "{}", author, std::nullopt, std::move(boundaries)});
    }

    DatasetAgreement measure(AgreementOptions options = {})
    {
        return measureAgreement(loadAnnotatorVersions(*db, "campaign"), options);
    }
};

// By value: callers take the level of a temporary result (`level(ws.measure(), 1)`), which a
// reference would outlive (AddressSanitizer: heap-use-after-free, scripts/sanitize --all).
LevelAgreement level(const DatasetAgreement& r, int l)
{
    for (const auto& x : r.levels)
        if (x.level == l)
            return x;
    throw std::runtime_error("no level " + std::to_string(l));
}

} // namespace

class TestAnnotatorAgreement : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void identicalVersionsAgreePerfectly()
    {
        Workspace ws({30, 12});
        for (const char* who : {"ann", "bob", "cy"}) {
            auto b = atLines(ws.docs[0], {5, 12}, 1);
            b.push_back(atLines(ws.docs[0], {20}, 2).front());
            ws.annotate(0, who, b);
            ws.annotate(1, who, atLines(ws.docs[1], {4}, 1));
        }
        const auto r = ws.measure();
        QCOMPARE(r.compared, std::size_t(2));
        QCOMPARE(r.annotators, (std::vector<std::string>{"ann", "bob", "cy"}));
        QCOMPARE(r.levels.size(), std::size_t(3)); // levels 1 and 2, then types
        for (const auto& l : r.levels) {
            QCOMPARE(l.byB.pi, 1.0);
            QCOMPARE(l.byB.kappa, 1.0);
            QCOMPARE(l.byS.pi, 1.0);
            QCOMPARE(l.meanB, 1.0);
            QCOMPARE(l.meanS, 1.0);
            QCOMPARE(*l.pk, 0.0);
            QCOMPARE(*l.windowDiff, 0.0);
            QCOMPARE(l.pairs.size(), std::size_t(3));
            for (const auto& p : l.pairs) {
                QCOMPARE(p.documents, std::size_t(2));
                QCOMPARE(p.editDistance, 0.0);
            }
        }
    }

    void documentsWithOneOrNoAnnotatorAreLeftOutAndCounted()
    {
        Workspace ws({10, 10, 10, 10});
        ws.annotate(0, "ann", atLines(ws.docs[0], {3}));
        ws.annotate(0, "bob", atLines(ws.docs[0], {3}));
        ws.annotate(1, "ann", atLines(ws.docs[1], {2, 7})); // one annotator
        // A segmenter's output and a manual version without an author are no annotator's.
        ws.db->addSegmentation({ws.ids[2], "hybrid", "{}", "ann", std::nullopt, atLines(ws.docs[2], {4})});
        ws.db->addSegmentation({ws.ids[2], "manual", "{}", "", std::nullopt, atLines(ws.docs[2], {5})});
        const auto r = ws.measure();
        QCOMPARE(r.documents, std::size_t(4));
        QCOMPARE(r.compared, std::size_t(1));
        QCOMPARE(r.singleAnnotator, std::size_t(1));
        QCOMPARE(r.unannotated, std::size_t(2));
        QCOMPARE(level(r, 1).documents.size(), std::size_t(1));
        QCOMPARE(level(r, 1).documents[0].id, std::string("doc0"));
        QCOMPARE(level(r, 1).byB.items, std::size_t(1));
    }

    void latestVersionOfEachAuthorCounts()
    {
        Workspace ws({10});
        ws.annotate(0, "ann", atLines(ws.docs[0], {3}));
        ws.annotate(0, "bob", atLines(ws.docs[0], {6}));
        const store::Id newer = ws.annotate(0, "bob", atLines(ws.docs[0], {3}));
        const auto docs = loadAnnotatorVersions(*ws.db, "campaign");
        QCOMPARE(docs.size(), std::size_t(1));
        QCOMPARE(docs[0].versions.size(), std::size_t(2));
        QCOMPARE(docs[0].versions[1].annotator, std::string("bob"));
        QCOMPARE(docs[0].versions[1].segmentationId, newer);
        QCOMPARE(level(ws.measure(), 1).meanB, 1.0);
        // An edit to the version is what counts, not the boundaries it was created with.
        ws.db->applyAnnotationEdit(newer, store::AnnotationEdit::move(ws.docs[0].lineStarts()[3], ws.docs[0].lineStarts()[4]),
                                   "bob");
        const auto& l = level(ws.measure(), 1);
        QCOMPARE(l.pairs.at(0).transpositions, std::size_t(1)); // lines 3 and 4: a near miss
        QCOMPARE(l.meanB, 0.5); // one transposition weighing 1/2 over one edit: B = (1 - 0.5) / 1
    }

    void linesAndLevels()
    {
        Workspace ws({12});
        const auto starts = ws.docs[0].lineStarts();
        // A boundary on the '\n' before line 4 belongs to line 4, as in every metric of the project.
        ws.annotate(0, "ann", {{starts[4] - 1, 1}, {starts[8], 2}});
        ws.annotate(0, "bob", {{starts[4], 1}, {starts[8], 1}});
        const auto r = ws.measure();
        const auto& l1 = level(r, 1);
        QCOMPARE(l1.pairs.at(0).additions, std::size_t(1)); // line 8 is level 2 for ann
        QCOMPARE(l1.pairs.at(0).matches, std::size_t(1));
        const auto& l2 = level(r, 2);
        QCOMPARE(l2.meanB, 1.0);
        // Levels as types: line 8 is a substitution of level 2 for level 1, costing 1 / 2 (two
        // levels spanned); B = (2 - 0.5) / 2.
        const auto& types = level(r, 0);
        QCOMPARE(types.pairs.at(0).substitutions, std::size_t(1));
        QCOMPARE(types.pairs.at(0).matches, std::size_t(1));
        QCOMPARE(types.meanB, 0.75);
        // --level restricts the levels measured.
        const auto only2 = ws.measure({{2}, 2});
        QCOMPARE(only2.levels.size(), std::size_t(1));
        QCOMPARE(only2.levels[0].level, 2);
    }

    void storedDocumentsGiveSegevalsValues()
    {
        // Kazantseva and Szpakowicz (2012), group 5, chapter 1 (segeval/data/samples.py), as four
        // annotators' versions of a 13-line document: segeval's pi_test.py expects
        // 0.2226720647773279 and kappa_test.py 0.2258064516129032.
        Workspace ws({13, 13});
        const std::map<std::string, std::vector<std::size_t>> ch1 = {
            {"an4", {2, 8, 2, 1}}, {"an1", {11, 2}}, {"an2", {2, 1, 7, 2, 1}}, {"an3", {9, 4}}};
        for (const auto& [who, masses] : ch1)
            ws.annotate(0, who, fromMasses(ws.docs[0], masses));
        ws.annotate(1, "an1", fromMasses(ws.docs[1], {5, 8})); // one annotator: must not change the result
        const auto r = ws.measure({{1}, 2});
        QCOMPARE(r.singleAnnotator, std::size_t(1));
        QVERIFY(std::abs(r.levels[0].byB.pi - 0.2226720647773279352226720649) < 1e-12);
        QVERIFY(std::abs(r.levels[0].byB.kappa - 0.2258064516129032258064516129) < 1e-12);
    }

    void pairwiseWindowMetrics()
    {
        // 20 lines; ann cuts at 10, bob at 5 and 10. With ann as reference k = round(20/2/2) = 5,
        // with bob k = round(20/3/2) = 3 (NLTK's windows, segment/metrics.hpp); the pair's Pk is
        // the mean of both directions.
        Workspace ws({20});
        ws.annotate(0, "ann", atLines(ws.docs[0], {10}));
        ws.annotate(0, "bob", atLines(ws.docs[0], {5, 10}));
        const std::vector<std::size_t> a = {10}, b = {5, 10};
        const double expected = (segment::pk(a, b, 20, 5) + segment::pk(b, a, 20, 3)) / 2;
        const auto& l = level(ws.measure(), 1);
        QVERIFY(expected > 0);
        QCOMPARE(*l.pairs.at(0).pk, expected);
        QCOMPARE(*l.documents.at(0).pairs.at(0).measures.pk, expected);
    }

    void documentsQueuedByDisagreement()
    {
        Workspace ws({20, 20, 20});
        for (const char* who : {"ann", "bob"})
            ws.annotate(0, who, atLines(ws.docs[0], {5, 10})); // full agreement
        ws.annotate(1, "ann", atLines(ws.docs[1], {5, 10}));
        ws.annotate(1, "bob", atLines(ws.docs[1], {15})); // nothing in common: B = 0
        ws.annotate(2, "ann", atLines(ws.docs[2], {5, 10}));
        ws.annotate(2, "bob", atLines(ws.docs[2], {5, 11})); // a near miss: B = 0.75
        const auto& l = level(ws.measure(), 1);
        std::vector<std::size_t> rows;
        for (std::size_t i : disagreementQueue(l))
            rows.push_back(l.documents[i].row);
        QCOMPARE(rows, (std::vector<std::size_t>{1, 2, 0}));
        const std::string db = ws.path.string();
        ws.db.reset();
        const auto r = test::runCliCaptured({"agreement", "--db", db, "--dataset", "campaign", "--level", "1", "--json"});
        QCOMPARE(nlohmann::json::parse(r.out)["levels"][0]["queue"].get<std::vector<int>>(), (std::vector<int>{1, 2, 0}));
    }

    void duplicateAnnotatorInMemoryIsAnError()
    {
        AnnotatedDocument d{"x", 0, {0, 5, 10}, {{"ann", 0, {}}, {"ann", 0, {}}}};
        QVERIFY_THROWS_EXCEPTION(Error, measureAgreement({d}));
        QVERIFY_THROWS_EXCEPTION(Error, measureAgreement({}, {{10}, 2}));
        QVERIFY_THROWS_EXCEPTION(Error, measureAgreement({}, {{}, 1}));
    }

    void command()
    {
        Workspace ws({30, 30});
        ws.annotate(0, "ann", atLines(ws.docs[0], {5, 12}));
        ws.annotate(0, "bob", atLines(ws.docs[0], {6, 12}));
        ws.annotate(1, "ann", atLines(ws.docs[1], {5}));
        const std::string db = ws.path.string();
        ws.db.reset();
        auto r = test::runCliCaptured({"agreement", "--db", db, "--dataset", "campaign", "--level", "1", "--json"});
        QCOMPARE(r.code, 0);
        const auto j = nlohmann::json::parse(r.out);
        QCOMPARE(j["compared"].get<int>(), 1);
        QCOMPARE(j["single_annotator"].get<int>(), 1);
        QCOMPARE(j["levels"].size(), std::size_t(1));
        const auto& pair = j["levels"][0]["pairs"][0];
        QCOMPARE(pair["annotator_a"].get<std::string>(), std::string("ann"));
        QCOMPARE(pair["transpositions"].get<int>(), 1);
        QCOMPARE(pair["mean_b"].get<double>(), 0.75); // one match, one near miss: (2 - 0.5) / 2
        QCOMPARE(j["levels"][0]["documents"][0]["id"].get<std::string>(), std::string("doc0"));

        r = test::runCliCaptured({"agreement", "--db", db, "--dataset", "campaign"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.find("1 left out with one annotator") != std::string::npos);
        QVERIFY(r.out.find("ann / bob") != std::string::npos);

        r = test::runCliCaptured({"agreement", "--db", db, "--dataset", "nope"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.find("no dataset 'nope'") != std::string::npos, r.err.c_str());
        r = test::runCliCaptured({"agreement", "--db", db, "--dataset", "campaign", "--level", "12"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.find("--level must be 1..9") != std::string::npos, r.err.c_str());
    }
};

QTEST_GUILESS_MAIN(TestAnnotatorAgreement)
#include "test_annotator_agreement.moc"
