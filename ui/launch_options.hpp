#pragma once
// What the command line asks of one launch of the desktop app (`blocklens [options] [file]`),
// parsed here rather than in app/gui/main.cpp so that tests can launch the way the app does.
// Command-line choices are for that run only: nothing here writes the user's settings (the
// theme chosen in View > Dark Theme is saved by that menu, not by --dark).
#include <QSize>
#include <QString>
#include <QStringList>

#include <optional>

class QCommandLineParser;

namespace blocklens::ui {

class MainWindow;

struct LaunchOptions {
    QString file;               // the document or dataset to open; empty: the demo document
    std::optional<bool> dark;   // --dark / --light; nullopt: the theme saved by View > Dark Theme
    QSize size;                 // --size WxH; invalid: the saved window geometry
    QString db;                 // --db PATH
    QString screenshot;         // --screenshot PATH
    QStringList actions;        // --action a,b,c
    QString model;              // --model DIR (builds with libtorch)
    QString device = QStringLiteral("cpu");
    bool noModel = false;       // --no-model
};

// Adds the app's options (and its help and version options) to `parser`.
void addLaunchOptions(QCommandLineParser& parser);
// Reads what `parser` parsed. Returns nullopt and a one-line message naming the option and the
// rule when a value is malformed (e.g. --size 1400 without a height).
std::optional<LaunchOptions> readLaunchOptions(const QCommandLineParser& parser, QString* error);
// Parses a full argument list (argv[0] first): for tests and for main().
std::optional<LaunchOptions> parseLaunchOptions(const QStringList& arguments, QString* error);

// Dark or light for this run: the flag when one is given, else the saved menu choice.
bool launchUsesDarkTheme(const LaunchOptions& options);
// Sets the application palette for this run (never saves the choice).
void applyLaunchTheme(const LaunchOptions& options);

// The file the window opens at start: the one named, else the bundled demo document (empty
// when neither exists).
QString launchFile(const LaunchOptions& options);

// Sizes the window as asked, shows it, loads the model (the one named, else the bundled demo
// model unless --no-model) and opens launchFile(). Connect to the window's signals first.
void startWindow(MainWindow& window, const LaunchOptions& options);

} // namespace blocklens::ui
