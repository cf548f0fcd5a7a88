// Scorers: structural cues, TextTiling depth, separator ranks, weighted sums, and a custom scorer
// plugged into a segmenter through the Scorer interface.
#include "document/document.hpp"
#include "segment/scorer.hpp"
#include "segment/segmenter.hpp"
#include "segment/structural_scorer.hpp"
#include "segment/texttiling_scorer.hpp"

#include <QtTest>

#include <map>

using namespace blocklens;
using namespace blocklens::segment;

namespace {

// Everything a scorer needs for one text, kept alive together.
struct Fixture {
    Document doc;
    TextLayout layout;
    std::vector<LineShape> shapes;
    TokenGrid grid;
    std::vector<Candidate> candidates;
    explicit Fixture(std::string text, RuleSet rules = static_cast<RuleSet>(Rule::Line))
        : doc(std::move(text)), layout(doc), shapes(lineShapes(layout)), grid(TokenGrid::approximate(doc)),
          candidates(findCandidates(layout, shapes, {rules, {}}))
    {
    }
    SegmentContext ctx() const { return {doc, layout, shapes, grid}; }
    // Score of the candidate at the start of the line beginning with `marker`.
    double scoreAt(const std::vector<double>& scores, const std::string& marker) const
    {
        const auto p = doc.text().find(marker);
        for (std::size_t i = 0; i < candidates.size(); ++i)
            if (candidates[i].offset == p)
                return scores[i];
        qFatal("no candidate at %s", marker.c_str());
        return 0;
    }
};

std::string topicParagraphs(const std::vector<std::string>& words, int paragraphs, int seed)
{
    std::string out;
    for (int p = 0; p < paragraphs; ++p) {
        for (int i = 0; i < 40; ++i) {
            out += words[static_cast<std::size_t>((i * 7 + p * 3 + seed) % static_cast<int>(words.size()))];
            out += (i % 10 == 9) ? ".\n" : " ";
        }
        out += "\n";
    }
    return out;
}

// A scorer a later issue might write: here, it likes lines starting with "@@".
class MarkerScorer final : public Scorer {
public:
    std::string name() const override { return "marker"; }
    std::vector<double> score(const SegmentContext& ctx, std::span<const Candidate> candidates) const override
    {
        std::vector<double> out;
        for (const auto& c : candidates)
            out.push_back(ctx.layout.text(c.line).starts_with("@@") ? 1.0 : 0.0);
        return out;
    }
};

} // namespace

