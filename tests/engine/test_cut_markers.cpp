// The paper's segmenter form (issue 8, part 3): a token-classification checkpoint read by the
// engine against golden logits from transformers' Qwen3ForTokenClassification (fixture made by
// tools/reference/make_cut_marker_goldens.py), the markers placed as the model card's
// insert_marker places them, P(cut) read at the next marker; make-model --labels; the segmenter
// over windows; and the errors a user can run into.
#include "cli/cli.hpp"
#include "document/document.hpp"
#include "engine/cut_marker_scorer.hpp"
#include "engine/npy.hpp"
#include "engine/token_classifier.hpp"
#include "segment/candidates.hpp"
#include "support/temp_files.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace blocklens;
using namespace blocklens::engine;
namespace fs = std::filesystem;

namespace {

const fs::path kFixture = test::fixturesDir() / "cut_markers" / "qwen3_cut_markers";

nlohmann::json readJson(const fs::path& p)
{
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

int runCli(std::vector<std::string> args, std::string* out = nullptr, std::string* err = nullptr)
{
    std::ostringstream o, e;
    const int code = cli::runCli(args, o, e);
    if (out)
        *out = o.str();
    if (err)
        *err = e.str();
    return code;
}

// The card's cut points: the end of every match strictly inside the text, as byte offsets.
std::vector<std::size_t> cutsAfter(const Document& doc, const std::string& pattern)
{
    std::vector<std::size_t> bytes;
    for (const auto& [begin, end] : segment::regexMatchSpans(doc, pattern))
        if (end > 0 && end < doc.length())
            bytes.push_back(doc.byteOffset(end));
    return bytes;
}

} // namespace

class TestCutMarkers : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void insertsMarkersAsTheModelCard()
    {
        QCOMPARE(QString::fromStdString(insertCutMarkers("ab\n\ncd", std::vector<std::size_t>{4})),
                 QStringLiteral("<cut 0>ab\n\n<cut 1>cd<cut 2>"));
        QCOMPARE(QString::fromStdString(insertCutMarkers("abc", std::vector<std::size_t>{})),
                 QStringLiteral("<cut 0>abc<cut 1>"));
        QVERIFY_THROWS_EXCEPTION(Error, insertCutMarkers("abc", std::vector<std::size_t>{3}));
    }

    // Our logits at the markers against transformers' (fp32, CPU), per case of the fixture.
    void matchesTransformersAtTheMarkers()
    {
        QVERIFY2(fs::exists(kFixture / "golden.json"), "fixture missing: tests/fixtures/cut_markers/*.tar.xz");
        const auto golden = readJson(kFixture / "golden.json");
        const auto scorer = loadCutMarkerScorer(kFixture);
        QCOMPARE(scorer->markers(), std::size_t(golden["markers"].get<int>()));
        for (const auto& [name, c] : golden["cases"].items()) {
            const Document doc(c["text"].get<std::string>());
            const CutMarkerPass pass = scorer->run(doc.text(), cutsAfter(doc, c["pattern"].get<std::string>()));
            QCOMPARE(QString::fromStdString(pass.markedText), QString::fromStdString(c["marked_text"].get<std::string>()));
            QCOMPARE(pass.ids, c["ids"].get<std::vector<std::int32_t>>());
            QCOMPARE(pass.markerPositions, c["marker_positions"].get<std::vector<std::int64_t>>());
            const NpyArray ref = readNpy(kFixture / ("logits_" + name + ".npy"));
            QCOMPARE(ref.shape, (std::vector<std::int64_t>{static_cast<std::int64_t>(pass.markerPositions.size()), 2}));
            double diff = 0, norm = 0;
            for (std::size_t m = 0; m < pass.markerPositions.size(); ++m) {
                const float* ours = pass.logits.row(pass.markerPositions[m]);
                const float* theirs = ref.data.data() + 2 * m;
                for (int k = 0; k < 2; ++k) {
                    diff += (ours[k] - theirs[k]) * (ours[k] - theirs[k]);
                    norm += theirs[k] * theirs[k];
                }
                QCOMPARE(ours[1] > ours[0], theirs[1] > theirs[0]); // same argmax
            }
            QVERIFY2(std::sqrt(diff / norm) < 1e-4, qPrintable(QString::number(std::sqrt(diff / norm))));
            const auto prob = c["cut_probability"].get<std::vector<double>>();
            QCOMPARE(pass.cutProbability.size(), prob.size());
            for (std::size_t j = 0; j < prob.size(); ++j)
                QVERIFY2(std::abs(pass.cutProbability[j] - prob[j]) < 1e-4, qPrintable(QString::number(j)));
            QCOMPARE(pass.cutProbability.back(), 0.0); // the last marker: the card's [1, -inf]
        }
    }

