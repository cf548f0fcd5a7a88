// The side by side fits its dock (issue 15): at 1366x768 and at the app's 1500x940, with the
// default dock layout, the panel's minimum width is no wider than the dock's scroll area after a
// comparison with two columns (full and block attention) and with three (a second model's block
// attention beside), so no horizontal scroll bar appears and no column is cut off at the right;
// View > TTFT Race scrolls the race into view vertically only, the left edge staying in view.
#include "inference/compare_view.hpp"
#include "inference/other_model_picker.hpp"
#include "inference/ttft_race.hpp"
#include "inference/variant_picker.hpp"
#include "inference_fixture.hpp"
#include "main_window.hpp"
#include "side_by_side_steps.hpp"
#include "window_fixture.hpp"

#include <QAction>
#include <QDockWidget>
#include <QGroupBox>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QtTest>

using namespace blocklens;

namespace {

QString qstr(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }

// Why the panel does not fit its scroll area ("" when it does): its minimum width, the room, and
// the widest of its columns and controls, for the failure message.
QString overflow(const QScrollArea& area, const ui::CompareView& view)
{
    const int needed = view.minimumSizeHint().width();
    const int room = area.viewport()->width();
    if (needed <= room && area.horizontalScrollBar()->maximum() == 0)
        return {};
    QStringList parts;
    for (const auto* box : view.findChildren<QGroupBox*>())
        if (box->isVisible())
            parts << QStringLiteral("%1 min %2").arg(box->objectName()).arg(box->minimumSizeHint().width());
    return QStringLiteral("the side by side needs %1 px, its dock's viewport has %2 (horizontal scroll range %3); %4")
        .arg(needed)
        .arg(room)
        .arg(area.horizontalScrollBar()->maximum())
        .arg(parts.join(QStringLiteral(", ")));
}

} // namespace

class TestSideBySideFit : public QObject, public test::WindowFixture {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        setUpWindowFixture();
        // The second model has a long name, as the bundled demo-block-distilled has: the third
        // column's title names it.
        besideDir_ = test::makeTestModel(tmp_, "tiny-llama-block-distilled-for-the-third-column", 8);
    }

    void fitsTheDockWithTwoAndThreeColumns_data()
    {
        QTest::addColumn<QSize>("screen");
        QTest::newRow("1366x768") << QSize(1366, 768);
        QTest::newRow("1500x940") << QSize(1500, 940); // the app's size in the README's screenshots
    }
    void fitsTheDockWithTwoAndThreeColumns()
    {
        QFETCH(QSize, screen);
        QSettings().clear(); // no saved geometry or dock layout: the default one
        ui::MainWindow window(tmp_.filePath(QStringLiteral("ws-%1.sqlite").arg(screen.width())));
        window.resize(screen);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.loadModel(qstr(modelDir_));
        openDocument(window);
        ui::CompareView* view = window.compareView();
        auto* dock = window.findChild<QDockWidget*>(QStringLiteral("compareDock"));
        QVERIFY(dock);
        auto* area = qobject_cast<QScrollArea*>(dock->widget());
        QVERIFY(area);
        test::prepareSideBySide(view, "What does block attention cache?", 4);
        // The longest preset repair: the block column's title names it.
        view->variantPicker()->setText(QStringLiteral("block-cached+recompute-frac:0.15"));

        QVERIFY(test::runSideBySide(window));
        QTest::qWait(250); // the layout settles after the texts changed
        QVERIFY(!view->findChild<QGroupBox*>(QStringLiteral("otherColumn"))->isVisible());
        QVERIFY2(overflow(*area, *view).isEmpty(), qPrintable(QStringLiteral("two columns: ") + overflow(*area, *view)));

        view->otherModelPicker()->setDirectory(qstr(besideDir_));
        QVERIFY(test::runSideBySide(window));
        QTest::qWait(250);
        QVERIFY(view->findChild<QGroupBox*>(QStringLiteral("otherColumn"))->isVisible());
        QVERIFY2(overflow(*area, *view).isEmpty(), qPrintable(QStringLiteral("three columns: ") + overflow(*area, *view)));
        QCOMPARE(window.size(), screen); // and the window did not grow for it

        // The race: scrolled to vertically, never sideways, even where the panel is wider than
        // its dock (a narrower window): ensureWidgetVisible centred the full-width race, cutting
        // off the left edge of the race and the columns.
        view->setMinimumWidth(area->viewport()->width() + 400);
        QTest::qWait(100);
        QVERIFY(area->horizontalScrollBar()->maximum() > 0);
        area->horizontalScrollBar()->setValue(0);
        area->verticalScrollBar()->setValue(0);
        QSignalSpy raced(view->race(), &ui::TtftRace::finished);
        window.action(QStringLiteral("raceTtft"))->trigger();
        QVERIFY(raced.wait(20000));
        QCOMPARE(area->horizontalScrollBar()->value(), 0);
        const QRect race(view->race()->mapTo(area->viewport(), QPoint(0, 0)), view->race()->size());
        QVERIFY2(area->viewport()->rect().intersects(race),
                 qPrintable(QStringLiteral("the race at y %1..%2 is outside the viewport's %3 px")
                                .arg(race.top())
                                .arg(race.bottom())
                                .arg(area->viewport()->height())));
    }

private:
    std::filesystem::path besideDir_;
};

QTEST_MAIN(TestSideBySideFit)
#include "test_side_by_side_fit.moc"
