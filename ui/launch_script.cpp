#include "launch_script.hpp"

#include "launch_options.hpp"
#include "main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QTimer>

#include <memory>
#include <utility>

namespace blocklens::ui {
namespace {

// The window's actions named on the command line, in order.
void triggerActions(MainWindow& window, const QStringList& names)
{
    for (const QString& name : names)
        if (QAction* a = window.action(name))
            a->trigger();
        else
            qWarning("no action named %s", qPrintable(name));
}

// What finishing the actions means: the last named action that starts background work (e.g.
// openExperiments in "openExperiments,experimentsTtftChart"); empty when none does.
FeatureHost::Completion completionOf(const MainWindow& window, const QStringList& actions)
{
    for (auto it = actions.rbegin(); it != actions.rend(); ++it)
        if (auto completion = window.completion(*it))
            return completion;
    return {};
}

} // namespace

void scriptLaunch(MainWindow& window, const LaunchOptions& options)
{
    const QStringList actions = options.actions;
    auto once = std::make_shared<bool>(false);
    if (options.screenshot.isEmpty()) {
        // The actions run once, when the file is first on screen and segmented (scripts/run
        // starts the side-by-side comparison on the demo this way).
        if (!actions.isEmpty())
            QObject::connect(&window, &MainWindow::segmentationShown, &window, [&window, actions, once] {
                if (!std::exchange(*once, true))
                    triggerActions(window, actions);
            });
        return;
    }
    // Headless screenshots for the docs: wait for the file and its segmentation, run the actions,
    // wait for their work, let the layout settle, grab the window, quit.
    auto grab = [&window, out = options.screenshot] {
        QTimer::singleShot(400, &window, [&window, out] {
            const bool ok = window.grab().save(out);
            QApplication::exit(ok ? 0 : 1);
        });
    };
    QObject::connect(&window, &MainWindow::segmentationShown, &window, [&window, actions, grab, once] {
        if (std::exchange(*once, true))
            return;
        if (const auto completion = completionOf(window, actions)) {
            completion(&window, grab); // first: an action may fail at once (e.g. no model)
            triggerActions(window, actions);
        } else {
            triggerActions(window, actions);
            QTimer::singleShot(actions.isEmpty() ? 0 : 1500, &window, grab);
        }
    });
    QObject::connect(&window, &MainWindow::inputFailed, &window, grab);
    if (launchFile(options).isEmpty())
        QTimer::singleShot(0, &window, grab);
}

} // namespace blocklens::ui
