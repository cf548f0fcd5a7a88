#pragma once
// What a launch does beyond opening its file: the --action names run once the file is on screen
// and segmented, and with --screenshot the window is grabbed to a PNG once the work those actions
// started is done (each feature declares what "done" means: FeatureHost::setCompletion), then
// the app quits. Scripts (tools/screenshots.sh, scripts/run) drive the app this way.
namespace blocklens::ui {

class MainWindow;
struct LaunchOptions;

// Call before startWindow(): connects to the window's signals.
void scriptLaunch(MainWindow& window, const LaunchOptions& options);

} // namespace blocklens::ui
