// blocklens-cli segment / eval / segmenters, run in-process.
#include "cli/cli.hpp"
#include "support/cli_capture.hpp"
#include "support/segment_dataset.hpp"
#include "support/temp_files.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace blocklens;

namespace {

using Result = blocklens::test::CliResult;
const auto run = &blocklens::test::runCliCaptured;

using blocklens::test::lineCount;
const char* const kMarkdown = blocklens::test::kGuideMarkdown;
const auto dataset = &blocklens::test::twoDocumentDataset; // doc-a (boundaries at its headings), doc-b

} // namespace

class TestSegmentCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void segmentersListsEveryOne()
    {
        const auto r = run({"segmenters"});
        QCOMPARE(r.code, 0);
        std::vector<std::string> names = {"fixed", "recursive", "paragraphs", "structural", "texttiling", "hybrid", "learned"};
#if BLOCKLENS_WITH_TORCH
        names.push_back("cut-markers"); // it needs the engine
#endif
        names.push_back("regex");
        for (const std::string& name : names)
            QVERIFY2(r.out.find(name + ":") != std::string::npos || r.out.find(name + " (default)") != std::string::npos, name.c_str());
        QVERIFY(r.out.find("max-tokens") != std::string::npos);
        const auto j = nlohmann::json::parse(run({"segmenters", "--json"}).out);
        QCOMPARE(j.size(), names.size());
        for (std::size_t i = 0; i < names.size(); ++i)
            QCOMPARE(j[i]["name"].get<std::string>(), names[i]);
        QCOMPARE(j[5]["name"].get<std::string>(), std::string("hybrid"));
        QVERIFY(j[5]["default"].get<bool>());
        QVERIFY(j[5]["parameters"].contains("max-tokens"));
    }

    void segmentADocument_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("blocks"); // -1: any number
        QTest::newRow("default") << QStringList{} << -1;
        QTest::newRow("exact blocks") << QStringList{"--blocks", "4"} << 4;
        QTest::newRow("threshold and depth") << QStringList{"--threshold", "0.7", "--depth", "1"} << -1;
        QTest::newRow("target tokens") << QStringList{"--target-tokens", "8"} << -1;
        QTest::newRow("fixed, exact") << QStringList{"--segmenter", "fixed", "--blocks", "3"} << 3;
        // Every match cuts once the minimum (16 tokens by default) lets blocks this small stand.
        QTest::newRow("regex") << QStringList{"--segmenter", "regex", "--regex", "^## ", "--min-tokens", "1"} << 4;
        QTest::newRow("small maximum") << QStringList{"--segmenter", "texttiling", "--max-tokens", "5"} << -1;
    }
    void segmentADocument()
    {
        QFETCH(QStringList, args);
        QFETCH(int, blocks);
        QTemporaryDir dir;
        const auto file = test::writeFile(dir, "guide.md", kMarkdown);
        std::vector<std::string> argv{"segment", file.string(), "--json"};
        for (const auto& a : args)
            argv.push_back(a.toStdString());
        const auto r = run(argv);
        QVERIFY2(r.code == 0, r.err.c_str());
        const auto j = nlohmann::json::parse(r.out);
        const auto& b = j["blocks"];
        if (blocks >= 0)
            QCOMPARE(static_cast<int>(b.size()), blocks);
        QCOMPARE(b.front()["begin"].get<std::size_t>(), std::size_t(0));
        QCOMPARE(b.back()["end"].get<std::size_t>(), std::string(kMarkdown).size());
        std::size_t maxTokens = 4096;
        if (args.contains("--max-tokens"))
            maxTokens = 5;
        for (std::size_t i = 0; i < b.size(); ++i) {
            QVERIFY(b[i]["tokens"].get<std::size_t>() <= maxTokens);
            if (i > 0)
                QCOMPARE(b[i]["begin"].get<std::size_t>(), b[i - 1]["end"].get<std::size_t>());
        }
        QCOMPARE(j["token_unit"].get<std::string>(), std::string("approx-tokens"));
        QVERIFY(j["parameters"].contains("max_tokens"));
        QVERIFY(!j["version"].get<std::string>().empty());
        if (args.contains("regex")) {
            const std::string t = kMarkdown;
            QCOMPARE(j["boundaries"].get<std::vector<std::size_t>>(),
                     (std::vector<std::size_t>{t.find("## Install"), t.find("## Configure"), t.find("## Use")}));
        }
    }

    void segmentTextOutput()
    {
        QTemporaryDir dir;
        const auto file = test::writeFile(dir, "guide.md", kMarkdown);
        const auto r = run({"segment", file.string(), "--blocks", "4"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.find("4 blocks") != std::string::npos);
        QVERIFY2(r.out.find("## Configure") != std::string::npos, r.out.c_str()); // block previews
        // Issue 15: blocks are numbered from #1, as in the app (and --help says so).
        QVERIFY2(r.out.find("\n#1\t0\t") != std::string::npos, r.out.c_str());
        QVERIFY2(r.out.find("\n#4\t") != std::string::npos, r.out.c_str());
        QVERIFY2(r.out.find("\n0\t") == std::string::npos, r.out.c_str());
        QVERIFY(run({"segment", "--help"}).out.find("numbered from #1") != std::string::npos);
    }

    void badInputExitsOneWithOneLine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("missing file") << QStringList{"segment", "/nonexistent/x.txt"} << "no such file";
        QTest::newRow("invalid UTF-8") << QStringList{"segment", "@bad"} << "bad.txt";
        QTest::newRow("unknown segmenter") << QStringList{"segment", "@good", "--segmenter", "magic"} << "known: fixed";
        QTest::newRow("bad regex") << QStringList{"segment", "@good", "--segmenter", "regex", "--regex", "(x"} << "invalid regex";
        QTest::newRow("regex segmenter without pattern") << QStringList{"segment", "@good", "--segmenter", "regex"} << "--regex";
        QTest::newRow("threshold for fixed") << QStringList{"segment", "@good", "--segmenter", "fixed", "--threshold", "1"} << "no scores";
        QTest::newRow("eval: unknown protocol") << QStringList{"eval", "@data", "--segmenter", "hybrid", "--protocol", "guess"} << "oracle-count";
        QTest::newRow("eval: malformed dataset") << QStringList{"eval", "@broken", "--segmenter", "hybrid"} << "broken.jsonl:2:";
        QTest::newRow("eval: missing tokenizer") << QStringList{"eval", "@data", "--segmenter", "hybrid", "--tokenizer", "/nope.json"} << "nope.json";
    }
    void badInputExitsOneWithOneLine()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, mentions);
        QTemporaryDir dir;
        std::vector<std::string> argv;
        for (const auto& a : args) {
            if (a == "@bad")
                argv.push_back(test::writeFile(dir, "bad.txt", "ok\xFF").string());
            else if (a == "@good")
                argv.push_back(test::writeFile(dir, "good.md", kMarkdown).string());
            else if (a == "@data")
                argv.push_back(test::writeFile(dir, "d.jsonl", dataset()).string());
            else if (a == "@broken")
                argv.push_back(test::writeFile(dir, "broken.jsonl", "{\"text\": \"a\"}\n{\"text\": \n").string());
            else
                argv.push_back(a.toStdString());
        }
        const auto r = run(argv);
        QCOMPARE(r.code, 1);
        QCOMPARE(lineCount(r.err), 1);
        QVERIFY2(r.err.find(mentions.toStdString()) != std::string::npos, r.err.c_str());
    }

    void usageErrorsExitTwo_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("two controls") << QStringList{"segment", "x.md", "--blocks", "2", "--target-tokens", "9"};
        QTest::newRow("depth alone") << QStringList{"segment", "x.md", "--depth", "2"};
        QTest::newRow("zero blocks") << QStringList{"segment", "x.md", "--blocks", "0"};
        QTest::newRow("not a number") << QStringList{"segment", "x.md", "--threshold", "high"};
        QTest::newRow("min over max") << QStringList{"segment", "x.md", "--min-tokens", "9", "--max-tokens", "3"};
        QTest::newRow("dataset to segment") << QStringList{"segment", "x.jsonl"};
        QTest::newRow("eval without segmenter") << QStringList{"eval", "x.jsonl"};
        QTest::newRow("eval level 0") << QStringList{"eval", "x.jsonl", "--segmenter", "hybrid", "--level", "0"};
        QTest::newRow("eval oracle with a threshold") << QStringList{"eval", "x.jsonl", "--segmenter", "hybrid", "--threshold", "1"};
        QTest::newRow("segmenters takes no file") << QStringList{"segmenters", "x"};
    }
    void usageErrorsExitTwo()
    {
        QFETCH(QStringList, args);
        std::vector<std::string> argv;
        for (const auto& a : args)
            argv.push_back(a.toStdString());
        const auto r = run(argv);
        QCOMPARE(r.code, 2);
        QCOMPARE(lineCount(r.err), 1);
    }

    void evalReportsGroupsAndWritesPredictions()
    {
        QTemporaryDir dir;
        const auto data = test::writeFile(dir, "d.jsonl", dataset());
        const auto predictions = std::filesystem::path(dir.path().toStdString()) / "pred.jsonl";
        const auto r = run({"eval", data.string(), "--segmenter", "hybrid", "--predictions", predictions.string(), "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        const auto j = nlohmann::json::parse(r.out);
        QCOMPARE(j["protocol"].get<std::string>(), std::string("oracle-count"));
        QCOMPARE(j["level"].get<int>(), 2);
        const auto& groups = j["groups"];
        QCOMPARE(groups.back()["category"].get<std::string>(), std::string("all"));
        QCOMPARE(groups.back()["variant"].get<std::string>(), std::string("all"));
        QCOMPARE(groups.back()["documents"].get<int>(), 2);
        // The headings of doc-a are found exactly: told there are 3 boundaries, it places them.
        const auto& docA = j["documents"][0];
        QCOMPARE(docA["id"].get<std::string>(), std::string("doc-a"));
        QCOMPARE(docA["predicted_lines"], docA["reference_lines"]);
        QCOMPARE(docA["pk"].get<double>(), 0.0);

        std::ifstream in(predictions);
        std::string line;
        std::vector<nlohmann::json> rows;
        while (std::getline(in, line))
            rows.push_back(nlohmann::json::parse(line));
        QCOMPARE(rows.size(), std::size_t(2));
        QCOMPARE(rows[0]["id"].get<std::string>(), std::string("doc-a"));
        const std::string t = kMarkdown;
        QCOMPARE(rows[0]["boundaries"].get<std::vector<std::size_t>>(),
                 (std::vector<std::size_t>{t.find("## Install"), t.find("## Configure"), t.find("## Use")}));
        QCOMPARE(rows[1]["boundaries"].size(), std::size_t(1));

        // Level 1: one reference boundary in doc-a.
        const auto l1 = nlohmann::json::parse(run({"eval", data.string(), "--segmenter", "hybrid", "--level", "1", "--json"}).out);
        QCOMPARE(l1["documents"][0]["reference_lines"].size(), std::size_t(1));
        QCOMPARE(l1["documents"][0]["predicted_lines"].size(), std::size_t(1));
        // Free protocol with a granularity, and the text table.
        const auto free = run({"eval", data.string(), "--segmenter", "structural", "--protocol", "free", "--target-tokens", "10"});
        QVERIFY2(free.code == 0, free.err.c_str());
        QVERIFY(free.out.find("protocol free") != std::string::npos);
        QVERIFY(free.out.find("techdoc") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSegmentCli)
#include "test_segment_cli.moc"
