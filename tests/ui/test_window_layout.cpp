// The window fits common screens (issue 15 item 5): at 1366x768 and 1920x1080, opening each dock
// and view in turn (side by side, heatmap, experiments, model, dataset, ...) never grows the
// window, its minimum size fits the screen, and the dock that was opened gets usable room.
#include "main_window.hpp"
#include "support/temp_files.hpp"

#include <QAction>
#include <QDockWidget>
#include <QSettings>
#include <QSignalSpy>
#include <QtTest>

using namespace blocklens;

namespace {

QString fits(const QSize& inner, const QSize& outer)
{
    return inner.width() <= outer.width() && inner.height() <= outer.height()
               ? QString()
               : QStringLiteral("%1x%2 does not fit %3x%4").arg(inner.width()).arg(inner.height()).arg(outer.width()).arg(outer.height());
}

// Every dock's minimum, for the failure message: what forces the window's minimum size.
QString dockMinimums(const QMainWindow& window)
{
    QStringList out;
    for (auto* d : window.findChildren<QDockWidget*>())
        if (d->isVisible())
            out << QStringLiteral("%1 min %2x%3 (now %4x%5)")
                       .arg(d->objectName())
                       .arg(d->minimumSizeHint().width())
                       .arg(d->minimumSizeHint().height())
                       .arg(d->width())
                       .arg(d->height());
    return out.join(QStringLiteral("; "));
}

} // namespace

class TestWindowLayout : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("BlockLensTests"));
        QCoreApplication::setApplicationName(QStringLiteral("test_window_layout"));
        QStandardPaths::setTestModeEnabled(true);
    }

    void everyDockFitsTheScreen_data()
    {
        QTest::addColumn<QSize>("screen");
        QTest::newRow("1366x768") << QSize(1366, 768);
        QTest::newRow("1920x1080") << QSize(1920, 1080);
    }
    void everyDockFitsTheScreen()
    {
        QFETCH(QSize, screen);
        QSettings().clear(); // no saved geometry or dock layout
        QTemporaryDir dir;
        ui::MainWindow window(dir.filePath(QStringLiteral("workspace.db")));
        window.resize(screen);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy segmented(&window, &ui::MainWindow::segmentationShown);
        window.openPath(QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/demo/block-attention.md"));
        QVERIFY(segmented.wait(20000));
        QTest::qWait(100);
        QVERIFY2(fits(window.minimumSizeHint(), screen).isEmpty(),
                 qPrintable(QStringLiteral("at start: minimum size %1; %2").arg(fits(window.minimumSizeHint(), screen), dockMinimums(window))));
        QCOMPARE(window.size(), screen);

        // Each step: an action of the window and the dock it must show with usable room.
        const std::pair<const char*, const char*> steps[] = {
            {"showCompare", "compareDock"},          // View > Side by side (built with libtorch)
            {"runComparison", "compareDock"},        // Run Side by Side (no model: it says so, in the dock)
            {"raceTtft", "compareDock"},
            {"showHeatmap", "heatmapDock"},
            {"analyseAttention", "heatmapDock"},
            {"showExperiments", "experimentsDock"},
            {"experimentsTtftChart", "experimentsDock"},
            {"experimentsMetricsChart", "experimentsDock"},
            {"modelDock", "modelDock"},
            {"adjudicationDock", "adjudicationDock"}, // View > Adjudication (issue 21)
            {"compareSegmenters", nullptr},          // comparison tracks beside the text
            {"shortcuts", nullptr},
        };
        for (const auto& [name, dockName] : steps) {
            QAction* action = window.action(QLatin1String(name));
            QDockWidget* dock = dockName ? window.findChild<QDockWidget*>(QLatin1String(dockName)) : nullptr;
            if (!action && dock)
                action = dock->toggleViewAction();
            if (!action) {
                QVERIFY2(QLatin1String(name) == QLatin1String("showCompare") || QLatin1String(name) == QLatin1String("runComparison") ||
                             QLatin1String(name) == QLatin1String("raceTtft") || QLatin1String(name) == QLatin1String("modelDock"),
                         name); // only the inference parts may be missing (a build without libtorch)
                continue;
            }
            if (dock && dock->isVisible() && action == dock->toggleViewAction())
                dock->hide(); // toggled on below, not off
            action->trigger();
            QTest::qWait(250); // docks resize after the layout placed them (a queued call)
            const QString where = QStringLiteral("after %1: ").arg(QLatin1String(name));
            QVERIFY2(window.size() == screen, qPrintable(where + QStringLiteral("the window is %1x%2; %3")
                                                                    .arg(window.width())
                                                                    .arg(window.height())
                                                                    .arg(dockMinimums(window))));
            QVERIFY2(fits(window.minimumSizeHint(), screen).isEmpty(),
                     qPrintable(where + fits(window.minimumSizeHint(), screen) + QStringLiteral("; ") + dockMinimums(window)));
            if (dock) {
                QVERIFY2(dock->isVisible(), qPrintable(where + QStringLiteral("%1 is not shown").arg(dock->objectName())));
                QVERIFY2(dock->height() >= 200 && dock->width() >= 300,
                         qPrintable(where + QStringLiteral("%1 has no usable room: %2x%3 (floating %4, area %5, tabbed with %6)")
                                                .arg(dock->objectName())
                                                .arg(dock->width())
                                                .arg(dock->height())
                                                .arg(dock->isFloating())
                                                .arg(int(window.dockWidgetArea(dock)))
                                                .arg(window.tabifiedDockWidgets(dock).size())));
            }
        }

        // A dataset: the dataset browser joins on the left.
        const auto dataset = test::writeFile(dir, "d.jsonl",
                                             "{\"id\": \"mixed/d/26\", \"category\": \"book\", \"text\": \"first line\\nsecond line\\nthird\", \"boundaries\": [11]}\n"
                                             "{\"id\": \"mixed/d/27\", \"text\": \"another\\ndocument\", \"boundaries\": []}\n");
        QSignalSpy shown(&window, &ui::MainWindow::inputShown);
        window.openPath(QString::fromStdString(dataset.string()));
        QVERIFY(shown.wait(20000));
        QTest::qWait(250);
        QVERIFY2(window.size() == screen, qPrintable(QStringLiteral("with a dataset: the window is %1x%2; %3")
                                                         .arg(window.width())
                                                         .arg(window.height())
                                                         .arg(dockMinimums(window))));
        QVERIFY2(fits(window.minimumSizeHint(), screen).isEmpty(),
                 qPrintable(QStringLiteral("with a dataset: ") + fits(window.minimumSizeHint(), screen) + QStringLiteral("; ") + dockMinimums(window)));
        auto* datasetDock = window.findChild<QDockWidget*>(QStringLiteral("datasetDock"));
        QVERIFY(datasetDock->isVisible() && datasetDock->width() >= 300);
    }
};

QTEST_MAIN(TestWindowLayout)
#include "test_window_layout.moc"
