// The Metrics panel's agreement rows (issue 21): B and S against the reference and against
// another annotator's version, as `blocklens-cli agreement` computes them.
#include "metrics_panel.hpp"

#include <QSpinBox>
#include <QtTest>

using namespace blocklens;
using namespace blocklens::ui;

namespace {

Document twentyLines()
{
    std::string text;
    for (int i = 0; i < 20; ++i)
        text += (i ? "\n" : "") + std::string("line ") + std::to_string(i);
    return Document(text);
}

std::vector<Boundary> atLines(const Document& doc, std::initializer_list<std::pair<std::size_t, int>> lines)
{
    const auto starts = doc.lineStarts();
    std::vector<Boundary> out;
    for (const auto& [line, level] : lines)
        out.push_back({starts.at(line), level});
    return out;
}

} // namespace

class TestMetricsAgreement : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void agreementWithAnotherAnnotator()
    {
        const Document doc = twentyLines();
        MetricsPanel panel;
        panel.setDocument(doc, atLines(doc, {{5, 1}, {10, 2}}));
        panel.setComparisons({{QStringLiteral("bob (2026-12-05)"), atLines(doc, {{5, 1}, {10, 1}})}});
        // The annotator moved line 10's boundary to line 11: one match and one near miss, so
        // B = (2 - 1/2) / 2 and S = (19 - 1/2) / 19 potential boundaries.
        panel.update(atLines(doc, {{5, 1}, {11, 1}}));
        QCOMPARE(panel.valueText(5, 1), QStringLiteral("0.750"));
        QCOMPARE(panel.valueText(6, 1), QStringLiteral("0.974"));
        QCOMPARE(panel.valueText(5, 0), QStringLiteral("0.750")); // the reference at level <= 2 is the same
        // At level 1 the reference has only line 5: line 11 is an addition, B = (2 - 1) / 2.
        panel.findChild<QSpinBox*>()->setValue(1);
        QCOMPARE(panel.valueText(5, 0), QStringLiteral("0.500"));
        QCOMPARE(panel.valueText(5, 1), QStringLiteral("0.750"));
        // Identical versions agree perfectly.
        panel.update(atLines(doc, {{5, 1}, {10, 1}}));
        QCOMPARE(panel.valueText(5, 1), QStringLiteral("1.000"));
        QCOMPARE(panel.valueText(6, 1), QStringLiteral("1.000"));
    }

    void noComparisonHidesTheColumn()
    {
        const Document doc = twentyLines();
        MetricsPanel panel;
        panel.setDocument(doc, {});
        panel.setComparisons({});
        panel.update(atLines(doc, {{5, 1}}));
        QCOMPARE(panel.valueText(5, 0), QStringLiteral("–")); // no reference
    }
};

QTEST_MAIN(TestMetricsAgreement)
#include "test_metrics_agreement.moc"
