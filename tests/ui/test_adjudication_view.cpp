// Adjudication end to end (issue 21): a dataset three annotators segmented, opened in the real
// window on a workspace file; the reviewer rejects, accepts, undoes with the keyboard in the
// adjudication view; a new window on the same file finds every decision (who, when, undone); and
// `db export --adjudicated` writes the adjudicated version.
#include "adjudication/adjudication_view.hpp"
#include "annotation/annotation_session.hpp"
#include "dataset_browser.hpp"
#include "main_window.hpp"
#include "store/store.hpp"
#include "support/cli_capture.hpp"
#include "support/temp_files.hpp"

#include <QAction>
#include <QDockWidget>
#include <QSettings>
#include <QSignalSpy>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace blocklens;

namespace {

// d1's lines start at 0, 11, 21, 32, 43 and 51.
const char* kDataset =
    "{\"id\": \"d1\", \"text\": \"alpha line\\nbeta line\\ngamma line\\ndelta line\\nepsilon\\nzeta\", \"boundaries\": []}\n"
    "{\"id\": \"d2\", \"text\": \"def a():\\n  pass\\ndef b():\\n  pass\\n\", \"boundaries\": []}\n"
    "{\"id\": \"d3\", \"text\": \"one\\ntwo\\nthree\", \"boundaries\": []}\n";

ui::AdjudicationView* openAdjudication(ui::MainWindow& w, const QString& data)
{
    QSignalSpy shownSpy(&w, &ui::MainWindow::inputShown);
    w.openPath(data);
    if (!shownSpy.wait(10000))
        return nullptr;
    auto* view = w.findChild<ui::AdjudicationView*>(QStringLiteral("adjudicationView"));
    if (!view)
        return nullptr;
    QSignalSpy documentSpy(view, &ui::AdjudicationView::documentShown);
    w.action(QStringLiteral("adjudicate"))->trigger();
    if (!documentSpy.wait(10000))
        return nullptr;
    return view;
}

// Presses a key in the view and waits for the workspace's answer.
bool press(ui::AdjudicationView* view, Qt::Key key)
{
    QSignalSpy documentSpy(view, &ui::AdjudicationView::documentShown);
    QTest::keyClick(view, key);
    return documentSpy.wait(10000);
}

} // namespace