class TestScorers : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void structuralRanksHeadingShapes()
    {
        const Fixture f("Intro text here.\n\n# Top\n\nBody of the top section.\n\n## Second\n\nMore body text.\n\n"
                        "### Third\n\nEven more text.\n\n7.1 Numbered\n\nText.\n\n7.1.2 Deeper numbered\n\nText.\n\n"
                        "CAPITALS\n\nText after capitals.\n");
        StructuralScorer s;
        const auto scores = s.score(f.ctx(), f.candidates);
        QVERIFY(f.scoreAt(scores, "# Top") > f.scoreAt(scores, "## Second"));
        QVERIFY(f.scoreAt(scores, "## Second") > f.scoreAt(scores, "### Third"));
        QVERIFY(f.scoreAt(scores, "7.1 Numbered") > f.scoreAt(scores, "7.1.2 Deeper"));
        QVERIFY(f.scoreAt(scores, "CAPITALS") > f.scoreAt(scores, "Text after capitals."));
        // The body under a heading starts no block of its own.
        QVERIFY(f.scoreAt(scores, "Body of the top") < f.scoreAt(scores, "# Top") / 2);
    }

    void structuralFindsDefinitionsAndAttachedComments()
    {
        const Fixture f("import os\n\n\n# Helpers for paths.\n@cache\ndef top(a):\n    x = 1\n\n    return x\n\n\n"
                        "class Box:\n    def method(self):\n        pass\n\n    def other(self):\n        pass\n");
        StructuralScorer s;
        const auto scores = s.score(f.ctx(), f.candidates);
        // The block of `top` opens at its comment, not at the def line.
        QVERIFY(f.scoreAt(scores, "# Helpers") > f.scoreAt(scores, "def top"));
        QVERIFY(f.scoreAt(scores, "# Helpers") > f.scoreAt(scores, "    return x"));
        QVERIFY(f.scoreAt(scores, "class Box") > f.scoreAt(scores, "    def other"));
        QVERIFY(f.scoreAt(scores, "    def other") > f.scoreAt(scores, "    return x"));
    }

    void structuralSeesTopLevelCodeAfterAClosingBrace()
    {
        // C has no definition keyword: a new top-level line after "}" at column 0 starts a block.
        const Fixture f("#include <x.h>\n\nstatic int f(void)\n{\n    return 1;\n}\n\nint g(int a)\n{\n    return a;\n}\n");
        StructuralScorer s;
        const auto scores = s.score(f.ctx(), f.candidates);
        QVERIFY(f.scoreAt(scores, "int g") > f.scoreAt(scores, "    return a;") + 0.2);
        QVERIFY(f.scoreAt(scores, "int g") > f.scoreAt(scores, "{\n    return a"));
    }

    void structuralUsesRareBlankGaps()
    {
        // Paragraphs one blank line apart, and one gap of three: that one is a section break.
        const Fixture f("First paragraph of prose.\n\nSecond paragraph of prose.\n\nThird paragraph.\n\n\n\n"
                        "After the big gap.\n\nFifth paragraph.\n\nSixth paragraph.\n");
        StructuralScorer s;
        const auto scores = s.score(f.ctx(), f.candidates);
        const double gap = f.scoreAt(scores, "After the big gap.");
        for (const char* other : {"Second paragraph", "Third paragraph", "Fifth paragraph", "Sixth paragraph"})
            QVERIFY2(gap > f.scoreAt(scores, other) + 0.5, other);
        // With uniform gaps the cue says nothing: every paragraph scores the same.
        const Fixture g("One.\n\nTwo.\n\nThree.\n\nFour.\n");
        const auto u = s.score(g.ctx(), g.candidates);
        QCOMPARE(g.scoreAt(u, "Two."), g.scoreAt(u, "Four."));
    }

    void textTilingPeaksAtTheTopicChange()
    {
        const std::vector<std::string> fruit{"apple", "banana", "cherry", "orchard", "harvest", "ripe", "peel", "juice"};
        const std::vector<std::string> motor{"engine", "piston", "gearbox", "torque", "clutch", "exhaust", "cylinder", "spark"};
        const std::string a = topicParagraphs(fruit, 5, 0), b = topicParagraphs(motor, 5, 1);
        const Fixture f(a + b, Rule::Line | Rule::Paragraph);
        TextTilingScorer tt(TextTilingParams{60, 20, 3, false});
        const auto scores = tt.score(f.ctx(), f.candidates);
        std::size_t best = 0;
        for (std::size_t i = 1; i < scores.size(); ++i)
            if (scores[i] > scores[best])
                best = i;
        QCOMPARE(f.candidates[best].offset, a.size());
        QVERIFY(scores[best] > 1.0); // similarity falls from near 1 to near 0 and back
        for (double s : scores)
            QVERIFY(s >= 0.0 && s <= 2.0);
    }

    void hearstCutoffIsMeanMinusHalfSd()
    {
        const std::vector<double> d{1, 2, 3, 4};
        QVERIFY(std::abs(TextTilingScorer::hearstCutoff(d) - (2.5 - std::sqrt(1.25) / 2)) < 1e-12);
        QCOMPARE(TextTilingScorer::hearstCutoff({}), 0.0);
    }

    void separatorRanks()
    {
        const Fixture f("One. Two\nthree\n\nFour", Rule::Line | Rule::Paragraph | Rule::Sentence);
        SeparatorScorer s;
        const auto scores = s.score(f.ctx(), f.candidates);
        QCOMPARE(f.candidates.size(), std::size_t(3));
        QCOMPARE(scores, (std::vector<double>{1, 2, 3})); // sentence, line, paragraph
    }

    void weightedSumAddsAndCaps()
    {
        const Fixture f("a\nb\nc");
        WeightedSumScorer sum({{std::make_shared<UniformScorer>(), 2.0, 0.0}, {std::make_shared<UniformScorer>(), 0.5, 0.25}});
        QCOMPARE(sum.score(f.ctx(), f.candidates), (std::vector<double>{2.125, 2.125}));
        QCOMPARE(sum.name(), std::string("uniform+uniform"));
    }

    void customScorerPlugsIntoASegmenter()
    {
        SegmenterSpec spec;
        spec.name = "marker";
        spec.rules = static_cast<RuleSet>(Rule::Line);
        spec.scorer = std::make_shared<MarkerScorer>();
        spec.freeDecoder = DecoderKind::Threshold;
        spec.threshold = 0.5;
        spec.minTokens = 1; // one-line blocks, under the default minimum of 16 tokens
        const Segmenter seg(spec);
        const Document doc(std::string("x\ny\n@@ one\nz\n@@ two\n"));
        const auto s = seg.segment(doc, TokenGrid::approximate(doc));
        QCOMPARE(s.boundaries(), (std::vector<std::size_t>{4, 13}));
        QCOMPARE(s.provenance.segmenter, std::string("marker"));
        // Exactly two blocks: the best candidate wins.
        const auto two = seg.segment(doc, TokenGrid::approximate(doc), {Granularity::exactBlocks(2), {}});
        QCOMPARE(two.blocks.size(), std::size_t(2));
        QVERIFY(two.boundaries()[0] == 4 || two.boundaries()[0] == 13);
    }
};

QTEST_GUILESS_MAIN(TestScorers)
#include "test_scorers.moc"
