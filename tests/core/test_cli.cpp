#include "cli/cli.hpp"
#include "support/cli_capture.hpp"
#include "cli/command.hpp"
#include "cli/progress_printer.hpp"
#include "support/temp_files.hpp"

#include <QProcess>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <sstream>

using namespace blocklens;

namespace {

using Result = blocklens::test::CliResult;
const auto runCli = &blocklens::test::runCliCaptured;

int lineCount(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

} // namespace

class TestCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyCommandHasHelp()
    {
        for (const auto& c : blocklens::cli::allCommands()) {
            const auto r = runCli({c.name, "--help"});
            QCOMPARE(r.code, 0);
            QVERIFY2(r.out.find("usage: blocklens-cli " + c.name) != std::string::npos, r.out.c_str());
        }
        const auto overview = runCli({"--help"});
        QCOMPARE(overview.code, 0);
        QVERIFY(overview.out.find("tokenize") != std::string::npos);
    }

    // Issue 15: --help fits an 80-column terminal (long descriptions wrap under their column).
    void helpFitsEightyColumns()
    {
        auto check = [](const std::string& text, const std::string& what) {
            std::istringstream lines(text);
            std::string line;
            while (std::getline(lines, line)) {
                const auto columns = std::count_if(line.begin(), line.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
                QVERIFY2(columns <= 80, (what + ": " + std::to_string(columns) + " columns: " + line).c_str());
            }
        };
        for (const auto& c : blocklens::cli::allCommands())
            check(runCli({c.name, "--help"}).out, c.name);
        check(runCli({"--help"}).out, "--help");
        // Wrapping keeps every word, in order.
        QCOMPARE(QString::fromStdString(blocklens::cli::wrap("aa bb cc dd", 5, 5, 2)), QStringLiteral("aa bb\n  cc dd"));
    }

    // Issue 15: progress redraws one line ('\r') on a terminal only; into a log or a pipe each
    // update is a line of its own.
    void progressIsPlainLinesOffATerminal()
    {
        using blocklens::cli::ProgressPrinter;
        std::ostringstream log;
        QVERIFY(!blocklens::cli::isTerminal(log));
        QVERIFY(!ProgressPrinter::styleFor(log).terminal);
        {
            ProgressPrinter printer(log, "evaluating", {.terminal = false, .quietFor = {}, .every = {}});
            const auto p = printer.progress();
            p.report(1, 4, "");
            p.report(2, 4, "");
        }
        QCOMPARE(log.str(), std::string("evaluating:  25% (1/4)\nevaluating:  50% (2/4)\n"));
        std::ostringstream tty;
        {
            ProgressPrinter printer(tty, "evaluating", {.terminal = true, .quietFor = {}, .every = {}});
            printer.progress().report(1, 4, "");
        }
        QCOMPARE(tty.str(), std::string("\revaluating:  25% (1/4)\n"));
    }

    void usageErrorsExitTwoWithOneLine()
    {
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {}, {"no-such-command"}, {"info"}, {"info", "a", "b"}, {"info", "--bogus", "x"}, {"tokenize", "x.txt"}}) {
            const auto r = runCli(args);
            QCOMPARE(r.code, 2);
            if (!args.empty())
                QCOMPARE(lineCount(r.err), 1);
        }
    }

    void badInputExitsOneWithOneLine()
    {
        QTemporaryDir dir;
        const auto bad = test::writeFile(dir, "bad.txt", "ok\xFF");
        const auto r = runCli({"info", bad.string()});
        QCOMPARE(r.code, 1);
        QCOMPARE(lineCount(r.err), 1);
        QVERIFY(r.err.find("bad.txt") != std::string::npos);
        QVERIFY(r.err.find("byte 2") != std::string::npos);
        const auto badJsonl = test::writeFile(dir, "d.jsonl", "{\"text\": \"a\"}\n{\"text\": \n");
        const auto r2 = runCli({"info", badJsonl.string()});
        QCOMPARE(r2.code, 1);
        QVERIFY2(r2.err.find("d.jsonl:2:") != std::string::npos, r2.err.c_str());
    }

    void infoJsonForDocumentAndDataset()
    {
        QTemporaryDir dir;
        const auto doc = test::writeFile(dir, "a.md", "# T\n\nh\xC3\xA9llo world\n");
        const auto r = runCli({"info", doc.string(), "--json"});
        QCOMPARE(r.code, 0);
        const auto j = nlohmann::json::parse(r.out);
        QCOMPARE(j["code_points"].get<int>(), 17);
        QCOMPARE(j["kind"].get<std::string>(), std::string("markdown"));
        QCOMPARE(j["paragraphs"].get<int>(), 2);
        const auto ds = test::writeFile(dir, "d.jsonl",
                                        "{\"category\": \"book\", \"variant\": \"plain\", \"text\": \"abc\\ndef\", \"boundaries\": [{\"offset\": 4, \"level\": 2}]}\n"
                                        "{\"chunks\": [\"x\", \"y\"]}\n");
        const auto r2 = runCli({"info", ds.string(), "--json"});
        QCOMPARE(r2.code, 0);
        const auto j2 = nlohmann::json::parse(r2.out);
        QCOMPARE(j2["documents"].get<int>(), 2);
        QCOMPARE(j2["boundaries_by_level"]["2"].get<int>(), 1);
        QCOMPARE(j2["by_category_variant"]["book/plain"].get<int>(), 1);
    }

    void realBinaryReportsErrorsAndExitCodes()
    {
        QProcess p;
        p.start(QStringLiteral(BLOCKLENS_CLI_PATH), {QStringLiteral("info"), QStringLiteral("/nonexistent/file.txt")});
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 1);
        QCOMPARE(QString::fromUtf8(p.readAllStandardError()).trimmed(),
                 QStringLiteral("blocklens-cli info: error: /nonexistent/file.txt: no such file"));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
