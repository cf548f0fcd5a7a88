// Launching the app as app/gui/main.cpp does (parse the command line, apply the theme, build the
// window, start it): a --dark flag is for its run only, a launch without a file opens the demo
// document, and --size is the window's size.
#include "document_view.hpp"
#include "experiments/experiments_browser.hpp"
#include "launch_options.hpp"
#include "launch_script.hpp"
#include "main_window.hpp"
#include "segmenter_panel.hpp"
#include "theme.hpp"
#include "support/temp_files.hpp"

#include <QAction>
#include <QApplication>
#include <QSettings>
#include <QSignalSpy>
#include <QtTest>

using namespace blocklens;

namespace {

ui::LaunchOptions parsed(QStringList args)
{
    args.prepend(QStringLiteral("blocklens"));
#if BLOCKLENS_WITH_TORCH
    args << QStringLiteral("--no-model"); // no model load competing for the CPU
#endif
    QString error;
    auto o = ui::parseLaunchOptions(args, &error);
    if (!o)
        qFatal("could not parse %s: %s", qPrintable(args.join(QLatin1Char(' '))), qPrintable(error));
    return *o;
}

bool paletteIsDark()
{
    return ui::Theme::fromPalette(QApplication::palette()).dark;
}

} // namespace

class TestLaunch : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("BlockLensTests"));
        QCoreApplication::setApplicationName(QStringLiteral("test_launch"));
        QStandardPaths::setTestModeEnabled(true);
    }
    void init() { QSettings().clear(); }

    // Issue 15 item 13: `blocklens --dark` then `blocklens`: the second launch is light.
    void darkFlagIsForItsRunOnly()
    {
        ui::applyLaunchTheme(parsed({QStringLiteral("--dark")}));
        {
            ui::MainWindow window;
            QVERIFY(paletteIsDark());
            QVERIFY2(window.action(QStringLiteral("darkTheme"))->isChecked(), "View > Dark Theme shows the theme of this run");
        }
        QVERIFY2(!QSettings().contains(QStringLiteral("darkTheme")), "a command-line flag must not be saved");

        ui::applyLaunchTheme(parsed({}));
        ui::MainWindow window;
        QVERIFY2(!paletteIsDark(), "the launch after --dark, without the flag, is light");
        QVERIFY(!window.action(QStringLiteral("darkTheme"))->isChecked());
    }

    // The menu choice is what persists; --light still wins over it for one run.
    void menuChoicePersistsAndFlagsOverrideIt()
    {
        ui::applyLaunchTheme(parsed({}));
        {
            ui::MainWindow window;
            window.action(QStringLiteral("darkTheme"))->trigger();
            QVERIFY(paletteIsDark());
        }
        ui::applyLaunchTheme(parsed({}));
        QVERIFY2(paletteIsDark(), "View > Dark Theme is remembered");
        ui::applyLaunchTheme(parsed({QStringLiteral("--light")}));
        QVERIFY(!paletteIsDark());
        ui::applyLaunchTheme(parsed({}));
        QVERIFY2(paletteIsDark(), "--light did not overwrite the saved choice");
        ui::applyLaunchTheme(parsed({QStringLiteral("--light")})); // leave the other tests light
    }

    // Issue 15 item 10: `blocklens` with no file opens the demo document.
    void noFileOpensTheDemoDocument()
    {
        const ui::LaunchOptions options = parsed({});
        QVERIFY(options.file.isEmpty());
        const QString demo = ui::launchFile(options);
        QVERIFY2(demo.endsWith(QStringLiteral("/demo/block-attention.md")), qPrintable(demo));
        ui::MainWindow window;
        QSignalSpy shown(&window, &ui::MainWindow::inputShown);
        ui::startWindow(window, options);
        QVERIFY(shown.wait(10000));
        QCOMPARE(shown.first().first().toString(), demo);
        QVERIFY(window.documentView()->toPlainText().startsWith(QStringLiteral("# Block attention")));
        QVERIFY(window.windowTitle().contains(QStringLiteral("block-attention.md")));
    }

    void aNamedFileIsOpenedInsteadOfTheDemo()
    {
        QTemporaryDir dir;
        const QString path = QString::fromStdString(test::writeFile(dir, "notes.txt", "my own notes\n").string());
        const ui::LaunchOptions options = parsed({path});
        QCOMPARE(ui::launchFile(options), path);
        ui::MainWindow window;
        QSignalSpy shown(&window, &ui::MainWindow::inputShown);
        ui::startWindow(window, options);
        QVERIFY(shown.wait(10000));
        QCOMPARE(window.documentView()->toPlainText(), QStringLiteral("my own notes\n"));
    }

    void sizeOptionSizesTheWindow()
    {
        const ui::LaunchOptions options = parsed({QStringLiteral("--size"), QStringLiteral("1366x768")});
        QCOMPARE(options.size, QSize(1366, 768));
        ui::MainWindow window;
        QSignalSpy shown(&window, &ui::MainWindow::inputShown);
        ui::startWindow(window, options);
        QVERIFY(shown.wait(10000));
        QTest::qWait(100);
        QCOMPARE(window.size(), QSize(1366, 768));
    }

    // --action: the actions run once, when the file is first on screen and segmented; a later
    // segmentation does not run them again (compareSegmenters toggles, so twice would undo it).
    void actionsRunOnceWhenTheFileIsSegmented()
    {
        QTemporaryDir dir;
        const QString path = QString::fromStdString(test::writeFile(dir, "notes.txt", "one\n\ntwo\n\nthree\n").string());
        const ui::LaunchOptions options = parsed({QStringLiteral("--action"), QStringLiteral("compareSegmenters"), path});
        ui::MainWindow window;
        ui::scriptLaunch(window, options);
        QSignalSpy segmented(&window, &ui::MainWindow::segmentationShown);
        ui::startWindow(window, options);
        QVERIFY(segmented.wait(10000));
        QVERIFY(window.action(QStringLiteral("compareSegmenters"))->isChecked());
        window.segmenterPanel()->setSegmenter(QStringLiteral("fixed"));
        QVERIFY(segmented.wait(10000));
        QVERIFY(window.action(QStringLiteral("compareSegmenters"))->isChecked());
    }

    // --screenshot with an action that works in the background: the window is saved once that
    // work is done (here the experiments browser has read the workspace), not before.
    void screenshotWaitsForTheActionsWork()
    {
        QTemporaryDir dir;
        const QString path = QString::fromStdString(test::writeFile(dir, "notes.txt", "one\n\ntwo\n").string());
        const QString out = dir.filePath(QStringLiteral("shot.png"));
        const ui::LaunchOptions options =
            parsed({QStringLiteral("--action"), QStringLiteral("openExperiments"), QStringLiteral("--screenshot"), out, path});
        ui::MainWindow window(dir.filePath(QStringLiteral("workspace.db")));
        QVERIFY(window.completion(QStringLiteral("openExperiments")));
        QVERIFY(!window.completion(QStringLiteral("split"))); // done at once: nothing to wait for
        QSignalSpy loaded(window.experimentsBrowser(), &ui::ExperimentsBrowser::loaded);
        QSignalSpy failed(window.experimentsBrowser(), &ui::ExperimentsBrowser::loadFailed);
        ui::scriptLaunch(window, options);
        ui::startWindow(window, options);
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(out), 15000);
        QVERIFY(loaded.count() + failed.count() >= 1);
        QVERIFY(QImage(out).width() > 100);
    }

    void malformedOptionsAreRefusedWithTheRule_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("needle");
        QTest::newRow("size without height") << QStringList{QStringLiteral("--size"), QStringLiteral("1400")} << "--size";
        QTest::newRow("size not numbers") << QStringList{QStringLiteral("--size"), QStringLiteral("bigxsmall")} << "WIDTHxHEIGHT";
        QTest::newRow("dark and light") << QStringList{QStringLiteral("--dark"), QStringLiteral("--light")} << "--dark and --light";
    }
    void malformedOptionsAreRefusedWithTheRule()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, needle);
        args.prepend(QStringLiteral("blocklens"));
        QString error;
        QVERIFY(!ui::parseLaunchOptions(args, &error));
        QVERIFY2(error.contains(needle), qPrintable(error));
    }
};

QTEST_MAIN(TestLaunch)
#include "test_launch.moc"
