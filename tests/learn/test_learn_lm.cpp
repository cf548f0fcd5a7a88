// Language-model features of the learned segmenter: hidden states of a (random) model through the
// engine, aligned with the text, windowed without changing what a causal model computes for the
// first window; the lm_* columns; a model trained with them needs the language model at scoring.
#include "cli/cli.hpp"
#include "document/document.hpp"
#include "learn/examples.hpp"
#include "learn/learned_scorer.hpp"
#include "learn/lm_states.hpp"
#include "learn/trainer.hpp"
#include "segment/candidates.hpp"
#include "support/temp_files.hpp"
#include "synthetic.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <cmath>
#include <sstream>

using namespace blocklens;
using namespace blocklens::learn;
namespace fs = std::filesystem;

class TestLearnLm : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(tmp_.isValid());
        model_ = tmp_.path().toStdString() + "/lm";
        const fs::path tokenizer = test::fixturesDir() / "cut_markers" / "qwen3_cut_markers" / "tokenizer.json";
        QVERIFY2(fs::exists(tokenizer), "fixture tokenizer missing");
        std::ostringstream out, err;
        const int code = cli::runCli({"make-model", "--arch", "llama", "--layers", "2", "--hidden", "32", "--heads", "4",
                                      "--tie", "--init-std", "0.2", "--tokenizer", tokenizer.string(), "--out", model_},
                                     out, err);
        QVERIFY2(code == 0, err.str().c_str());
    }

    void statesAreAlignedUnitRowsAndWindowsKeepCausality()
    {
        const Document doc = test::syntheticDocument(7);
        const auto whole = EngineLmSource::load(model_, {}, 4096);
        const auto windowed = EngineLmSource::load(model_, {}, 16);
        const LmStates a = whole->states(doc), b = windowed->states(doc);
        const Tokenizer tok = Tokenizer::fromFile(fs::path(model_) / "tokenizer.json");
        QCOMPARE(a.tokens(), tok.encode(doc.text()).ids.size());
        QCOMPARE(a.width, std::size_t(32));
        QCOMPARE(b.tokens(), a.tokens());
        QVERIFY(a.tokens() > 64);
        QVERIFY(std::is_sorted(a.tokenBegin.begin(), a.tokenBegin.end()));
        for (std::size_t t = 0; t < a.tokens(); ++t) {
            double sq = 0;
            for (std::size_t k = 0; k < a.width; ++k)
                sq += a.row(t)[k] * a.row(t)[k];
            QVERIFY(std::abs(sq - 1.0) < 1e-4);
        }
        // The first window has no context in either run, and attention is causal: equal rows.
        // Later windows see only windowTokens / 4 tokens of context: different rows.
        double firstDiff = 0, laterDiff = 0;
        for (std::size_t t = 0; t < a.tokens(); ++t)
            for (std::size_t k = 0; k < a.width; ++k)
                (t < 16 ? firstDiff : laterDiff) += std::abs(a.row(t)[k] - b.row(t)[k]);
        QVERIFY2(firstDiff < 1e-3, qPrintable(QString::number(firstDiff)));
        QVERIFY(laterDiff > 1e-2);
    }

    void lmColumnsFollowTheOthers()
    {
        const Document doc = test::syntheticDocument(8);
        const segment::TextLayout layout(doc);
        const auto shapes = segment::lineShapes(layout);
        const auto candidates = segment::findCandidates(layout, shapes, {learnedSpec(nullptr).rules, {}});
        const segment::TokenGrid grid = segment::TokenGrid::approximate(doc);
        const segment::SegmentContext ctx{doc, layout, shapes, grid};
        const auto lm = EngineLmSource::load(model_, {}, 256);
        const FeatureMatrix base = computeFeatures(ctx, candidates);
        const FeatureMatrix x = computeFeatures(ctx, candidates, lm->states(doc));
        QCOMPARE(x.cols, base.cols + lmFeatureNames().size());
        QCOMPARE(allFeatureNames(true).size(), x.cols);
        QCOMPARE(x.rows, candidates.size());
        double spread = 0;
        for (std::size_t r = 0; r < x.rows; ++r) {
            for (std::size_t c = 0; c < base.cols; ++c)
                QCOMPARE(x.at(r, c), base.at(r, c));
            for (std::size_t c = base.cols; c < x.cols; ++c)
                QVERIFY(std::isfinite(x.at(r, c)));
            QVERIFY(x.at(r, base.cols + 1) >= -1.0f && x.at(r, base.cols + 1) <= 1.0f); // lm_cos_32
            spread += std::abs(x.at(r, base.cols + 1) - x.at(0, base.cols + 1));
        }
        QVERIFY(spread > 0); // not a constant column
    }

    void aModelTrainedWithLmFeaturesNeedsTheModel()
    {
        const auto lm = EngineLmSource::load(model_, {}, 256);
        TrainingSet ts;
        for (std::uint32_t s = 20; s < 24; ++s)
            ts.append(documentExamples(test::syntheticDocument(s), 2, lm.get()));
        QCOMPARE(ts.cols, allFeatureNames(true).size());
        TrainOptions o;
        o.hidden = 0;
        o.epochs = 3;
        o.ensemble = 1;
        const BoundaryModel m = trainModel(ts, o);
        QVERIFY(m.usesLanguageModel());
        QVERIFY(std::find(m.features.begin(), m.features.end(), "lm_cos_32") != m.features.end());
        // Round trip through the file.
        const fs::path file = tmp_.path().toStdString() + "/with-lm.json";
        m.save(file);
        const auto loaded = std::make_shared<const BoundaryModel>(BoundaryModel::load(file));
        QVERIFY(loaded->usesLanguageModel());
        const Document doc = test::syntheticDocument(30);
        const segment::TokenGrid grid = segment::TokenGrid::approximate(doc);
        try {
            (void)learnedSegmenter(loaded).score(doc, grid);
            QFAIL("scored language-model features without a language model");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("language-model features"), e.what());
        }
        const auto scored = learnedSegmenter(loaded, "with-lm", lm).score(doc, grid);
        QVERIFY(!scored.scores.empty());
        for (double s : scored.scores)
            QVERIFY(s > 0.0 && s < 1.0);
        // Without the lm columns the trainer still makes a model that needs no language model.
        TrainingSet plain;
        plain.append(documentExamples(test::syntheticDocument(20), 2));
        QVERIFY(!trainModel(plain, o).usesLanguageModel());
    }

private:
    QTemporaryDir tmp_;
    std::string model_;
};

QTEST_MAIN(TestLearnLm)
#include "test_learn_lm.moc"
