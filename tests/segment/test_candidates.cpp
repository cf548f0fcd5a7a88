// Candidate rules: each rule alone on small texts, merging of rules, regex errors.
#include "document/document.hpp"
#include "segment/candidates.hpp"
#include "util/error.hpp"

#include <QtTest>

using namespace blocklens;
using namespace blocklens::segment;

namespace {

std::vector<std::size_t> offsets(const std::string& text, RuleSet rules, const std::string& regex = {})
{
    const Document doc(text);
    const TextLayout layout(doc);
    const auto shapes = lineShapes(layout);
    std::vector<std::size_t> out;
    for (const auto& c : findCandidates(layout, shapes, {rules, regex}))
        out.push_back(c.offset);
    return out;
}

// Byte offsets of each marker in an ASCII text (= code-point offsets there).
std::vector<std::size_t> at(const std::string& text, const QStringList& markers)
{
    std::vector<std::size_t> out;
    for (const auto& m : markers) {
        const auto p = text.find(m.toStdString());
        if (p == std::string::npos)
            qFatal("marker not found: %s", qPrintable(m));
        out.push_back(p);
    }
    return out;
}

} // namespace

class TestCandidates : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rules_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("rules");
        QTest::addColumn<QStringList>("expected"); // markers whose positions are the candidates

        QTest::newRow("line: every non-blank line but the first")
            << QByteArray("a\nbb\n\n  c\n") << "line" << QStringList{"bb", "  c"};
        QTest::newRow("paragraph: after blank lines")
            << QByteArray("a\nb\n\nc\n\n\nd") << "paragraph" << QStringList{"c", "d"};
        QTest::newRow("paragraph: whitespace-only lines are blank")
            << QByteArray("a\n  \t\nb") << "paragraph" << QStringList{"b"};
        QTest::newRow("sentence: terminators then a capital or digit")
            << QByteArray("One. Two! three? Four 5. 6 x") << "sentence" << QStringList{"Two", "Four", "6 x"};
        QTest::newRow("sentence: closing quote before the space")
            << QByteArray("He said \"go.\" Then left.") << "sentence" << QStringList{"Then"};
        QTest::newRow("sentence: across a line break starts at the line")
            << QByteArray("End of it.\n  Next one\nnot this") << "sentence" << QStringList{"  Next"};
        QTest::newRow("heading: ATX, setext, numbered, capitalised; not prose or underlines")
            << QByteArray("intro\n\n## Sub\nbody.\n\nSetext\n======\n\n1.2 Numbered title\nx\n\nCAPS LINE\n\nnormal line.\n")
            << "heading" << QStringList{"## Sub", "Setext", "1.2 Numbered", "CAPS LINE"};
        QTest::newRow("heading: not inside a code fence")
            << QByteArray("text\n```\n# comment\n```\n# Real\n") << "heading" << QStringList{"# Real"};
        QTest::newRow("heading: a bare number is not a section number")
            << QByteArray("a\n2021 was a year\n7. Seven\n") << "heading" << QStringList{"7. Seven"};
        // Issue 15: GPL-3 wraps "... under section\n7. ..." inside a paragraph: that "7." goes on
        // with the sentence above. After a finished sentence, a list item or a short line it is
        // still a section number.
        QTest::newRow("heading: a wrapped line starting with a number inside a paragraph is not one")
            << QByteArray("  You may convey the work under the terms of section\n7. Additional permissions apply to it\n\n"
                          "The previous paragraph ends here, as sentences do.\n8. Termination of the license\n\nShort line\n9. Acceptance Not Required\n")
            << "heading" << QStringList{"8. Termination", "9. Acceptance"};
        QTest::newRow("code: definitions, with decorators and comments moved up")
            << QByteArray("import x\n\n@deco\ndef f():\n    pass\n\n# about A\nclass A:\n    def g(self):\n        return 1\n")
            << "code" << QStringList{"@deco", "# about A", "    def g"};
        QTest::newRow("code: other languages")
            << QByteArray("x\nfn main() {\n}\npub struct S {\n}\nfunction go(a) {\n}\n")
            << "code" << QStringList{"fn main", "pub struct", "function go"};
        QTest::newRow("code: prose starting with a keyword is not a definition")
            << QByteArray("x\nclass of problems we\nfunction as usual\n") << "code" << QStringList{};
        QTest::newRow("regex: match starts, multiline")
            << QByteArray("foo\nbar\nfoo bar") << "regex" << QStringList{"foo bar"};
        QTest::newRow("merged rules, one candidate per offset")
            << QByteArray("a\n\n# H\ntext") << "line,paragraph,heading" << QStringList{"# H", "text"};
    }
    void rules()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, rules);
        QFETCH(QStringList, expected);
        const std::string t = text.toStdString();
        const auto got = offsets(t, parseRules(rules.toStdString()), "^foo");
        const auto want = at(t, expected);
        if (got != want) {
            QString g, w;
            for (auto o : got)
                g += QString::number(o) + " ";
            for (auto o : want)
                w += QString::number(o) + " ";
            QFAIL(qPrintable("got " + g + "want " + w));
        }
    }

    void offsetsAreCodePoints()
    {
        // "é\nß\n\nü": lines start at code points 2 and 5 (bytes 3 and 7).
        const std::string text = "\xC3\xA9\n\xC3\x9F\n\n\xC3\xBC";
        QCOMPARE(offsets(text, static_cast<RuleSet>(Rule::Line)), (std::vector<std::size_t>{2, 5}));
        QCOMPARE(offsets(text, static_cast<RuleSet>(Rule::Regex), "\xC3\xBC"), (std::vector<std::size_t>{5}));
    }

    void candidatesCarryEveryRuleThatProposedThem()
    {
        const Document doc(std::string("a\n\n# H\nb"));
        const TextLayout layout(doc);
        const auto c = findCandidates(layout, lineShapes(layout), {Rule::Line | Rule::Paragraph | Rule::Heading, {}});
        QCOMPARE(c.size(), std::size_t(2));
        QCOMPARE(c[0].offset, std::size_t(3));
        QCOMPARE(c[0].line, 2u);
        QVERIFY(has(c[0].rules, Rule::Heading) && has(c[0].rules, Rule::Paragraph) && has(c[0].rules, Rule::Line));
        QVERIFY(!has(c[1].rules, Rule::Paragraph));
    }

    void emptyMatchesAdvance()
    {
        // "^" matches at every line start, including 0 (dropped: a block never starts at 0).
        QCOMPARE(offsets("ab\ncd\n", static_cast<RuleSet>(Rule::Regex), "^"), (std::vector<std::size_t>{3}));
    }

    void badRegexAndRulesAreErrors()
    {
        try {
            offsets("abc", static_cast<RuleSet>(Rule::Regex), "(unclosed");
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("invalid regex '(unclosed'") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, offsets("abc", static_cast<RuleSet>(Rule::Regex), ""));
        QVERIFY_THROWS_EXCEPTION(Error, parseRules("line,nope"));
        QVERIFY_THROWS_EXCEPTION(Error, parseRules(""));
        QCOMPARE(rulesToString(parseRules(" code , line ")), std::string("line,code"));
    }
};

QTEST_GUILESS_MAIN(TestCandidates)
#include "test_candidates.moc"
