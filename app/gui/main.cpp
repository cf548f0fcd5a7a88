// blocklens: the desktop app. A thin main; the window lives in ui/.
#include "main_window.hpp"
#include "experiments/experiments_browser.hpp"
#if BLOCKLENS_WITH_TORCH
#include "inference/compare_view.hpp"
#include "inference/demo_model.hpp"
#include "inference/ttft_race.hpp"
#endif
#include "theme.hpp"
#include "store/store.hpp"
#include "util/error.hpp"
#include "util/signals.hpp"
#include "version.hpp"

#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>
#include <QStyleFactory>
#include <QAction>
#include <QTimer>

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
    const QCommandLineOption action(QStringLiteral("action"),
                                    QStringLiteral("Trigger these window actions (by name, comma-separated, e.g. runComparison or "
                                                   "compareSegmenters,shortcuts) once the file is segmented; with --screenshot, before grabbing."),
                                    QStringLiteral("NAMES"));
    const QCommandLineOption dark(QStringLiteral("dark"), QStringLiteral("Use the dark theme (View > Dark Theme)."));
    const QCommandLineOption light(QStringLiteral("light"), QStringLiteral("Use the light theme."));
#if BLOCKLENS_WITH_TORCH
    const QCommandLineOption model(QStringLiteral("model"),
                                   QStringLiteral("Load this Hugging Face model directory at start (default: the bundled demo model, on the CPU)."),
                                   QStringLiteral("DIR"));
    const QCommandLineOption device(QStringLiteral("device"), QStringLiteral("Device for --model: cpu or cuda."), QStringLiteral("DEVICE"),
                                    QStringLiteral("cpu"));
    const QCommandLineOption noModel(QStringLiteral("no-model"), QStringLiteral("Do not load the bundled demo model at start."));
    parser.addOption(model);
    parser.addOption(device);
    parser.addOption(noModel);
#endif
    parser.addOption(dark);
    parser.addOption(light);
    parser.addOption(db);
    parser.addOption(action);
    parser.addOption(screenshot);
    parser.addOption(size);
    parser.process(app);

    // The theme the user chose last time, unless the command line says otherwise.
    const bool useDark = parser.isSet(dark) || (!parser.isSet(light) && QSettings().value(QStringLiteral("darkTheme")).toBool());
    QApplication::setPalette(useDark ? blocklens::ui::darkPalette() : blocklens::ui::lightPalette());
    if (parser.isSet(dark) || parser.isSet(light))
        QSettings().setValue(QStringLiteral("darkTheme"), useDark);

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
#if BLOCKLENS_WITH_TORCH
    // A model in the background: the one asked for, else the bundled demo model on the CPU.
    if (parser.isSet(model))
        window.loadModel(parser.value(model), parser.value(device));
    else if (!parser.isSet(noModel))
        if (const QString demo = blocklens::ui::findDemoModel(); !demo.isEmpty())
            window.loadModel(demo, QStringLiteral("cpu"));
#endif
    if (parser.isSet(screenshot)) {
        // Headless screenshots for the docs: wait for the file and its segmentation, run the
        // requested actions, let the layout settle, grab the window, quit.
        const QString out = parser.value(screenshot);
        const QStringList actions = parser.value(action).split(QLatin1Char(','), Qt::SkipEmptyParts);
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
        if (parser.positionalArguments().isEmpty())
            grab();
    }
    else if (parser.isSet(action)) {
        // Without a screenshot: the actions run once, when the file is first on screen and
        // segmented (scripts/run starts the side-by-side comparison on the demo this way).
        const QStringList actions = parser.value(action).split(QLatin1Char(','), Qt::SkipEmptyParts);
        auto once = std::make_shared<bool>(false);
        QObject::connect(&window, &blocklens::ui::MainWindow::segmentationShown, &window, [&window, actions, once] {
            if (!std::exchange(*once, true))
                triggerActions(window, actions);
        });
    }
    if (!parser.positionalArguments().isEmpty())
        window.openPath(parser.positionalArguments().first());
    return app.exec();
}
