// screenshot-diff: compares two screenshots pixel by pixel, for the before/after tables of
// tools/compare_screenshots.sh (issue 17: "the screenshots look the same").
//
//   screenshot-diff BEFORE.png AFTER.png [HIGHLIGHT.png]
//
// Prints one line: "size WxH" (or "size W1xH1 -> W2xH2" when they differ, then nothing else is
// compared), the share of pixels that differ by more than a small tolerance in any channel
// (antialiasing of the same text differs by a few levels), the mean absolute difference over all
// channels (0-255), and the bounding box of the differing pixels (x,y WxH) or "none".
// HIGHLIGHT, when given, is AFTER dimmed with the differing pixels in red: where to look.
// Exit status: 0 identical within the tolerance, 1 different, 2 unreadable input.
#include <QColor>
#include <QImage>
#include <QPainter>
#include <QRect>

#include <cstdio>
#include <cstdlib>

namespace {

constexpr int kTolerance = 8; // per channel, out of 255: rendering noise, not a visible change

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: screenshot-diff BEFORE.png AFTER.png [HIGHLIGHT.png]\n");
        return 2;
    }
    const QImage before = QImage(QString::fromLocal8Bit(argv[1])).convertToFormat(QImage::Format_RGB32);
    const QImage after = QImage(QString::fromLocal8Bit(argv[2])).convertToFormat(QImage::Format_RGB32);
    for (const auto& [image, path] : {std::pair{&before, argv[1]}, std::pair{&after, argv[2]}})
        if (image->isNull()) {
            std::fprintf(stderr, "screenshot-diff: %s: not a readable image\n", path);
            return 2;
        }
    if (before.size() != after.size()) {
        std::printf("size %dx%d -> %dx%d\n", before.width(), before.height(), after.width(), after.height());
        return 1;
    }
    QImage highlight;
    if (argc == 4) {
        highlight = after.copy();
        QPainter dim(&highlight);
        dim.fillRect(highlight.rect(), QColor(255, 255, 255, 170));
    }
    long long differing = 0;
    double absSum = 0;
    QRect box;
    for (int y = 0; y < after.height(); ++y) {
        const auto* a = reinterpret_cast<const QRgb*>(before.constScanLine(y));
        const auto* b = reinterpret_cast<const QRgb*>(after.constScanLine(y));
        for (int x = 0; x < after.width(); ++x) {
            const int dr = std::abs(qRed(a[x]) - qRed(b[x]));
            const int dg = std::abs(qGreen(a[x]) - qGreen(b[x]));
            const int db = std::abs(qBlue(a[x]) - qBlue(b[x]));
            absSum += dr + dg + db;
            if (dr > kTolerance || dg > kTolerance || db > kTolerance) {
                ++differing;
                box = box.united(QRect(x, y, 1, 1));
                if (!highlight.isNull())
                    highlight.setPixel(x, y, qRgb(230, 0, 0));
            }
        }
    }
    const double pixels = double(after.width()) * after.height();
    std::printf("size %dx%d differing %.2f%% mean-abs %.2f box %s\n", after.width(), after.height(), 100.0 * differing / pixels,
                absSum / (3 * pixels),
                box.isNull() ? "none" : qPrintable(QStringLiteral("%1,%2 %3x%4").arg(box.x()).arg(box.y()).arg(box.width()).arg(box.height())));
    if (!highlight.isNull() && !highlight.save(QString::fromLocal8Bit(argv[3]))) {
        std::fprintf(stderr, "screenshot-diff: cannot write %s\n", argv[3]);
        return 2;
    }
    return differing == 0 ? 0 : 1;
}
