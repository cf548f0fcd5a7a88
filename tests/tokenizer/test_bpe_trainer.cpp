// Byte-level BPE training (core/tokenizer/bpe_trainer) and the corpus token files
// (core/learn/lm/corpus): merges in frequency order, the written tokenizer.json loads and
// round-trips, threaded word counting equals single-threaded, bad options and corrupt token files
// are errors, and the train-tokenizer / encode-corpus commands.
#include "cli/cli.hpp"
#include "learn/lm/corpus.hpp"
#include "support/temp_files.hpp"
#include "tokenizer/bpe_trainer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <QtTest>

#include <sstream>

using namespace blocklens;

namespace {

// Deterministic English-like text: sentences from a small vocabulary, some Unicode.
std::string syntheticText(std::size_t sentences, unsigned seed)
{
    static const char* const words[] = {"the", "model", "reads", "tokens", "and", "attention", "blocks", "of",
                                        "text", "caf\xc3\xa9", "na\xc3\xafve", "\xe2\x80\x94", "42", "1999,", "it's",
                                        "don't", "(see", "below)", "x = y + 1;", "\xf0\x9f\x99\x82"};
    std::string out;
    unsigned state = seed;
    for (std::size_t s = 0; s < sentences; ++s) {
        const unsigned len = 3 + (state = state * 1103515245u + 12345u) % 9;
        for (unsigned w = 0; w < len; ++w) {
            state = state * 1103515245u + 12345u;
            out += (w ? " " : "");
            out += words[(state >> 16) % 20];
        }
        out += (s % 7 == 6) ? ".\n\n" : ". ";
    }
    return out;
}

} // namespace

