// bench_app_start: how long the default start takes to show block attention working on the CPU —
// from the process start to the first side-by-side result (full + block-cached runs on the demo
// document with the bundled demo model), as `blocklens` does it: window, model loaded in the
// background, the document opened and segmented, the comparison run (24 generated tokens per mode).
//
//   bench_app_start [MODEL_DIR] [--repeat N]     (QT_QPA_PLATFORM=offscreen without a display)
//
// Rows: the first window (includes libtorch's first use) and N-1 more windows in the same process.
// The process start to main() is read from /proc (10 ms resolution).
#include "annotation/annotation_session.hpp"
#include "inference/compare_view.hpp"
#include "inference/demo_model.hpp"
#include "inference/inference_worker.hpp"
#include "main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

// Seconds since this process started, from /proc/self/stat (field 22, clock ticks since boot).
double secondsSinceProcessStart()
{
    std::ifstream stat("/proc/self/stat"), up("/proc/uptime");
    std::string s((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = s.rfind(')');
    std::istringstream rest(s.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
    }
    double uptime = 0;
    up >> uptime;
    return uptime - std::stod(field) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Timing {
    qint64 loaded = -1, segmented = -1, firstToken = -1, result = -1;
    double fullTtft = 0, blockTtft = 0, warmTtft = 0;
    qint64 tokens = 0, blocks = 0;
    QString error;
};

Timing startOnce(const QString& model, const QString& document)
{
    using namespace blocklens::ui;
    Timing t;
    QElapsedTimer clock;
    clock.start();
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    QEventLoop loop;
    QObject::connect(window.inferenceWorker(), &InferenceWorker::modelLoaded, &loop, [&] { t.loaded = clock.elapsed(); });
    QObject::connect(window.inferenceWorker(), &InferenceWorker::tokenStreamed, &loop, [&] {
        if (t.firstToken < 0)
            t.firstToken = clock.elapsed();
    });
    QObject::connect(&window, &MainWindow::segmentationShown, &loop, [&] {
        if (t.segmented >= 0)
            return;
        t.segmented = clock.elapsed();
        window.action(QStringLiteral("runComparison"))->trigger();
    });
    QObject::connect(window.compareView(), &CompareView::comparisonShown, &loop, [&] {
        t.result = clock.elapsed();
        const auto& r = *window.compareView()->lastReport();
        t.fullTtft = r.full.stats.ttftMs;
        t.blockTtft = r.block.stats.ttftMs;
        t.warmTtft = r.blockWarm.ttftMs;
        t.tokens = static_cast<qint64>(r.input.ids.size());
        t.blocks = static_cast<qint64>(r.input.blocks.size());
        loop.quit();
    });
    QObject::connect(window.compareView(), &CompareView::comparisonFailed, &loop, [&](const QString& m) {
        t.error = m;
        loop.quit();
    });
    QObject::connect(&window, &MainWindow::inputFailed, &loop, [&](const QString& m) {
        t.error = m;
        loop.quit();
    });
    window.loadModel(model);
    window.openPath(document);
    QTimer::singleShot(120000, &loop, [&] {
        t.error = QStringLiteral("no result after 120 s");
        loop.quit();
    });
    loop.exec();
    return t;
}

} // namespace

int main(int argc, char** argv)
{
    const double beforeMain = secondsSinceProcessStart();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("BlockLensBench"));
    QString model = blocklens::ui::findDemoModel();
    int repeat = 3;
    for (int i = 1; i < argc; ++i) {
        const QString a = QString::fromLocal8Bit(argv[i]);
        if (a == QLatin1String("--repeat") && i + 1 < argc)
            repeat = std::max(1, QString::fromLocal8Bit(argv[++i]).toInt());
        else
            model = a;
    }
    if (model.isEmpty()) {
        std::fprintf(stderr, "no model: give MODEL_DIR (no bundled demo model found in resources/models/demo)\n");
        return 1;
    }
    const QString document = QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/demo/block-attention.md");
    std::printf("model %s, document resources/demo/block-attention.md, process start to main(): %.0f ms\n", qPrintable(model),
                beforeMain * 1000);
    std::printf("%-7s %9s %10s %12s %14s %10s %10s %10s %7s\n", "window", "loaded", "segmented", "first token", "first result",
                "full TTFT", "block TTFT", "warm TTFT", "tokens");
    for (int i = 0; i < repeat; ++i) {
        const Timing t = startOnce(model, document);
        if (!t.error.isEmpty()) {
            std::fprintf(stderr, "failed: %s\n", qPrintable(t.error));
            return 1;
        }
        std::printf("%-7d %7lld ms %7lld ms %9lld ms %11lld ms %7.0f ms %7.0f ms %7.1f ms %7lld\n", i + 1,
                    static_cast<long long>(t.loaded), static_cast<long long>(t.segmented), static_cast<long long>(t.firstToken),
                    static_cast<long long>(t.result), t.fullTtft, t.blockTtft, t.warmTtft, static_cast<long long>(t.tokens));
    }
    std::printf("(window columns: ms from creating the window; the first row plus the process start is the app's launch to first result)\n");
    return 0;
}
