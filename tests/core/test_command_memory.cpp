// Bounded memory of the commands that hold per-token state (issue 16, item 4), under a real
// address-space limit. Each command runs in a forked child of this test (cli::runCli in-process,
// output thrown away as it is written): once on a small document to measure its peak address space
// (the libraries, the tokenizer, the process), then on a long document under RLIMIT_AS = that peak
// + a budget per byte of the long document. The bound by design: what a command keeps per token
// (ids, spans, offsets, candidates, scores) is a few words, never a tokens x tokens matrix nor a
// JSON tree of every token, so it fits in kBytesPerInputByte (measured 2026-12-05: 36 for info and
// tokenize, 41-53 for segment, 16 for eval, 34 for import); the learned segmenter also holds its
// feature matrix and the network's activations per candidate line (measured 70), hence its own. The same run under a quarter of a byte
// per input byte must fail with the one-line "out of memory" (exit 1, no crash): that shows the
// limit bites, and that running out is reported, not fatal.
#include "cli/cli.hpp"
#include "support/segment_dataset.hpp"
#include "support/address_space.hpp"
#include "support/temp_files.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <streambuf>

using namespace blocklens;

namespace {

// Bytes of memory a command may use per byte of its input, beyond what it uses on a small one.
constexpr std::uint64_t kBytesPerInputByte = 64;
constexpr std::uint64_t kLearnedBytesPerInputByte = 96;
// The long document: large enough that per-token state of a few words shows, small enough for CI.
constexpr std::size_t kLongBytes = std::size_t{4} << 20;

// Discards what is written (the commands' output must not count as their memory).
class NullBuffer final : public std::streambuf {
protected:
    int overflow(int c) override { return traits_type::not_eof(c); }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

struct Outcome {
    int code = -1;       // exit code, -1 when killed by a signal
    int signal = 0;
    std::uint64_t peak = 0; // the child's peak address space, bytes
    std::string err;
};

// Runs blocklens-cli `args` in a forked child under an address-space limit (0: none).
Outcome runInChild(const std::vector<std::string>& args, std::uint64_t limit)
{
    int fds[2];
    if (pipe(fds) != 0)
        return {};
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (limit > 0) {
            const rlimit r{limit, limit};
            setrlimit(RLIMIT_AS, &r);
        }
        NullBuffer sink;
        std::ostream out(&sink);
        std::ostringstream err;
        const int code = cli::runCli(args, out, err);
        const std::string report = std::to_string(test::peakAddressSpace()) + "\n" + err.str();
        [[maybe_unused]] const auto w = write(fds[1], report.data(), report.size());
        _exit(code);
    }
    close(fds[1]);
    std::string report;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
        report.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    Outcome o;
    if (WIFEXITED(status))
        o.code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        o.signal = WTERMSIG(status);
    if (const auto nl = report.find('\n'); nl != std::string::npos) {
        o.peak = std::stoull(report.substr(0, nl));
        o.err = report.substr(nl + 1);
    }
    return o;
}

// The guide, repeated with numbered headings up to `bytes`: lines, paragraphs and headings for
// every segmenter, words for the tokenizer.
std::string longMarkdown(std::size_t bytes)
{
    std::string s;
    for (int i = 0; s.size() < bytes; ++i)
        s += "# Part " + std::to_string(i) + "\n\n" + test::kGuideMarkdown + "\nSome more words, numbers " +
             std::to_string(i * 7919) + " and ünïcödé: 한국어, 中文, emoji 🙂.\n\n";
    return s;
}

std::string datasetOf(const std::string& text)
{
    const nlohmann::json record{{"id", "long"}, {"text", text}, {"boundaries", {{{"offset", text.find("# Part 1")}, {"level", 1}}}}};
    return record.dump() + "\n";
}

} // namespace

