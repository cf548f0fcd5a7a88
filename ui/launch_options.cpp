#include "launch_options.hpp"

#include "demo_document.hpp"
#include "main_window.hpp"
#include "theme.hpp"
#if BLOCKLENS_WITH_TORCH
#include "inference/demo_model.hpp"
#endif

#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>

namespace blocklens::ui {
namespace {

const QString kDarkThemeKey = QStringLiteral("darkTheme"); // written by View > Dark Theme only

// "1400x900" -> QSize; invalid on anything else.
QSize parseSize(const QString& text)
{
    const QStringList wh = text.split(QLatin1Char('x'));
    if (wh.size() != 2)
        return {};
    bool okW = false, okH = false;
    const int w = wh[0].toInt(&okW), h = wh[1].toInt(&okH);
    return okW && okH && w > 0 && h > 0 ? QSize(w, h) : QSize();
}

} // namespace

void addLaunchOptions(QCommandLineParser& parser)
{
    parser.setApplicationDescription(QStringLiteral("Explore block attention."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("file"),
                                 QStringLiteral("Document or dataset (.jsonl) to open (default: the bundled demo document)."));
    parser.addOption({QStringLiteral("screenshot"), QStringLiteral("Render the window to PATH (PNG) once the file is shown, then quit."),
                      QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("size"), QStringLiteral("Window size for this run, e.g. 1366x768."), QStringLiteral("WxH")});
    parser.addOption({QStringLiteral("db"),
                      QStringLiteral("Workspace database where corrections are saved (default: $BLOCKLENS_DB or the user data folder)."),
                      QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("action"),
                      QStringLiteral("Trigger these window actions (by name, comma-separated, e.g. runComparison or "
                                     "compareSegmenters,shortcuts) once the file is segmented; with --screenshot, before grabbing."),
                      QStringLiteral("NAMES")});
    parser.addOption({QStringLiteral("dark"), QStringLiteral("Use the dark theme for this run (View > Dark Theme saves the choice).")});
    parser.addOption({QStringLiteral("light"), QStringLiteral("Use the light theme for this run.")});
#if BLOCKLENS_WITH_TORCH
    parser.addOption({QStringLiteral("model"),
                      QStringLiteral("Load this Hugging Face model directory at start (default: the bundled demo model, on the CPU)."),
                      QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("device"), QStringLiteral("Device for --model: cpu or cuda."), QStringLiteral("DEVICE"),
                      QStringLiteral("cpu")});
    parser.addOption({QStringLiteral("no-model"), QStringLiteral("Do not load the bundled demo model at start.")});
#endif
}

std::optional<LaunchOptions> readLaunchOptions(const QCommandLineParser& parser, QString* error)
{
    LaunchOptions o;
    if (!parser.positionalArguments().isEmpty())
        o.file = parser.positionalArguments().first();
    if (parser.isSet(QStringLiteral("dark")) && parser.isSet(QStringLiteral("light"))) {
        if (error)
            *error = QStringLiteral("--dark and --light: give one of them, not both");
        return std::nullopt;
    }
    if (parser.isSet(QStringLiteral("dark")))
        o.dark = true;
    else if (parser.isSet(QStringLiteral("light")))
        o.dark = false;
    if (parser.isSet(QStringLiteral("size"))) {
        o.size = parseSize(parser.value(QStringLiteral("size")));
        if (!o.size.isValid()) {
            if (error)
                *error = QStringLiteral("--size: expected WIDTHxHEIGHT in pixels, e.g. 1366x768, got '%1'").arg(parser.value(QStringLiteral("size")));
            return std::nullopt;
        }
    }
    o.db = parser.value(QStringLiteral("db"));
    o.screenshot = parser.value(QStringLiteral("screenshot"));
    o.actions = parser.value(QStringLiteral("action")).split(QLatin1Char(','), Qt::SkipEmptyParts);
#if BLOCKLENS_WITH_TORCH
    o.model = parser.value(QStringLiteral("model"));
    o.device = parser.value(QStringLiteral("device"));
    o.noModel = parser.isSet(QStringLiteral("no-model"));
#endif
    return o;
}

std::optional<LaunchOptions> parseLaunchOptions(const QStringList& arguments, QString* error)
{
    QCommandLineParser parser;
    addLaunchOptions(parser);
    if (!parser.parse(arguments)) {
        if (error)
            *error = parser.errorText();
        return std::nullopt;
    }
    return readLaunchOptions(parser, error);
}

bool launchUsesDarkTheme(const LaunchOptions& options)
{
    return options.dark.value_or(QSettings().value(kDarkThemeKey).toBool());
}

void applyLaunchTheme(const LaunchOptions& options)
{
    QApplication::setPalette(launchUsesDarkTheme(options) ? darkPalette() : lightPalette());
}

QString launchFile(const LaunchOptions& options)
{
    return options.file.isEmpty() ? findDemoDocument() : options.file;
}

void startWindow(MainWindow& window, const LaunchOptions& options)
{
    if (options.size.isValid())
        window.resize(options.size);
    window.show();
#if BLOCKLENS_WITH_TORCH
    // A model in the background: the one asked for, else the bundled demo model on the CPU.
    if (!options.model.isEmpty())
        window.loadModel(options.model, options.device);
    else if (!options.noModel)
        if (const QString demo = findDemoModel(); !demo.isEmpty())
            window.loadModel(demo, QStringLiteral("cpu"));
#endif
    if (const QString file = launchFile(options); !file.isEmpty())
        window.openPath(file);
}

} // namespace blocklens::ui
