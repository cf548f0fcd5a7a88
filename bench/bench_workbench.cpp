// Responsiveness of the workbench on a long document (issue 5): open + segment + first paint,
// a boundary edit updating view and metrics, and scrolling. Runs the real window offscreen.
//   bench_workbench [--chars N] [--segdev PATH]
// Prints a markdown table; times are wall clock on this machine (one core busy).
#include "annotation/annotation_session.hpp"
#include "document/dataset.hpp"
#include "document_pane.hpp"
#include "main_window.hpp"
#include "metrics_panel.hpp"

#include <QApplication>
#include <QElapsedTimer>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTextBlock>

#include <algorithm>
#include <cstdio>
#include <fstream>

using namespace blocklens;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? QByteArray("offscreen") : qgetenv("QT_QPA_PLATFORM"));
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("BlockLensBench"));
    std::size_t chars = 128000;
    std::string segdev = BLOCKLENS_SOURCE_DIR "/../shared/data/segdev.jsonl";
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == "--chars") chars = std::stoul(argv[++i]);
        else if (std::string(argv[i]) == "--segdev") segdev = argv[++i];
    }
    // A long English technical document made of dev-set documents, as a plain Markdown file.
    const Dataset ds = loadDataset(segdev);
    std::string text;
    for (const auto& d : ds.documents) {
        if (d.meta().lang != "en" || d.meta().variant != "structured")
            continue;
        text += d.text();
        text += "\n\n";
        if (utf8::countCodePoints(text) >= chars)
            break;
    }
    text = std::string(Document(text).slice(0, chars));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("long.md"));
    std::ofstream(path.toStdString(), std::ios::binary) << text;

    ui::MainWindow window;
    window.resize(1400, 900);
    window.show();
    QApplication::processEvents();

    // 1. open + segment + first paint
    QSignalSpy segmented(&window, &ui::MainWindow::segmentationShown);
    QElapsedTimer t;
    t.start();
    window.openPath(path);
    if (!segmented.wait(30000)) {
        std::fprintf(stderr, "segmentation did not finish\n");
        return 1;
    }
    window.repaint();
    const double openMs = t.nsecsElapsed() / 1e6;
    const std::size_t blocks = window.annotation()->boundaries().size() + 1;

    // 2. boundary edits: split at a line in the middle of the view, then undo; each one timed
    //    from the key action to the repainted view with updated metrics.
    ui::DocumentView* view = window.documentView();
    ui::DocumentPane* pane = window.documentPane();
    pane->scrollToCodePoint(chars / 2);
    QApplication::processEvents();
    std::vector<double> editMs;
    QAction* split = window.action(QStringLiteral("split"));
    QAction* undo = window.action(QStringLiteral("undo"));
    QTextBlock block = view->cursorForPosition(QPoint(0, 0)).block();
    for (int i = 0; i < 60; ++i) {
        block = block.next().isValid() ? block.next() : view->document()->firstBlock();
        QTextCursor c(view->document());
        c.setPosition(block.position());
        view->setTextCursor(c);
        for (QAction* a : {split, undo}) {
            QElapsedTimer e;
            e.start();
            a->trigger();
            view->viewport()->repaint();
            editMs.push_back(e.nsecsElapsed() / 1e6);
        }
    }

    // 3. scrolling: a quarter page per step through the whole document, each step repainted.
    std::vector<double> scrollMs;
    QScrollBar* bar = view->verticalScrollBar();
    const int step = std::max(1, bar->pageStep() / 4);
    for (int v = 0; v <= bar->maximum(); v += step) {
        QElapsedTimer e;
        e.start();
        bar->setValue(v);
        view->viewport()->repaint();
        pane->repaint();
        scrollMs.push_back(e.nsecsElapsed() / 1e6);
    }

    std::printf("| workbench, %zu-character document (%zu blocks) | median | max | target |\n", chars, blocks);
    std::printf("| --- | --- | --- | --- |\n");
    std::printf("| open + segment + first paint | %.1f ms | | < 500 ms |\n", openMs);
    std::printf("| boundary edit -> view + metrics (%zu edits) | %.2f ms | %.2f ms | < 16 ms |\n", editMs.size(), median(editMs),
                *std::max_element(editMs.begin(), editMs.end()));
    std::printf("| scroll step, repainted (%zu steps) | %.2f ms | %.2f ms | never stalls |\n", scrollMs.size(), median(scrollMs),
                scrollMs.empty() ? 0.0 : *std::max_element(scrollMs.begin(), scrollMs.end()));
    return 0;
}
