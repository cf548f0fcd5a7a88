// Hostile file arguments and inputs (issue 16): FIFOs, devices, links and link loops given as
// inputs or outputs, a byte-order mark alone, out-of-range numbers in datasets and in options,
// file names that are not UTF-8, size limits that must be told apart.
#include "cli/args.hpp"
#include "document/dataset.hpp"
#include "document/document.hpp"
#include "support/cli_capture.hpp"
#include "support/temp_files.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "support/error_of.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <iterator>

#include <sys/stat.h>
#include <unistd.h>

using namespace blocklens;
using namespace blocklens::test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

fs::path makeFifo(const QTemporaryDir& dir, const std::string& name)
{
    const fs::path p = fs::path(dir.path().toStdString()) / name;
    if (::mkfifo(p.c_str(), 0600) != 0)
        return {};
    return p;
}

std::string readAll(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

int lineCount(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

} // namespace

class TestHostileFiles : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Opening a FIFO for reading blocks until a writer comes: each reader refuses it first.
    void fifoAsInputIsRefusedWithoutBlocking()
    {
        QTemporaryDir dir;
        const auto fifo = makeFifo(dir, "pipe.jsonl");
        if (fifo.empty())
            QSKIP("cannot make a FIFO here");
        for (const auto& [what, load] : std::vector<std::pair<std::string, std::function<void()>>>{
                 {"document", [&] { (void)loadDocument(fifo); }},
                 {"dataset", [&] { (void)loadDataset(fifo); }},
                 {"tokenizer", [&] { (void)Tokenizer::fromFile(fifo); }}}) {
            const auto e = errorOf(load);
            QVERIFY2(contains(e, "is not a regular file (a FIFO)") && contains(e, what) && contains(e, fifo.string()),
                     e.c_str());
        }
        for (const auto& args : std::vector<std::vector<std::string>>{{"info", fifo.string()},
                                                                       {"tokenize", "--tokenizer", fifo.string(), "--text", "x"}}) {
            const auto r = runCliCaptured(args);
            QCOMPARE(r.code, 1);
            QCOMPARE(lineCount(r.err), 1);
            QVERIFY2(contains(r.err, "is not a regular file (a FIFO)"), r.err.c_str());
        }
    }

    void devicesAndLinkLoopsAsInputGiveOneLine()
    {
        const auto e = errorOf([] { (void)loadDocument("/dev/zero"); });
        QVERIFY2(contains(e, "is not a regular file (a character device)"), e.c_str());
        QTemporaryDir dir;
        const fs::path a = fs::path(dir.path().toStdString()) / "a.txt", b = fs::path(dir.path().toStdString()) / "b.txt";
        fs::create_symlink(b, a);
        fs::create_symlink(a, b);
        const auto loop = errorOf([&] { (void)loadDocument(a); });
        QVERIFY2(contains(loop, a.string()) && contains(loop, "cannot examine the document file"), loop.c_str());
        // A link to a regular file is read as the file.
        const auto real = writeFile(dir, "real.txt", "some text\n");
        fs::create_symlink(real, fs::path(dir.path().toStdString()) / "link.txt");
        QCOMPARE(loadDocument(fs::path(dir.path().toStdString()) / "link.txt").text(), std::string("some text\n"));
    }

    // Empty files are refused; a file holding only a UTF-8 byte-order mark is just as empty.
    void byteOrderMarkAloneIsAnEmptyFile()
    {
        QTemporaryDir dir;
        const auto doc = writeFile(dir, "bom.txt", "\xEF\xBB\xBF");
        auto e = errorOf([&] { (void)loadDocument(doc); });
        QVERIFY2(contains(e, "file is empty"), e.c_str());
        const auto data = writeFile(dir, "bom.jsonl", "\xEF\xBB\xBF");
        e = errorOf([&] { (void)loadDataset(data); });
        QVERIFY2(contains(e, "file is empty"), e.c_str());
        // With text after it, the mark is dropped and the text kept.
        QCOMPARE(loadDocument(writeFile(dir, "ok.txt", "\xEF\xBB\xBFhi")).text(), std::string("hi"));
    }

    // "level": 4294967297 narrowed to int is 1; it must be refused, naming line and field.
    void boundaryLevelIsRangeCheckedBeforeNarrowing_data()
    {
        QTest::addColumn<QString>("level");
        QTest::newRow("2^32 + 1") << "4294967297";
        QTest::newRow("-(2^32 - 1)") << "-4294967295";
        QTest::newRow("2^64 - 1") << "18446744073709551615";
        QTest::newRow("10") << "10";
        QTest::newRow("0") << "0";
    }
    void boundaryLevelIsRangeCheckedBeforeNarrowing()
    {
        QFETCH(QString, level);
        QTemporaryDir dir;
        const auto data = writeFile(dir, "levels.jsonl",
                                    "{\"text\": \"one two three\"}\n{\"text\": \"one two three\", \"boundaries\": "
                                    "[{\"offset\": 4, \"level\": 2}, {\"offset\": 8, \"level\": "
                                        + level.toStdString() + "}]}\n");
        const auto e = errorOf([&] { (void)loadDataset(data); });
        QVERIFY2(contains(e, "levels.jsonl:2") && contains(e, "boundaries[1]") && contains(e, level.toStdString())
                     && contains(e, "outside 1..9"),
                 e.c_str());
    }

    // 1e999 does not fit a double: nlohmann's out_of_range.406 becomes a one-line Error with the
    // file, the line and the field.
    void hugeNumberNamesFileLineAndField()
    {
        QTemporaryDir dir;
        const auto data = writeFile(dir, "big.jsonl", "{\"text\": \"a b\"}\n{\"text\": \"a b\", \"score\": 1e999}\n");
        std::string e;
        try {
            e = errorOf([&] { (void)loadDataset(data); });
        } catch (const std::exception& other) {
            QFAIL((std::string("not a blocklens::Error: ") + other.what()).c_str());
        }
        QVERIFY2(contains(e, "big.jsonl:2") && contains(e, "\"score\"") && contains(e, "out of range")
                     && !contains(e, "json.exception"),
                 e.c_str());
    }

    // "file is 67.1 MB; the limit is 67.1 MB" told the user nothing: sizes are exact.
    void sizeLimitMessageTellsTheSizesApart()
    {
        QTemporaryDir dir;
        const auto doc = writeFile(dir, "big.txt", std::string(1'000'001, 'a'));
        LoadOptions o;
        o.maxBytes = 1'000'000;
        const auto e = errorOf([&] { (void)loadDocument(doc, o); });
        QVERIFY2(contains(e, "1,000,001 bytes") && contains(e, "1,000,000 bytes"), e.c_str());
        QCOMPARE(formatByteCount(67'108'865), std::string("67,108,865 bytes (64.0 MiB)"));
        QCOMPARE(formatByteCount(999), std::string("999 bytes (0.0 MiB)"));
    }

    // Every numeric option goes through ArgSpec::Parsed::integer / number.
    void numericOptionsOutOfRangeSaySo()
    {
        cli::ArgSpec spec("test", "test");
        spec.option("n", "N", "an integer").option("x", "X", "a number");
        auto message = [&](std::vector<std::string> args, bool integer) -> std::string {
            try {
                const auto p = spec.parse(args);
                if (integer)
                    (void)p.integer("n");
                else
                    (void)p.number("x");
            } catch (const cli::UsageError& e) {
                return e.message;
            }
            return {};
        };
        QCOMPARE(message({"--n", "99999999999999999999"}, true),
                 std::string("--n: 99999999999999999999 is out of range (-9223372036854775808 to 9223372036854775807)"));
        QVERIFY(contains(message({"--n", "-99999999999999999999"}, true), "is out of range"));
        QVERIFY(contains(message({"--n", "12abc"}, true), "expects an integer"));
        QVERIFY(contains(message({"--x", "1e999"}, false), "--x: 1e999 is out of range"));
        QVERIFY(contains(message({"--x", "nan"}, false), "--x: nan is not a finite number"));
        QVERIFY(contains(message({"--x", "inf"}, false), "not a finite number"));
        QVERIFY(contains(message({"--x", "1.5x"}, false), "expects a number"));
        QVERIFY(contains(message({"--x", ""}, false), "expects a number"));
        QCOMPARE(spec.parse({"--x", "+2.5"}).number("x"), 2.5);
        QCOMPARE(spec.parse({"--x", "-1e3"}).number("x"), -1000.0);
        QCOMPARE(spec.parse({"--n", "-9223372036854775808"}).integer("n"), INT64_MIN);
    }

    // A file name is bytes; one that is not UTF-8 must not turn info --json into an error.
    void nonUtf8FileNameInJsonOutput()
    {
        QTemporaryDir dir;
        const auto doc = writeFile(dir, "caf\xE9.txt", "Hello there.\n");
        const auto r = runCliCaptured({"info", doc.string(), "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        const auto j = nlohmann::json::parse(r.out);
        QVERIFY2(contains(j.dump(), "caf\xEF\xBF\xBD.txt"), r.out.c_str()); // U+FFFD for the byte 0xE9
        fs::remove(doc); // QTemporaryDir cannot name it (not UTF-8), so cannot remove it
    }

    // OutputFile: never replaces what is not a regular file, never writes through a link,
    // refuses an existing file unless asked, and leaves no .part behind.
    void outputFileRefusesWhatItMustNotReplace()
    {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        const auto existing = writeFile(dir, "existing.csv", "keep\n");
        auto e = errorOf([&] { OutputFile f(existing, false); });
        QVERIFY2(contains(e, "already exists") && contains(e, "--force"), e.c_str());
        QCOMPARE(readAll(existing), std::string("keep\n"));

        const auto victim = writeFile(dir, "victim.txt", "precious\n");
        fs::create_symlink(victim, root / "link.csv");
        for (bool overwrite : {false, true}) {
            e = errorOf([&] { OutputFile f(root / "link.csv", overwrite); });
            QVERIFY2(contains(e, "symbolic link"), e.c_str());
        }
        QVERIFY(fs::is_symlink(root / "link.csv"));
        QCOMPARE(readAll(victim), std::string("precious\n"));

        fs::create_directory(root / "adir");
        e = errorOf([&] { OutputFile f(root / "adir", true); });
        QVERIFY2(contains(e, "not a regular file (a directory)"), e.c_str());
        QVERIFY(!fs::exists(root / "adir.part"));

        const auto fifo = makeFifo(dir, "pipe.csv");
        if (!fifo.empty()) {
            e = errorOf([&] { OutputFile f(fifo, true); });
            QVERIFY2(contains(e, "not a regular file (a FIFO)"), e.c_str());
            QVERIFY(!fs::exists(root / "pipe.csv.part"));
            e = errorOf([&] { requireRegularOrNewFile(fifo); });
            QVERIFY2(contains(e, "a FIFO"), e.c_str());
        }
        e = errorOf([&] { OutputFile f(root / "missing-dir" / "x.csv", false); });
        QVERIFY2(contains(e, "does not exist"), e.c_str());

        // Not committed (an error while writing): nothing is left, and an existing target stays.
        {
            OutputFile f(existing, true);
            f.stream() << "half";
            QVERIFY(fs::exists(f.partPath()));
        }
        QVERIFY(!fs::exists(root / "existing.csv.part"));
        QCOMPARE(readAll(existing), std::string("keep\n"));
        // A stale .part from a killed run is replaced; one that is a link is not followed.
        writeFile(dir, "new.csv.part", "stale");
        {
            OutputFile f(root / "new.csv", false);
            f.stream() << "fresh\n";
            f.commit();
        }
        QCOMPARE(readAll(root / "new.csv"), std::string("fresh\n"));
        QVERIFY(!fs::exists(root / "new.csv.part"));
        fs::create_symlink(victim, root / "other.csv.part");
        e = errorOf([&] { OutputFile f(root / "other.csv", false); });
        QVERIFY2(contains(e, "not a regular file"), e.c_str());
        QCOMPARE(readAll(victim), std::string("precious\n"));
        // Overwrite replaces a regular file whole.
        {
            OutputFile f(existing, true);
            f.stream() << "new\n";
            f.commit();
        }
        QCOMPARE(readAll(existing), std::string("new\n"));
    }
};

QTEST_GUILESS_MAIN(TestHostileFiles)
#include "test_hostile_files.moc"