class TestCommandMemory : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::string small_, long_, smallSet_, longSet_, tokenizer_;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        const std::string smallText = longMarkdown(4096), longText = longMarkdown(kLongBytes);
        small_ = test::writeFile(dir_, "small.md", smallText).string();
        long_ = test::writeFile(dir_, "long.md", longText).string();
        smallSet_ = test::writeFile(dir_, "small.jsonl", datasetOf(smallText)).string();
        longSet_ = test::writeFile(dir_, "long.jsonl", datasetOf(longText)).string();
        tokenizer_ = (test::fixturesDir() / "tokenizers/llama3/tokenizer.json").string();
    }

    void longInputInBoundedMemory_data()
    {
        QTest::addColumn<QStringList>("args"); // DOC / SET stand for the document / dataset
        QTest::addColumn<bool>("dataset");
        QTest::addColumn<quint64>("budget"); // bytes per input byte
        const QString tok = QString::fromStdString(tokenizer_);
        const quint64 b = kBytesPerInputByte;
        QTest::newRow("info") << QStringList{"info", "DOC", "--tokenizer", tok} << false << b;
        QTest::newRow("tokenize") << QStringList{"tokenize", "DOC", "--tokenizer", tok} << false << b;
        QTest::newRow("tokenize --json") << QStringList{"tokenize", "DOC", "--tokenizer", tok, "--json"} << false << b;
        for (const char* s : {"fixed", "recursive", "paragraphs", "structural", "texttiling", "hybrid", "learned"})
            QTest::newRow((std::string("segment ") + s).c_str())
                << QStringList{"segment", "DOC", "--segmenter", s, "--tokenizer", tok, "--json"} << false
                << (std::string(s) == "learned" ? quint64{kLearnedBytesPerInputByte} : b);
        QTest::newRow("segment regex")
            << QStringList{"segment", "DOC", "--segmenter", "regex", "--regex", "^# ", "--tokenizer", tok} << false << b;
        QTest::newRow("eval") << QStringList{"eval", "SET", "--segmenter", "hybrid", "--json"} << true << b;
        QTest::newRow("import") << QStringList{"import", "SET", "--db", "DB", "--tokenizer", tok} << true << b;
    }
    void longInputInBoundedMemory()
    {
        QFETCH(QStringList, args);
        QFETCH(bool, dataset);
        QFETCH(quint64, budget);
        auto argv = [&](const std::string& input, const std::string& tag) {
            std::vector<std::string> v;
            for (const QString& a : args)
                v.push_back(a == "DOC" || a == "SET" ? input
                            : a == "DB"              ? (std::filesystem::path(dir_.path().toStdString()) / (tag + ".db")).string()
                                                     : a.toStdString());
            return v;
        };
        static int serial = 0;
        const std::string tag = "w" + std::to_string(++serial);
        const std::string& smallInput = dataset ? smallSet_ : small_;
        const std::string& longInput = dataset ? longSet_ : long_;

        const Outcome small = runInChild(argv(smallInput, tag + "s"), 0);
        QVERIFY2(small.code == 0, small.err.c_str());
        QVERIFY(small.peak > 0);
        const std::uint64_t bytes = std::filesystem::file_size(longInput);
        const std::uint64_t limit = small.peak + budget * bytes;
        const Outcome big = runInChild(argv(longInput, tag + "l"), limit);
        qInfo("small input: peak %llu MiB; %llu KiB input under %llu MiB: exit %d, signal %d, peak %llu MiB (%.1f bytes per input byte)",
              static_cast<unsigned long long>(small.peak >> 20), static_cast<unsigned long long>(bytes >> 10),
              static_cast<unsigned long long>(limit >> 20), big.code, big.signal, static_cast<unsigned long long>(big.peak >> 20),
              static_cast<double>(big.peak > small.peak ? big.peak - small.peak : 0) / static_cast<double>(bytes));
        if (big.code != 0) { // say what it needs
            const Outcome free = runInChild(argv(longInput, tag + "f"), 0);
            const double perByte = static_cast<double>(free.peak - std::min(free.peak, small.peak)) / static_cast<double>(bytes);
            QFAIL((std::to_string(budget) + " bytes per input byte were not enough (it needs " +
                   std::to_string(perByte) + "): signal " + std::to_string(big.signal) + ", " + big.err)
                      .c_str());
        }

        // Under a quarter of a byte per input byte the long input cannot fit: a one-line error.
        const Outcome tight = runInChild(argv(longInput, tag + "t"), small.peak + bytes / 4);
        QVERIFY2(tight.signal == 0, ("killed by signal " + std::to_string(tight.signal)).c_str());
        QVERIFY2(tight.code == 1, ("the long input fit under a quarter byte per byte: the limit does not bite (exit " +
                                   std::to_string(tight.code) + ")")
                                      .c_str());
        // One error line, the last (a progress line may come before it).
        const std::string last = tight.err.substr(tight.err.rfind('\n', tight.err.size() - 2) + 1);
        QVERIFY2(last.find("error: out of memory") != std::string::npos && tight.err.find("error:") + last.size() >= tight.err.size(),
                 tight.err.c_str());
    }
};

QTEST_GUILESS_MAIN(TestCommandMemory)
#include "test_command_memory.moc"
