// The window's gateway to the workspace (ui/workspace): the dataset import policy (an earlier
// import of the same rows is found again, else the file's name is taken, made unique), a dataset
// opened through the gateway comes back with its corrections, and other annotators' versions of a
// document (read on the thread pool) leave out the author's own and segmenters' outputs.
#include "document/dataset.hpp"
#include "store/store.hpp"
#include "support/temp_files.hpp"
#include "workspace/dataset_attach.hpp"
#include "workspace/workspace_gateway.hpp"

#include <QtTest>

using namespace blocklens;

namespace {

const char* kRows =
    "{\"id\": \"d1\", \"text\": \"alpha line\\nbeta line\\ngamma line\", \"boundaries\": [{\"offset\": 11, \"level\": 1}]}\n"
    "{\"id\": \"d2\", \"text\": \"one\\ntwo\\nthree\", \"boundaries\": []}\n";
const char* kOtherRows = "{\"id\": \"x\", \"text\": \"something else\\nentirely\", \"boundaries\": []}\n";

std::vector<std::string> datasetNames(store::Store& db)
{
    std::vector<std::string> names;
    for (const auto& info : db.listDatasets())
        names.push_back(info.name);
    return names;
}

} // namespace

class TestWorkspace : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void anEarlierImportIsFoundAgainElseANewNameIsTaken()
    {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("copy")) && QDir(dir.path()).mkpath(QStringLiteral("other")));
        const auto path = test::writeFile(dir, "set.jsonl", kRows);
        const auto copy = test::writeFile(dir, "copy/set.jsonl", kRows);
        const auto other = test::writeFile(dir, "other/set.jsonl", kOtherRows);
        auto db = store::Store::open(dir.filePath(QStringLiteral("ws.db")).toStdString());
        const Dataset rows = loadDataset(path);

        const ui::AttachedDataset first = ui::attachDataset(db, rows, path);
        QCOMPARE(datasetNames(db), std::vector<std::string>{"set"});
        QCOMPARE(first.currentBoundaries, (std::vector<std::vector<Boundary>>{{{11, 1}}, {}}));
        QCOMPARE(first.reviewed, (std::vector<bool>{false, false}));

        // Opened again, or from another path with the same rows: the same dataset, its state read back.
        db.setReviewed(first.datasetId, 1, true, "alice");
        const ui::AttachedDataset again = ui::attachDataset(db, rows, path);
        QCOMPARE(again.datasetId, first.datasetId);
        QCOMPARE(again.reviewed, (std::vector<bool>{false, true}));
        QCOMPARE(ui::attachDataset(db, loadDataset(copy), copy).datasetId, first.datasetId);
        QCOMPARE(datasetNames(db).size(), std::size_t(1));

        // Other rows under the same file name: imported under a name not yet taken.
        const ui::AttachedDataset different = ui::attachDataset(db, loadDataset(other), other);
        QVERIFY(different.datasetId != first.datasetId);
        QCOMPARE(datasetNames(db), (std::vector<std::string>{"set", "set-2"}));
    }

    void openInputAttachesADatasetAndReportsUnreadableFiles()
    {
        QTemporaryDir dir;
        const auto path = test::writeFile(dir, "set.jsonl", kRows);
        ui::WorkspaceGateway gateway(dir.filePath(QStringLiteral("ws.db")));
        QVERIFY(gateway.isOpen() && gateway.writer());
        const ui::LoadedInput input = gateway.openInput(QString::fromStdString(path.string())).result();
        QVERIFY2(input.error.isEmpty(), qPrintable(input.error));
        QVERIFY(input.datasetId != 0);
        QCOMPARE(input.currentBoundaries.size(), std::size_t(2));

        const ui::LoadedInput missing = gateway.openInput(dir.filePath(QStringLiteral("no-such.jsonl"))).result();
        QVERIFY(missing.error.contains(QStringLiteral("no-such.jsonl")));

        // Without a workspace: the file is read, nothing is imported.
        ui::WorkspaceGateway none(QString{});
        QVERIFY(!none.isOpen() && !none.writer());
        const ui::LoadedInput alone = none.openInput(QString::fromStdString(path.string())).result();
        QVERIFY(alone.dataset && alone.datasetId == 0 && alone.currentBoundaries.empty());
    }

    void otherAnnotatorsVersionsExcludeTheAuthorAndSegmenters()
    {
        QTemporaryDir dir;
        const auto path = test::writeFile(dir, "set.jsonl", kRows);
        const auto rows = std::make_shared<const Dataset>(loadDataset(path));
        const std::shared_ptr<const Document> doc(rows, &rows->documents[0]);
        const QString ws = dir.filePath(QStringLiteral("ws.db"));
        {
            auto db = store::Store::open(ws.toStdString());
            db.recordSegmentation(*doc, "manual", "{}", {{5, 1}}, "alice");
            db.recordSegmentation(*doc, "manual", "{}", {{11, 1}}, "bob");
            db.recordSegmentation(*doc, "hybrid", "{}", {{22, 1}}, "carol"); // a segmenter's, not a person's
        }
        ui::WorkspaceGateway gateway(ws);
        const auto versions = gateway.otherAnnotators(doc, QStringLiteral("bob")).result();
        QCOMPARE(versions.size(), std::size_t(1));
        QVERIFY2(versions[0].first.startsWith(QStringLiteral("alice (")), qPrintable(versions[0].first));
        QCOMPARE(versions[0].second, (std::vector<Boundary>{{5, 1}}));
        QVERIFY(ui::WorkspaceGateway(QString{}).otherAnnotators(doc, QStringLiteral("bob")).result().empty());
    }
};

QTEST_GUILESS_MAIN(TestWorkspace)
#include "test_workspace.moc"