    // The CLI's --cuts-after writes the same logits the fixture holds.
    void cliCutsAfterWritesTheMarkerLogits()
    {
        const auto golden = readJson(kFixture / "golden.json");
        const auto& c = golden["cases"]["paragraphs"];
        QTemporaryDir dir;
        const auto input = test::writeFile(dir, "p.txt", c["text"].get<std::string>());
        const fs::path npy = fs::path(dir.path().toStdString()) / "ours.npy";
        std::string out, err;
        QCOMPARE(runCli({"cut-markers", "--model", kFixture.string(), "--input", input.string(), "--cuts-after",
                         c["pattern"].get<std::string>(), "--logits-out", npy.string(), "--json"}, &out, &err), 0);
        const auto j = nlohmann::json::parse(out);
        QCOMPARE(j["ids"].get<std::vector<std::int32_t>>(), c["ids"].get<std::vector<std::int32_t>>());
        const NpyArray ours = readNpy(npy), ref = readNpy(kFixture / "logits_paragraphs.npy");
        QCOMPARE(ours.shape, ref.shape);
        for (std::size_t i = 0; i < ref.data.size(); ++i)
            QVERIFY(std::abs(ours.data[i] - ref.data[i]) <= 1e-4f * (1 + std::abs(ref.data[i])));
    }

