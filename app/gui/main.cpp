// blocklens: the desktop app. A thin main; the window lives in ui/.
#include "main_window.hpp"
#include "experiments/experiments_browser.hpp"
#if BLOCKLENS_WITH_TORCH
#include "inference/compare_view.hpp"
#include "inference/ttft_race.hpp"
#endif
#include "launch_options.hpp"
#include "theme.hpp"
#include "store/store.hpp"
#include "util/error.hpp"
#include "util/signals.hpp"
#include "version.hpp"

#include <QApplication>
#include <QCommandLineParser>
#include <QStyleFactory>
#include <QAction>
#include <QTimer>

#include <cstdio>
#include <memory>
#include <utility>

namespace {

// The window's actions named on the command line (--action), in order.
void triggerActions(blocklens::ui::MainWindow& window, const QStringList& names)
{
    for (const QString& name : names)
        if (QAction* a = window.action(name))
            a->trigger();
        else
            qWarning("no action named %s", qPrintable(name));
}

} // namespace

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
    const QString file = blocklens::ui::launchFile(*options);
    if (!options->screenshot.isEmpty()) {
        // Headless screenshots for the docs: wait for the file and its segmentation, run the
        // requested actions, let the layout settle, grab the window, quit.
        const QString out = options->screenshot;
        const QStringList actions = options->actions;
        auto grab = [&window, out] {
            QTimer::singleShot(400, &window, [&window, out] {
                const bool ok = window.grab().save(out);
                QApplication::exit(ok ? 0 : 1);
            });
        };
        auto once = std::make_shared<bool>(false);
        auto ready = [&window, actions, grab, once] {
            if (*once)
                return;
            *once = true;
            triggerActions(window, actions);
            // A review queue or comparison tracks finish in the background: wait for them.
            if (actions.contains(QStringLiteral("reviewQueue")))
                QObject::connect(&window, &blocklens::ui::MainWindow::reviewQueueReady, &window, grab);
#if BLOCKLENS_WITH_TORCH
            // A side-by-side run: wait for its result (and for the race to reach the finish).
            else if (actions.contains(QStringLiteral("runComparison")) || actions.contains(QStringLiteral("raceTtft"))) {
                auto* view = window.compareView();
                QObject::connect(view, &blocklens::ui::CompareView::comparisonFailed, &window, grab);
                if (actions.contains(QStringLiteral("raceTtft")))
                    QObject::connect(view->race(), &blocklens::ui::TtftRace::finished, &window, grab);
                else
                    QObject::connect(view, &blocklens::ui::CompareView::comparisonShown, &window, grab);
            }
            // A heatmap: wait for the capture on the inference worker.
            else if (actions.contains(QStringLiteral("analyseAttention"))) {
                QObject::connect(&window, &blocklens::ui::MainWindow::attentionShown, &window, grab);
                QObject::connect(&window, &blocklens::ui::MainWindow::attentionFailed, &window, grab);
            }
#endif
            // The experiments browser reads the workspace in the background.
            else if (actions.contains(QStringLiteral("openExperiments"))) {
                auto* browser = window.experimentsBrowser();
                QObject::connect(browser, &blocklens::ui::ExperimentsBrowser::loaded, &window, grab);
                QObject::connect(browser, &blocklens::ui::ExperimentsBrowser::loadFailed, &window, grab);
            }
            else
                QTimer::singleShot(actions.isEmpty() ? 0 : 1500, &window, grab);
        };
        QObject::connect(&window, &blocklens::ui::MainWindow::segmentationShown, &window, ready);
        QObject::connect(&window, &blocklens::ui::MainWindow::inputFailed, &window, grab);
        if (file.isEmpty())
            QTimer::singleShot(0, &window, grab);
    }
    else if (!options->actions.isEmpty()) {
        // Without a screenshot: the actions run once, when the file is first on screen and
        // segmented (scripts/run starts the side-by-side comparison on the demo this way).
        const QStringList actions = options->actions;
        auto once = std::make_shared<bool>(false);
        QObject::connect(&window, &blocklens::ui::MainWindow::segmentationShown, &window, [&window, actions, once] {
            if (!std::exchange(*once, true))
                triggerActions(window, actions);
        });
    }
    // Sized as asked, shown, the model loading, and the file (else the demo document) opening.
    blocklens::ui::startWindow(window, *options);
    return app.exec();
}
