// The learned segmenter without training: features, the model file and its errors, the shipped
// default model.
#include "document/dataset.hpp"
#include "learn/boundary_model.hpp"
#include "learn/examples.hpp"
#include "learn/features.hpp"
#include "learn/learned_scorer.hpp"
#include "segment/evaluation.hpp"
#include "usecases/segmenters.hpp"
#include "support/temp_files.hpp"
#include "synthetic.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

using namespace blocklens;
using namespace blocklens::learn;

namespace {

const char* kMixed = "# Guide\n\nIntro paragraph with some words about the guide.\n\n## Install\n\n"
                     "Run the installer and wait.\nIt takes a while.\n\n\n\nINSTALLING BY HAND\n\n"
                     "    make && make install\n\n1.2 Configure\n\nEdit the file. Then restart.\n\n"
                     "```python\n# not a heading\ndef f(x):\n    return x\n```\n\n"
                     "@decorator\ndef top(a, b):\n    return a + b\n\nclass Thing:\n    def method(self):\n"
                     "        pass\n\n- a bullet\n- another bullet\n\nDas Ende, nicht wahr? \xC3\x9C\xC3\xA9\xE2\x80\xA6 fin.";

FeatureMatrix featuresOf(const Document& doc)
{
    using namespace segment;
    const TextLayout layout(doc);
    const auto shapes = lineShapes(layout);
    const auto candidates = findCandidates(layout, shapes, {learnedSpec(nullptr).rules, {}});
    const auto grid = TokenGrid::approximate(doc);
    return computeFeatures(SegmentContext{doc, layout, shapes, grid}, candidates);
}

// The value of feature `name` for the candidate that starts the line `line` of `text` (-1: no
// candidate there).
double featureAtLine(const std::string& text, std::string_view line, std::string_view name)
{
    using namespace segment;
    const Document doc(text);
    const TextLayout layout(doc);
    const auto shapes = lineShapes(layout);
    const auto candidates = findCandidates(layout, shapes, {learnedSpec(nullptr).rules, {}});
    const FeatureMatrix m = computeFeatures(SegmentContext{doc, layout, shapes, TokenGrid::approximate(doc)}, candidates);
    const auto names = featureNames();
    const auto col = static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
    const std::size_t offset = text.find(std::string(line) + "\n");
    for (std::size_t r = 0; r < candidates.size(); ++r)
        if (candidates[r].offset == offset)
            return static_cast<double>(m.at(r, col));
    return -1.0;
}

// A small model over every feature, with deterministic pseudo-random weights.
BoundaryModel randomModel(std::size_t hidden, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    BoundaryModel m;
    for (auto n : featureNames())
        m.features.emplace_back(n);
    const std::size_t f = m.features.size();
    for (std::size_t i = 0; i < f; ++i) {
        m.mean.push_back(normal(rng));
        m.scale.push_back(0.5f + std::abs(normal(rng)));
    }
    std::size_t in = f;
    for (std::size_t out : {hidden, std::size_t(1)}) {
        if (out == 0)
            continue;
        DenseLayer l;
        l.in = in;
        l.out = out;
        for (std::size_t k = 0; k < in * out; ++k)
            l.weight.push_back(normal(rng));
        for (std::size_t k = 0; k < out; ++k)
            l.bias.push_back(normal(rng));
        m.layers.push_back(l);
        in = out;
    }
    m.scoreOffset = 0.25;
    m.training = {{"note", "test"}};
    return m;
}

// The Error a model file with these bytes gives (empty if it loads).
std::string loadError(const QTemporaryDir& dir, const std::string& bytes)
{
    const auto p = test::writeFile(dir, "model.json", bytes);
    try {
        (void)BoundaryModel::load(p);
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

} // namespace

class TestLearnModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void featureNamesAreUnique()
    {
        const auto names = featureNames();
        QVERIFY(names.size() >= 40);
        std::set<std::string_view> unique(names.begin(), names.end());
        QCOMPARE(unique.size(), names.size());
    }

    void featuresAreDeterministicAndFinite_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("mixed markdown, code and prose") << QString::fromUtf8(kMixed);
        QTest::newRow("synthetic") << QString::fromStdString(test::syntheticDocument(7).text());
        QTest::newRow("one line") << QStringLiteral("just one line");
        QTest::newRow("blank lines only") << QStringLiteral("\n\n\n\n");
        QTest::newRow("no letters") << QStringLiteral("1\n2\n\n3\n-\n\n\n+ 4");
        QTest::newRow("CRLF and tabs") << QStringLiteral("A title\r\n\r\n\tindented text\r\nmore\r\n\r\nB\r\n");
    }
    void featuresAreDeterministicAndFinite()
    {
        QFETCH(QString, text);
        const Document doc(text.toStdString());
        const FeatureMatrix a = featuresOf(doc);
        const FeatureMatrix b = featuresOf(doc);
        QCOMPARE(a.cols, featureNames().size());
        QCOMPARE(a.values.size(), a.rows * a.cols);
        QVERIFY(a.values == b.values);
        for (std::size_t r = 0; r < a.rows; ++r)
            for (std::size_t c = 0; c < a.cols; ++c)
                QVERIFY2(std::isfinite(a.at(r, c)),
                         qPrintable(QStringLiteral("row %1, %2").arg(r).arg(QString::fromUtf8(featureNames()[c].data()))));
    }