    // make-model --labels 2 writes what TokenClassifier loads; the segmenter scores every
    // candidate, and with one window it gives exactly what one pass over all candidates gives.
    void makeModelAndSegmentInWindows()
    {
        QTemporaryDir dir;
        const std::string model = dir.path().toStdString() + "/tc";
        std::string out, err;
        QCOMPARE(runCli({"make-model", "--arch", "qwen3", "--layers", "2", "--hidden", "32", "--heads", "4", "--kv-heads",
                         "2", "--labels", "2", "--init-std", "0.2", "--tokenizer", (kFixture / "tokenizer.json").string(),
                         "--out", model}, &out, &err), 0);
        const auto config = ModelConfig::fromFile(fs::path(model) / "config.json");
        QCOMPARE(config.numLabels, std::int64_t(2));
        const auto tc = TokenClassifier::load(model);
        QCOMPARE(tc.labels(), std::int64_t(2));
        const std::vector<std::int32_t> ids = {5, 9, 77, 300, 12};
        const TokenLogits l = tc.classify(ids);
        QCOMPARE(l.rows, std::int64_t(5));
        QCOMPARE(l.labels, std::int64_t(2));
        // Causal: the first rows do not depend on later tokens.
        const TokenLogits prefix = tc.classify(std::span(ids).first(3));
        for (std::int64_t r = 0; r < 3; ++r)
            for (int k = 0; k < 2; ++k)
                QVERIFY(std::abs(prefix.row(r)[k] - l.row(r)[k]) < 1e-5f);

        std::string text;
        for (int i = 0; i < 40; ++i)
            text += "Line " + std::to_string(i) + " of the document, with some words.\n" + (i % 5 == 4 ? "\n" : "");
        const Document doc(text);
        const segment::TokenGrid grid = segment::TokenGrid::approximate(doc);
        const segment::TextLayout layout(doc);
        const auto shapes = segment::lineShapes(layout);
        const auto candidates = segment::findCandidates(layout, shapes, {static_cast<segment::RuleSet>(segment::Rule::Line), {}});
        const segment::SegmentContext ctx{doc, layout, shapes, grid};
        auto shared = std::make_shared<const TokenClassifier>(TokenClassifier::load(model));
        const Tokenizer tok = Tokenizer::fromFile(kFixture / "tokenizer.json");
        const CutMarkerScorer one(shared, tok, {100000});
        const auto single = one.score(ctx, candidates);
        std::vector<std::size_t> cutBytes;
        for (const auto& c : candidates)
            cutBytes.push_back(doc.byteOffset(c.offset));
        const CutMarkerPass pass = one.run(doc.text(), cutBytes);
        QCOMPARE(single.size(), candidates.size());
        for (std::size_t i = 0; i < candidates.size(); ++i)
            QCOMPARE(single[i], pass.cutProbability[i + 1]);
        // Windows of ~64 tokens: several passes, every candidate still decided, in [0, 1].
        const CutMarkerScorer windowed(shared, tok, {64});
        const auto scores = windowed.score(ctx, candidates);
        QCOMPARE(scores.size(), candidates.size());
        int differ = 0;
        for (std::size_t i = 0; i < scores.size(); ++i) {
            QVERIFY(scores[i] > 0.0 && scores[i] < 1.0);
            differ += std::abs(scores[i] - single[i]) > 1e-6 ? 1 : 0;
        }
        QVERIFY(differ > 0); // window starts lose context: the windows really were used
        // The segmenter: the threshold decides the number of blocks.
        const segment::Segmenter seg = cutMarkerSegmenter(std::make_shared<const CutMarkerScorer>(shared, tok, CutMarkerOptions{}));
        const auto none = seg.segment(doc, grid, {segment::Granularity::thresholdDepth(1.01, 0), {}});
        // Every candidate cut at threshold 0 once the minimum block size allows one-line blocks
        // (these lines are ~12 tokens, under the default minimum of 16).
        auto everyCut = segment::Granularity::thresholdDepth(0.0, 0);
        everyCut.minTokens = 1;
        const auto all = seg.segment(doc, grid, {everyCut, {}});
        QCOMPARE(none.blocks.size(), std::size_t(1));
        QCOMPARE(all.blocks.size(), candidates.size() + 1);
    }

    void clearErrors()
    {
        // A causal LM is not a token classifier.
        const fs::path causal = test::fixturesDir() / "engine" / "qwen3_headdim";
        try {
            (void)TokenClassifier::load(causal);
            QFAIL("a causal LM was accepted");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("not a token-classification checkpoint"), e.what());
        }
        // A tokenizer without markers.
        auto shared = std::make_shared<const TokenClassifier>(TokenClassifier::load(kFixture));
        const fs::path plain = test::fixturesDir() / "tokenizers" / "qwen3" / "tokenizer.json";
        try {
            CutMarkerScorer s(shared, Tokenizer::fromFile(plain));
            QFAIL("a tokenizer without <cut j> tokens was accepted");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("<cut 0>"), e.what());
        }
        // More cut points than markers.
        CutMarkerScorer s(shared, Tokenizer::fromFile(kFixture / "tokenizer.json"));
        std::string text(200, 'a');
        std::vector<std::size_t> cuts;
        for (std::size_t i = 1; i < 100; ++i)
            cuts.push_back(i);
        QVERIFY_THROWS_EXCEPTION(Error, s.run(text, cuts));
        // The CLI: --logits-out without --cuts-after.
        std::string err;
        QVERIFY(runCli({"cut-markers", "--model", kFixture.string(), "--input", "x.txt", "--logits-out", "y.npy"}, nullptr, &err) != 0);
        QVERIFY2(QString::fromStdString(err).contains("--cuts-after"), err.c_str());
    }
};

QTEST_MAIN(TestCutMarkers)
#include "test_cut_markers.moc"
