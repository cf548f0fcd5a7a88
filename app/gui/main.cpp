// blocklens: the desktop app. A thin main; the window lives in ui/.
#include "launch_options.hpp"
#include "launch_script.hpp"
#include "main_window.hpp"
#include "store/store.hpp"
#include "util/error.hpp"
#include "util/signals.hpp"
#include "version.hpp"

#include <QApplication>
#include <QCommandLineParser>
#include <QStyleFactory>

#include <cstdio>

int main(int argc, char** argv)
{
    blocklens::ignoreFileSizeLimitSignal(); // a full file size limit is an error message, not a crash
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("BlockLens"));
    QApplication::setApplicationName(QStringLiteral("BlockLens"));
    QApplication::setApplicationVersion(QString::fromLatin1(blocklens::kVersion));
    // Fusion looks the same on every desktop and follows light and dark palettes.
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));

    QCommandLineParser parser;
    blocklens::ui::addLaunchOptions(parser);
    parser.process(app); // --help and --version print and exit here
    QString error;
    const std::optional<blocklens::ui::LaunchOptions> options = blocklens::ui::readLaunchOptions(parser, &error);
    if (!options) {
        std::fprintf(stderr, "blocklens: %s\n", qPrintable(error));
        return 2;
    }
    // For this run only: --dark and --light are not saved (View > Dark Theme is).
    blocklens::ui::applyLaunchTheme(*options);

    QString workspace;
    try {
        workspace = QString::fromStdString(blocklens::store::resolveWorkspacePath(
            options->db.isEmpty() ? std::nullopt : std::optional<std::string>(options->db.toStdString())).string());
    } catch (const blocklens::Error& e) {
        qWarning("%s (corrections will not be saved)", e.what());
    }
    blocklens::ui::MainWindow window(workspace);
    // --action and --screenshot (launch_script.hpp), then sized as asked, shown, the model loading,
    // and the file (else the demo document) opening.
    blocklens::ui::scriptLaunch(window, *options);
    blocklens::ui::startWindow(window, *options);
    return app.exec();
}