    // Source code and Markdown code fences are told apart: a `# comment` of a Python file and a
    // `## Title` between fenced examples must not share one "code" share (the markdown fold).
    void definitionAndFenceSharesAreApart()
    {
        auto share = [](const char* text, std::string_view name) {
            const FeatureMatrix m = featuresOf(Document(text));
            const auto names = featureNames();
            const auto col = static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
            return col < m.cols && m.rows > 0 ? static_cast<double>(m.at(0, col)) : -1.0;
        };
        const char* markdown = "## Build\n\nRun it:\n\n```python\n# set up\ndef main():\n    pass\n```\n\n"
                               "## Test\n\nThen:\n\n```sh\n# run\nmake test\n```\n";
        const char* python = "# set up\nimport os\n\n\ndef main():\n    pass\n\n\n# run\nclass Test:\n    pass\n";
        QCOMPARE(share(markdown, "doc_definition_share"), 0.0); // the def is inside a fence
        QVERIFY(share(markdown, "doc_fence_share") > 0.5);
        QVERIFY(share(python, "doc_definition_share") > 0.2);
        QCOMPARE(share(python, "doc_fence_share"), 0.0);
    }

    // The line that opens a code fence may start a block (a section that begins with an example,
    // or whose heading was removed); the lines inside it up to the closing one never do: two
    // features, not one `fence` flag for all of them (the markdown fold of docs/benchmarks.md).
    void fenceOpeningLineIsApartFromTheLinesInside()
    {
        const std::string text = "Intro text here.\n\n```sh\nmake\n\nmake test\n```\n```python\nx = 1\n```\n\nAfter it.\n";
        auto at = [&](std::string_view line, std::string_view feature) { return featureAtLine(text, line, feature); };
        QCOMPARE(at("```sh", "fence_open"), 1.0);
        QCOMPARE(at("```sh", "fence_inside"), 0.0);
        QCOMPARE(at("make test", "fence_open"), 0.0);
        QCOMPARE(at("make test", "fence_inside"), 1.0); // after a blank line inside the fence
        QCOMPARE(at("```python", "fence_open"), 1.0);  // right after the previous fence closed
        QCOMPARE(at("x = 1", "fence_inside"), 1.0);
        QCOMPARE(at("After it.", "fence_open"), 0.0);
        QCOMPARE(at("After it.", "fence_inside"), 0.0);
        QVERIFY(isLegacyFeature("fence") && !isLegacyFeature("fence_open") && !isLegacyFeature("fence_inside"));
    }

    // A `# Title` that heads `##` and `###` sections is told from a lone `# ...` line (a root
    // prompt in a book, a comment in a script) by the deeper atx levels the document uses.
    void atxLevelsBelowCountsTheDeeperLevelsInUse()
    {
        auto first = [](const std::string& text, std::string_view line) { return featureAtLine(text, line, "atx_levels_below"); };
        const std::string pages = "Intro.\n\n# First page\n\n## Part\n\nText.\n\n### Detail\n\nMore.\n\n"
                                  "# Second page\n\nText.\n\n```sh\n#### not a heading\n```\n";
        QVERIFY(std::abs(first(pages, "# Second page") - 2.0 / 3.0) < 1e-6); // ## and ### below; not the fenced ####
        QVERIFY(std::abs(first(pages, "## Part") - 1.0 / 3.0) < 1e-6);
        QCOMPARE(first(pages, "### Detail"), 0.0);
        const std::string book = "Install it as root:\n\n# apt-get update\n# apt-get install foo\n\nThen run it.\n";
        QCOMPARE(first(book, "# apt-get update"), 0.0);
        QVERIFY(isLegacyFeature("atx_top") && !isLegacyFeature("atx_levels_below") && !isLegacyFeature("atx_rel"));
    }

