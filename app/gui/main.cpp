// blocklens: the desktop app. A thin main; the window lives in ui/.
#include "main_window.hpp"
#include "store/store.hpp"
#include "util/error.hpp"
#include "version.hpp"

#include <QApplication>
#include <QCommandLineParser>
#include <QStyleFactory>
#include <QTimer>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("BlockLens"));
    QApplication::setApplicationName(QStringLiteral("BlockLens"));
    QApplication::setApplicationVersion(QString::fromLatin1(blocklens::kVersion));
    // Fusion looks the same on every desktop and follows light and dark palettes.
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Explore block attention."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("Document or dataset (.jsonl) to open."));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Render the window to PATH (PNG) once the file is shown, then quit."),
                                        QStringLiteral("PATH"));
    const QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Window size, e.g. 1400x900."), QStringLiteral("WxH"));
    const QCommandLineOption db(QStringLiteral("db"),
                                QStringLiteral("Workspace database where corrections are saved (default: $BLOCKLENS_DB or the user data folder)."),
                                QStringLiteral("PATH"));
    parser.addOption(db);
    parser.addOption(screenshot);
    parser.addOption(size);
    parser.process(app);

    QString workspace;
    try {
        workspace = QString::fromStdString(blocklens::store::resolveWorkspacePath(
            parser.isSet(db) ? std::optional<std::string>(parser.value(db).toStdString()) : std::nullopt).string());
    } catch (const blocklens::Error& e) {
        qWarning("%s (corrections will not be saved)", e.what());
    }
    blocklens::ui::MainWindow window(workspace);
    if (parser.isSet(size)) {
        const QStringList wh = parser.value(size).split(QLatin1Char('x'));
        if (wh.size() == 2)
            window.resize(wh[0].toInt(), wh[1].toInt());
    }
    window.show();
    if (parser.isSet(screenshot)) {
        const QString out = parser.value(screenshot);
        auto grab = [&window, out] {
            // Let layouts and the first paint settle before grabbing.
            QTimer::singleShot(300, &window, [&window, out] {
                const bool ok = window.grab().save(out);
                QApplication::exit(ok ? 0 : 1);
            });
        };
        QObject::connect(&window, &blocklens::ui::MainWindow::inputShown, &window, grab);
        QObject::connect(&window, &blocklens::ui::MainWindow::inputFailed, &window, grab);
        if (parser.positionalArguments().isEmpty())
            grab();
    }
    if (!parser.positionalArguments().isEmpty())
        window.openPath(parser.positionalArguments().first());
    return app.exec();
}
