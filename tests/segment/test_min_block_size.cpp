// Issue 20 (item 4): the minimum block size is honoured by every segmenter and every decoder it
// uses, as the maximum is: no built-in segmenter cuts a Python module's lone "#" comment lines
// into blocks of their own, whether asked for its defaults, a target size or a threshold.
// (An explicit block count is the one exception: "exactly N blocks" wins, see Segmenter::segment.)
#include "document/document.hpp"
#include "segment/segmenter.hpp"
#include "segment/token_grid.hpp"
#include "usecases/segmenters.hpp"

#include <QtTest>

#include <string>

using namespace blocklens;
using namespace blocklens::segment;

namespace {

// Definitions separated by runs of lone "#" lines and blank lines: every "#" line is a candidate
// (a line start, a comment above a definition) that some scorers rate highly.
std::string pythonWithLoneHashes()
{
    std::string s = "import os\nimport sys\n\n";
    for (int i = 0; i < 40; ++i) { // about 1,700 tokens: several blocks even at the default sizes
        const std::string n = std::to_string(i);
        s += "#\n#\n\n#\ndef f" + n + "(x, y):\n    \"\"\"Return x plus " + n + ".\"\"\"\n    z = x + y * " + n
             + "\n    return z\n\n#\n\nclass C" + n + ":\n    def m(self):\n        return " + n + "\n\n";
    }
    return s;
}

} // namespace

class TestMinBlockSize : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void noSegmenterChoosesOneTokenBlocks()
    {
        for (const Segmenter& s : builtinSegmenters())
            QVERIFY2(s.spec().minTokens >= 2, qPrintable(QString::fromStdString(s.name()) + " allows one-token blocks"));
    }

    void everySegmenterKeepsItsMinimum_data()
    {
        QTest::addColumn<QString>("segmenter");
        QTest::addColumn<int>("mode");
        for (const Segmenter& s : builtinSegmenters()) {
            const QString n = QString::fromStdString(s.name());
            QTest::newRow(qPrintable(n + " default")) << n << 0;
            QTest::newRow(qPrintable(n + " target 40")) << n << 1;
            if (s.spec().scorer)
                QTest::newRow(qPrintable(n + " threshold 0.3 depth 2")) << n << 2;
        }
    }

    void everySegmenterKeepsItsMinimum()
    {
        QFETCH(QString, segmenter);
        QFETCH(int, mode);
        const Segmenter& s = findSegmenter(segmenter.toStdString());
        const Document doc(pythonWithLoneHashes());
        const TokenGrid grid = TokenGrid::approximate(doc);
        SegmentOptions o;
        if (s.name() == "regex")
            o.regex = "^#"; // a cut at every "#" line asked for: the minimum still joins them
        if (mode == 1)
            o.granularity = Granularity::target(40);
        else if (mode == 2)
            o.granularity = Granularity::thresholdDepth(0.3, 2);
        const Segmentation seg = s.segment(doc, grid, o);
        QVERIFY(seg.blocks.size() >= 2);
        const std::size_t minT = s.spec().minTokens; // the maximum (4096) never forbids a merge here
        for (const Block& b : seg.blocks) {
            const std::string text = doc.text().substr(b.begin, b.end - b.begin); // ASCII: code points = bytes
            QVERIFY2(b.tokens() >= minT, qPrintable(QString("block of %1 tokens < minimum %2: \"%3\"")
                                                        .arg(b.tokens()).arg(minT).arg(QString::fromStdString(text))));
            QVERIFY2(text.find_first_not_of("#\n ") != std::string::npos,
                     qPrintable(QString("a block of only \"#\" lines: \"%1\"").arg(QString::fromStdString(text))));
        }
    }
};

QTEST_GUILESS_MAIN(TestMinBlockSize)
#include "test_min_block_size.moc"