    void devSetFeaturesAreFinite()
    {
        const auto path = test::sourceDir() / ".." / "shared" / "data" / "segdev.jsonl";
        if (!std::filesystem::exists(path))
            QSKIP("shared/data/segdev.jsonl is not beside the checkout");
        const Dataset ds = loadDataset(path);
        for (std::size_t i = 0; i < ds.documents.size(); i += 9) {
            const auto e = documentExamples(ds.documents[i], 2);
            QVERIFY(e.x.rows > 0);
            for (float v : e.x.values)
                QVERIFY2(std::isfinite(v), ds.documents[i].meta().id.c_str());
            QVERIFY(e.carried <= e.referenceLines);
            QVERIFY(e.carried * 10 >= e.referenceLines * 8); // most boundaries sit at a candidate
        }
    }

    void labelsMarkBoundaryLines()
    {
        const Document doc = test::syntheticDocument(3, 5);
        const auto e = documentExamples(doc, 2);
        QCOMPARE(e.referenceLines, std::size_t(4));
        QCOMPARE(e.carried, std::size_t(4));
        QCOMPARE(static_cast<std::size_t>(std::count(e.label.begin(), e.label.end(), 1.0f)), std::size_t(4));
        // A document without boundaries has nothing to learn from.
        QVERIFY_THROWS_EXCEPTION(Error, documentExamples(Document("no boundaries\nhere\n"), 2));
    }

    void splitKeepsVariantsTogether()
    {
        std::size_t train = 0;
        for (int i = 0; i < 400; ++i) {
            DocumentMeta a;
            a.source = "src/" + std::to_string(i);
            a.id = "a" + std::to_string(i);
            a.variant = "structured";
            DocumentMeta b = a;
            b.id = "b" + std::to_string(i);
            b.variant = "plain";
            QCOMPARE(inTrainingSplit(a, 0.5, 7), inTrainingSplit(b, 0.5, 7));
            train += inTrainingSplit(a, 0.5, 7) ? 1 : 0;
        }
        QVERIFY(train > 150 && train < 250);
        DocumentMeta m;
        m.source = "x";
        QVERIFY(inTrainingSplit(m, 1.0, 1));
    }

    void modelFileRoundTrips_data()
    {
        QTest::addColumn<int>("hidden");
        QTest::newRow("logistic regression") << 0;
        QTest::newRow("one hidden layer") << 8;
    }
    void modelFileRoundTrips()
    {
        QFETCH(int, hidden);
        QTemporaryDir dir;
        const BoundaryModel m = randomModel(static_cast<std::size_t>(hidden), 11);
        const auto path = std::filesystem::path(dir.path().toStdString()) / "learned.json";
        m.save(path);
        const BoundaryModel back = BoundaryModel::load(path);
        QCOMPARE(back.features, m.features);
        QCOMPARE(back.layers.size(), m.layers.size());
        QCOMPARE(back.activation, m.activation);
        QCOMPARE(back.training["note"].get<std::string>(), std::string("test"));
        const FeatureMatrix x = featuresOf(Document(kMixed));
        const auto a = m.logits(x), b = back.logits(x);
        QCOMPARE(a.size(), x.rows);
        for (std::size_t i = 0; i < a.size(); ++i)
            QVERIFY2(std::abs(a[i] - b[i]) <= 1e-3 * (1 + std::abs(a[i])), qPrintable(QString::number(i)));
        // Saving what was loaded gives the same file.
        const auto again = std::filesystem::path(dir.path().toStdString()) / "again.json";
        back.save(again);
        QCOMPARE(readFileBytes(again, 1 << 20), readFileBytes(path, 1 << 20));
        // Scores are a sigmoid around the offset.
        const auto s = back.scores(x);
        for (std::size_t i = 0; i < s.size(); ++i) {
            QVERIFY(s[i] > 0 && s[i] < 1);
            QCOMPARE(s[i] > 0.5, b[i] > back.scoreOffset);
        }
    }

    void modelMatchesFeaturesByName()
    {
        // A model over a subset of the features, in another order, reads the right columns.
        BoundaryModel m;
        m.features = {"blank_before_3plus", "atx"};
        m.mean = {0, 0};
        m.scale = {1, 1};
        m.layers = {DenseLayer{2, 1, {10.0f, 1.0f}, {0.0f}}};
        const Document doc("intro\n\n\n\nafter a gap\n# Heading\ntext\n");
        const FeatureMatrix x = featuresOf(doc);
        const auto logits = m.logits(x);
        QCOMPARE(logits.size(), std::size_t(3)); // "after a gap", "# Heading", "text"
        QCOMPARE(logits[0], 10.0);
        QCOMPARE(logits[1], 1.0);
        QCOMPARE(logits[2], 0.0);
    }

