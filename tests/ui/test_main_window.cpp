// Drives the real main window offscreen: open the demo document, a dataset and bad files.
#include "document_view.hpp"
#include "main_window.hpp"
#include "stats_panel.hpp"
#include "support/temp_files.hpp"

#include "dataset_browser.hpp"
#include "document_pane.hpp"
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

using namespace blocklens;

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("BlockLensTests"));
        QStandardPaths::setTestModeEnabled(true);
    }

    void opensTheDemoDocument()
    {
        ui::MainWindow window;
        window.show();
        QSignalSpy shown(&window, &ui::MainWindow::inputShown);
        const QString demo = QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/demo/block-attention.md");
        window.openPath(demo);
        QVERIFY(shown.wait(10000));
        QVERIFY(window.documentView()->toPlainText().startsWith(QStringLiteral("# Block attention")));
        QCOMPARE(window.statsPanel()->valueText(QStringLiteral("kind")), QStringLiteral("markdown"));
        QVERIFY(window.errorText().isEmpty());
        QVERIFY(window.windowTitle().contains(QStringLiteral("block-attention.md")));
    }

    void opensADatasetAndShowsReferenceBlocks()
    {
        QTemporaryDir dir;
        const auto path = test::writeFile(dir, "d.jsonl",
            "{\"id\": \"one\", \"category\": \"book\", \"variant\": \"plain\", \"text\": \"first\\nsecond\\nthird\", \"boundaries\": [{\"offset\": 6, \"level\": 1}, {\"offset\": 13, \"level\": 2}]}\n"
            "{\"id\": \"two\", \"text\": \"x \\ud83d\\ude00 y\\nz\", \"boundaries\": [5]}\n");
        ui::MainWindow window;
        window.show();
        QSignalSpy shown(&window, &ui::MainWindow::inputShown);
        window.openPath(QString::fromStdString(path.string()));
        QVERIFY(shown.wait(10000));
        QCOMPARE(window.datasetBrowser()->model()->rowCount(), 2);
        QCOMPARE(window.documentView()->boundaries().size(), std::size_t(2));
        QCOMPARE(window.documentView()->blockAt(12), 1);
        QCOMPARE(window.statsPanel()->valueText(QStringLiteral("blocks")), QStringLiteral("3"));
        // The second document has an emoji: code points and UTF-16 positions differ after it.
        window.datasetBrowser()->selectRow(1);
        QCOMPARE(window.documentView()->toUtf16(5), 6);
        QCOMPARE(window.documentView()->toCodePoint(6), std::size_t(5));
        QCOMPARE(window.documentView()->toCodePoint(2), std::size_t(2));
    }

    void badFilesShowAnErrorAndKeepTheOpenDocument_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("needle");
        QTest::newRow("binary") << "picture.png" << QByteArray("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16) << "binary";
        QTest::newRow("invalid utf8") << "bad.txt" << QByteArray("abc\xff") << "invalid UTF-8";
        QTest::newRow("malformed jsonl") << "d.jsonl" << QByteArray("{\"text\": \"a\"}\n{oops\n") << "d.jsonl:2";
        QTest::newRow("empty") << "empty.txt" << QByteArray() << "empty";
        QTest::newRow("200 MB file") << "huge.txt" << QByteArray("text") << "limit";
    }
    void badFilesShowAnErrorAndKeepTheOpenDocument()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, content);
        QFETCH(QString, needle);
        QTemporaryDir dir;
        ui::MainWindow window;
        window.show();
        QSignalSpy shown(&window, &ui::MainWindow::inputShown);
        QSignalSpy failed(&window, &ui::MainWindow::inputFailed);
        window.openPath(QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/demo/block-attention.md"));
        QVERIFY(shown.wait(10000));
        const QString before = window.documentView()->toPlainText();
        const auto bad = test::writeFile(dir, name.toStdString(), std::string_view(content.constData(), content.size()));
        if (name == QLatin1String("huge.txt"))
            std::filesystem::resize_file(bad, 200ull << 20); // sparse: 200 MB without writing them
        window.openPath(QString::fromStdString(bad.string()));
        QVERIFY(failed.wait(10000));
        QVERIFY2(window.errorText().contains(needle), qPrintable(window.errorText()));
        QCOMPARE(window.documentView()->toPlainText(), before);
    }

    // Issue 15 item 12: the invalid-UTF-8 banner offers the remedy it names, as a button.
    void invalidUtf8BannerOpensAnywayWithReplacement()
    {
        QTemporaryDir dir;
        const auto bad = test::writeFile(dir, "latin1.txt", "caf\xe9 au lait\nsecond line\n");
        ui::MainWindow window;
        window.show();
        QSignalSpy shown(&window, &ui::MainWindow::inputShown);
        QSignalSpy failed(&window, &ui::MainWindow::inputFailed);
        window.openPath(QString::fromStdString(bad.string()));
        QVERIFY(failed.wait(10000));
        QVERIFY2(window.errorText().contains(QStringLiteral("invalid UTF-8")), qPrintable(window.errorText()));
        QVERIFY2(window.errorText().contains(QStringLiteral("byte 3")), qPrintable(window.errorText()));
        QPushButton* button = window.bannerAction();
        QVERIFY2(button && button->isVisible(), "the banner offers Open Anyway");
        QVERIFY2(button->text().contains(QStringLiteral("U+FFFD")), qPrintable(button->text()));
        QTest::mouseClick(button, Qt::LeftButton);
        QVERIFY(shown.wait(10000));
        QCOMPARE(window.documentView()->toPlainText(), QStringLiteral("caf\uFFFD au lait\nsecond line\n"));
        // The replacement is reported (a notice, not an error) and the button is gone.
        QVERIFY2(window.errorText().contains(QStringLiteral("U+FFFD")), qPrintable(window.errorText()));
        QVERIFY(!button->isVisible());

        // Other errors offer no button.
        const auto empty = test::writeFile(dir, "empty.txt", "");
        window.openPath(QString::fromStdString(empty.string()));
        QVERIFY(failed.wait(10000));
        QVERIFY(!button->isVisible());
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