class TestBpeTrainer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void mergesMostFrequentPairFirst()
    {
        BpeWordCounts counts;
        counts.add("ab ab ab cd");
        BpeTrainerOptions o;
        o.vocabSize = 1000;
        const auto r = trainByteLevelBpe(counts, o);
        // (a,b) x3 -> "ab"; then (Ġ,ab) x2 -> "Ġab"; the pairs seen once stay unmerged.
        QCOMPARE(r.merges, std::size_t{2});
        QCOMPARE(r.vocabSize, std::size_t{2 + 256 + 2});
        const Tokenizer t = Tokenizer::fromJson(r.json);
        QCOMPARE(*t.tokenToId("<|begin_of_text|>"), 0);
        QCOMPARE(*t.tokenToId("<|end_of_text|>"), 1);
        QCOMPARE(*t.tokenToId("ab"), 258);
        QCOMPARE(*t.tokenToId("\xc4\xa0" "ab"), 259); // "Ġab"
        const Encoding e = t.encode("ab ab cd", /*addSpecialTokens=*/true);
        // [BOS] ab Ġab Ġ c d: "Ġ" is byte 0x20's stand-in, c and d are their byte tokens.
        QCOMPARE(e.ids.size(), std::size_t{6});
        QCOMPARE(e.ids[0], 0);
        QCOMPARE(e.ids[1], 258);
        QCOMPARE(e.ids[2], 259);
        QCOMPARE(e.ids[3], 2 + 0x20);
        QCOMPARE(e.ids[4], 2 + 'c');
        QCOMPARE(e.ids[5], 2 + 'd');
        QCOMPARE(t.decode(e.ids, /*skipSpecialTokens=*/true), std::string("ab ab cd"));
    }

    void vocabularyLimitAndMinFrequency()
    {
        BpeWordCounts counts;
        counts.add(syntheticText(2000, 7));
        BpeTrainerOptions o;
        o.vocabSize = 300;
        auto r = trainByteLevelBpe(counts, o);
        QCOMPARE(r.vocabSize, std::size_t{300});
        o.vocabSize = 100000; // the text runs out of pairs seen twice long before
        o.minFrequency = 2;
        r = trainByteLevelBpe(counts, o);
        QVERIFY(r.vocabSize < 100000);
        QVERIFY(r.vocabSize > 300);
    }

    void trainedTokenizerRoundTrips()
    {
        const std::string text = syntheticText(3000, 11);
        BpeWordCounts counts;
        counts.add(text);
        BpeTrainerOptions o;
        o.vocabSize = 330; // the synthetic text runs out of pairs at about 350
        const Tokenizer t = Tokenizer::fromJson(trainByteLevelBpe(counts, o).json);
        QCOMPARE(t.vocabSize(), std::size_t{330});
        const std::string probes[] = {syntheticText(50, 99), "Unseen words: zyxwvut, \xe4\xb8\xad\xe6\x96\x87, tabs\tand\r\nCRLF  ",
                                      "", " ", "\n\n\n", "<|end_of_text|> inside text"};
        for (const auto& p : probes) {
            const Encoding e = t.encode(p);
            QCOMPARE(t.decode(e.ids), p);
            for (const auto id : e.ids)
                QVERIFY(id >= 0 && static_cast<std::size_t>(id) < t.vocabSize());
        }
        // Training text compresses: fewer tokens than bytes.
        const Encoding e = t.encode(text);
        QVERIFY(e.ids.size() * 2 < text.size());
        // The special token written in the text is recognised as one token.
        const Encoding s = t.encode("a<|end_of_text|>b");
        QVERIFY(std::find(s.ids.begin(), s.ids.end(), 1) != s.ids.end());
    }

    void threadedCountingEqualsSingleThreaded()
    {
        std::string big;
        while (big.size() < (3u << 20))
            big += syntheticText(500, static_cast<unsigned>(big.size()));
        BpeWordCounts one, many;
        one.add(big, 1);
        many.add(big, 4);
        QCOMPARE(many.totalWords(), one.totalWords());
        QVERIFY(many.words() == one.words());
    }

    void badOptionsAreErrors()
    {
        BpeWordCounts counts;
        counts.add("hello");
        BpeTrainerOptions o;
        o.vocabSize = 257; // 2 specials + 256 bytes do not fit
        QVERIFY_THROWS_EXCEPTION(Error, trainByteLevelBpe(counts, o));
        o.vocabSize = 1000;
        o.specialTokens = {"<s>", "<s>"};
        QVERIFY_THROWS_EXCEPTION(Error, trainByteLevelBpe(counts, o));
    }

    void documentsAndTokenFiles()
    {
        const std::string corpus = "first doc\nline two\n\x1e\nsecond\n\x1e\n\x1e\nthird";
        const auto docs = lm::splitDocuments(corpus);
        QCOMPARE(docs.size(), std::size_t{3});
        QCOMPARE(std::string(docs[0]), std::string("first doc\nline two"));
        QCOMPARE(std::string(docs[2]), std::string("third"));

        QTemporaryDir dir;
        const std::vector<std::uint16_t> tokens{0, 65535, 7, 1};
        const auto path = std::filesystem::path(dir.path().toStdString()) / "t.u16";
        lm::writeTokenFile(path, tokens);
        QVERIFY(lm::readTokenFile(path) == tokens);
        // Truncated: the header's count no longer matches.
        std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
        QVERIFY_THROWS_EXCEPTION(Error, lm::readTokenFile(path));
        const auto junk = test::writeFile(dir, "junk.u16", "not a token file at all");
        QVERIFY_THROWS_EXCEPTION(Error, lm::readTokenFile(junk));
    }

    void trainAndEncodeCommands()
    {
        QTemporaryDir dir;
        std::string corpus;
        for (int d = 0; d < 20; ++d)
            corpus += syntheticText(100, static_cast<unsigned>(d)) + "\n\x1e\n";
        const auto input = test::writeFile(dir, "train.txt", corpus);
        const std::string out = dir.filePath("tokenizer.json").toStdString();
        std::ostringstream o, e;
        QCOMPARE(cli::runCli({"train-tokenizer", "--input", input.string(), "--vocab", "320", "--out", out}, o, e), 0);
        const Tokenizer t = Tokenizer::fromFile(out);
        QCOMPARE(t.vocabSize(), std::size_t{320});
        const std::string tokens = dir.filePath("train.u16").toStdString();
        std::ostringstream o2, e2;
        QCOMPARE(cli::runCli({"encode-corpus", "--tokenizer", out, "--input", input.string(), "--out", tokens}, o2, e2), 0);
        const auto ids = lm::readTokenFile(tokens);
        // 20 documents, each [BOS] ... [EOS], decoding back to the text.
        QCOMPARE(std::count(ids.begin(), ids.end(), std::uint16_t{0}), std::ptrdiff_t{20});
        QCOMPARE(std::count(ids.begin(), ids.end(), std::uint16_t{1}), std::ptrdiff_t{20});
        const auto firstEos = std::find(ids.begin(), ids.end(), std::uint16_t{1});
        const std::vector<std::int32_t> doc0(ids.begin() + 1, firstEos);
        QCOMPARE(t.decode(doc0), syntheticText(100, 0) );
        // A tokenizer without the asked-for BOS token is an error naming it.
        std::ostringstream o3, e3;
        QCOMPARE(cli::runCli({"encode-corpus", "--tokenizer", out, "--input", input.string(), "--bos", "<nope>", "--out", tokens}, o3, e3), 1);
        QVERIFY(e3.str().find("<nope>") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestBpeTrainer)
#include "test_bpe_trainer.moc"