    void badModelFilesGiveClearErrors_data()
    {
        QTest::addColumn<QString>("bytes");
        QTest::addColumn<QString>("expected");
        const std::string good = randomModel(2, 5).toJson().dump();
        auto with = [&](const std::function<void(nlohmann::json&)>& f) {
            auto j = nlohmann::json::parse(good);
            f(j);
            return QString::fromStdString(j.dump());
        };
        QTest::newRow("not JSON") << QStringLiteral("{\"format\": ") << QStringLiteral("not valid JSON");
        QTest::newRow("another format") << QStringLiteral("{\"format\": \"onnx\"}") << QStringLiteral("not a learned segmenter model");
        QTest::newRow("an array") << QStringLiteral("[1, 2]") << QStringLiteral("not a learned segmenter model");
        QTest::newRow("newer version") << with([](auto& j) { j["version"] = 99; }) << QStringLiteral("version 99 is not supported");
        QTest::newRow("unknown feature") << with([](auto& j) { j["features"][0] = "from_the_future"; })
                                         << QStringLiteral("'from_the_future'");
        QTest::newRow("missing layers") << with([](auto& j) { j.erase("layers"); }) << QStringLiteral("layers: missing");
        QTest::newRow("short mean") << with([](auto& j) { j["normalization"]["mean"].erase(0); })
                                    << QStringLiteral("one mean and one scale per feature");
        QTest::newRow("zero scale") << with([](auto& j) { j["normalization"]["scale"][3] = 0.0; })
                                    << QStringLiteral("normalization.scale[3]");
        QTest::newRow("string weight") << with([](auto& j) { j["layers"][0]["weight"][1][2] = "x"; })
                                       << QStringLiteral("layers[0].weight[1][2]: must be a number");
        QTest::newRow("ragged weight") << with([](auto& j) { j["layers"][0]["weight"][1].erase(0); })
                                       << QStringLiteral("rows must have the same length");
        QTest::newRow("layer size mismatch") << with([](auto& j) { j["layers"][1]["weight"][0].push_back(1.0); })
                                             << QStringLiteral("layers[1]: takes 3 inputs");
        QTest::newRow("two outputs") << with([](auto& j) {
            j["layers"][1]["weight"].push_back(j["layers"][1]["weight"][0]);
            j["layers"][1]["bias"].push_back(0.0);
        }) << QStringLiteral("one output");
        QTest::newRow("unknown activation") << with([](auto& j) { j["activation"] = "gelu"; })
                                            << QStringLiteral("unknown activation 'gelu'");
    }
    void badModelFilesGiveClearErrors()
    {
        QFETCH(QString, bytes);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const std::string message = loadError(dir, bytes.toStdString());
        QVERIFY2(contains(message, expected.toStdString()), message.c_str());
        QVERIFY2(contains(message, "model.json"), message.c_str()); // names the file
    }

    void missingModelFileGivesClearError()
    {
        QTemporaryDir dir;
        const auto missing = std::filesystem::path(dir.path().toStdString()) / "nope" / "learned.json";
        try {
            (void)BoundaryModel::load(missing);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(contains(e.what(), "does not exist") && contains(e.what(), missing.string()), e.what());
        }
        // A lazy scorer fails on use, not on construction, with the same error.
        const auto scorer = LearnedScorer::lazy(missing);
        const segment::Segmenter seg(learnedSpec(scorer));
        const Document doc(kMixed);
        QVERIFY_THROWS_EXCEPTION(Error, seg.segment(doc, segment::TokenGrid::approximate(doc)));
        QVERIFY(contains(scorer->params().front().second, "learned.json"));
        // The default search honours BLOCKLENS_LEARNED_MODEL, and a missing file there is an error.
        qputenv(kModelEnvVar, QByteArray::fromStdString(missing.string()));
        try {
            (void)loadDefaultModel();
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(contains(e.what(), kModelEnvVar) && contains(e.what(), "does not exist"), e.what());
        }
        qunsetenv(kModelEnvVar);
    }

    void shippedDefaultModelLoadsAndSegments()
    {
        const auto found = findDefaultModel();
        QVERIFY2(found.has_value(), "resources/segmenters/learned.json not found");
        const BoundaryModel m = loadDefaultModel();
        QVERIFY(m.parameterCount() > 0);
        QVERIFY(std::filesystem::file_size(*found) < 64 * 1024); // a small file
        const segment::Segmenter& seg = segment::findSegmenter("learned");
        const Document doc = test::syntheticDocument(21, 6);
        const auto grid = segment::TokenGrid::approximate(doc);
        segment::SegmentOptions o;
        o.granularity = segment::Granularity::exactBlocks(6);
        const auto s = seg.segment(doc, grid, o);
        QCOMPARE(s.blocks.size(), std::size_t(6));
        std::vector<std::size_t> expected;
        for (const auto& b : doc.reference())
            expected.push_back(b.offset);
        QCOMPARE(s.boundaries(), expected); // a three-line gap is an obvious cue for the default model too
        QCOMPARE(s.provenance.segmenter, std::string("learned"));
    }
};

QTEST_GUILESS_MAIN(TestLearnModel)
#include "test_learn_model.moc"