class TestAdjudicationView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("BlockLensTests"));
        QStandardPaths::setTestModeEnabled(true);
        QSettings().setValue(QStringLiteral("annotator"), QStringLiteral("rev"));
    }
    void cleanupTestCase() { QSettings().remove(QStringLiteral("annotator")); }

    void adjudicateThreeAnnotatorsReopenAndExport()
    {
        QTemporaryDir dir;
        const auto data = QString::fromStdString(test::writeFile(dir, "set.jsonl", kDataset).string());
        const QString db = dir.filePath(QStringLiteral("workspace.db"));
        {
            ui::MainWindow w(db);
            w.show();
            QSignalSpy shownSpy(&w, &ui::MainWindow::inputShown);
            w.openPath(data); // attaches the dataset to the workspace
            QVERIFY(shownSpy.wait(10000));
            w.storeWriter()->flush();
        }
        {
            // The annotators' versions, as their own sessions would have saved them.
            auto st = store::Store::open(db.toStdString());
            const auto rows = st.datasetRows(st.listDatasets().at(0).id);
            const auto add = [&](std::size_t row, const char* who, std::vector<Boundary> bs) {
                st.addSegmentation({rows.at(row).documentId, "manual", "{}", who, std::nullopt, std::move(bs)});
            };
            add(0, "ann", {{11, 1}, {32, 1}});
            add(0, "bob", {{11, 1}, {43, 1}});
            add(0, "cy", {{11, 1}, {32, 1}, {51, 1}});
            add(1, "ann", {{17, 1}});
            add(1, "bob", {{17, 1}});
        }
        {
            ui::MainWindow w(db);
            w.show();
            auto* view = openAdjudication(w, data);
            QVERIFY(view);
            QVERIFY(w.findChild<QDockWidget*>(QStringLiteral("adjudicationDock"))->isVisible());
            QCOMPARE(view->reviewer(), QStringLiteral("rev"));
            // The queue: d1 (the annotators disagree) before d2 (they agree); d3 nobody did.
            QCOMPARE(view->queue().entries.size(), std::size_t(2));
            QCOMPARE(view->queue().entries[0].id, QStringLiteral("d1"));
            QCOMPARE(view->queue().entries[1].id, QStringLiteral("d2"));
            QVERIFY(view->queue().entries[0].meanB < 1.0);
            QCOMPARE(view->queue().entries[1].meanB, 1.0);
            const auto& s = view->state();
            QCOMPARE(s.id, QStringLiteral("d1"));
            QCOMPARE(s.versions.size(), std::size_t(3));
            QCOMPARE(s.plan.majority(), (std::vector<Boundary>{{11, 1}, {32, 1}}));
            QCOMPARE(s.plan.contested().size(), std::size_t(3)); // 32, 43, 51
            QCOMPARE(s.adjudicated, (std::vector<Boundary>{{11, 1}, {32, 1}})); // starts as the majority
            QCOMPARE(view->state().plan.boundaries[*view->current()].offset, std::size_t(32));

            QVERIFY(press(view, Qt::Key_R)); // reject 32 (ann and cy)
            QCOMPARE(view->state().adjudicated, (std::vector<Boundary>{{11, 1}}));
            QCOMPARE(view->state().plan.boundaries[*view->current()].offset, std::size_t(43));
            QVERIFY(press(view, Qt::Key_A)); // accept 43 (bob alone)
            QCOMPARE(view->state().adjudicated, (std::vector<Boundary>{{11, 1}, {43, 1}}));
            QVERIFY(press(view, Qt::Key_A)); // accept 51 (cy alone) ...
            QCOMPARE(view->state().adjudicated, (std::vector<Boundary>{{11, 1}, {43, 1}, {51, 1}}));
            QVERIFY(press(view, Qt::Key_U)); // ... undone
            QCOMPARE(view->state().adjudicated, (std::vector<Boundary>{{11, 1}, {43, 1}}));
            QCOMPARE(view->state().plan.boundaries[*view->current()].offset, std::size_t(51));
            QVERIFY(press(view, Qt::Key_R)); // and rejected
            QCOMPARE(view->state().adjudicated, (std::vector<Boundary>{{11, 1}, {43, 1}}));
        }
        {
            // A new window on the same file: the decisions are the workspace's.
            ui::MainWindow w(db);
            w.show();
            auto* view = openAdjudication(w, data);
            QVERIFY(view);
            const auto& s = view->state();
            QCOMPARE(s.id, QStringLiteral("d1"));
            QCOMPARE(s.adjudicated, (std::vector<Boundary>{{11, 1}, {43, 1}}));
            QCOMPARE(s.decisions.size(), std::size_t(4));
            const bool accepted[] = {false, true, true, false};
            const std::size_t offsets[] = {32, 43, 51, 51};
            for (std::size_t i = 0; i < 4; ++i) {
                QCOMPARE(s.decisions[i].accepted, accepted[i]);
                QCOMPARE(s.decisions[i].boundary.offset, offsets[i]);
                QCOMPARE(s.decisions[i].author, std::string("rev"));
                QVERIFY(!s.decisions[i].createdAt.empty());
                QCOMPARE(s.decisions[i].undone, i == 2);
            }
        }
        const auto r = test::runCliCaptured({"db", "export", "--db", db.toStdString(), "--dataset", "set", "--adjudicated"});
        QCOMPARE(r.code, 0);
        QCOMPARE(std::count(r.out.begin(), r.out.end(), '\n'), std::ptrdiff_t(1)); // d1 only: d2 was not opened
        const auto line = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
        QCOMPARE(line["id"], nlohmann::json("d1"));
        QCOMPARE(line["boundaries"],
                 nlohmann::json::parse(R"([{"offset":11,"level":1},{"offset":43,"level":1}])"));
    }

    // Item 3 of issue 21: a dataset with an assignment opens on the first row assigned to the
    // annotator named in the settings ("rev") that they have not done.
    void opensOnMyNextDocument()
    {
        QTemporaryDir dir;
        const auto data = QString::fromStdString(test::writeFile(dir, "set.jsonl", kDataset).string());
        const QString db = dir.filePath(QStringLiteral("workspace.db"));
        {
            ui::MainWindow w(db);
            QSignalSpy shownSpy(&w, &ui::MainWindow::inputShown);
            w.openPath(data);
            QVERIFY(shownSpy.wait(10000));
            QCOMPARE(w.datasetBrowser()->currentRow(), 0); // no assignment: the first row
            QTest::qWait(200);
            QCOMPARE(w.datasetBrowser()->currentRow(), 0);
            w.storeWriter()->flush();
        }
        {
            auto st = store::Store::open(db.toStdString());
            const auto dataset = st.listDatasets().at(0).id;
            store::AssignmentPlan plan;
            plan.annotators = {"rev", "other"};
            plan.rows = {{"other"}, {"rev"}, {"rev", "other"}};
            st.setAssignmentPlan(dataset, plan);
            st.setReviewed(dataset, 1, true, "rev"); // rev has done row 1: the next is row 2
        }
        ui::MainWindow w(db);
        w.show();
        QSignalSpy shownSpy(&w, &ui::MainWindow::inputShown);
        w.openPath(data);
        QVERIFY(shownSpy.wait(10000));
        QTRY_COMPARE_WITH_TIMEOUT(w.datasetBrowser()->currentRow(), 2, 10000);
        QCOMPARE(w.annotation()->document()->meta().id, std::string("d3"));
    }
};

QTEST_MAIN(TestAdjudicationView)
#include "test_adjudication_view.moc"
