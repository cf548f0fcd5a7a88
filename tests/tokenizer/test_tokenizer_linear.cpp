// Linear-time guarantees of the tokenizer (issue 16): for each pathological shape, encoding an
// input four times the size must take at most kMaxRatio times as long. Both sizes are measured in
// this process, alternately, best of several runs in thread CPU time (a ratio, not a time limit), with sizes
// large enough that the quadratic code this replaced (restarting code-point counting from byte 0,
// a trie walk from every position, ...) takes 16x and fails clearly.
//
// Why 4x and not 2x: linear code measures 3.9-4.7 at 4x (5.4 under AddressSanitizer, whose
// shadow memory makes the larger input's cache misses dearer), so a limit of 8 leaves a margin
// of 50% for noise, where 2x with a limit of 2.5 left 25% (seen failing at 2.53 under
// AddressSanitizer beside parallel tests, CI 2026-12-05). The limit still means an exponent of at
// most 1.5: quadratic code measures 16, n log n about 4.5.
#include "support/temp_files.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/utf8.hpp"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <functional>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

using namespace blocklens;
using json = nlohmann::json;

namespace {

constexpr double kMaxRatio = 8.0;
constexpr int kRuns = 5;

std::string readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The real tokenizers: the fixtures (llama3, qwen3, llama2) and the demo model's ("demo").
const Tokenizer& tokenizer(const std::string& name)
{
    static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
    auto& t = cache[name];
    if (!t) {
        const auto path = name == "demo" ? test::sourceDir() / "resources/models/demo/tokenizer.json"
                                         : test::fixturesDir() / "tokenizers" / name / "tokenizer.json";
        t = std::make_unique<Tokenizer>(Tokenizer::fromFile(path));
    }
    return *t;
}

std::string repeatChars(const std::vector<char32_t>& cycle, std::size_t n)
{
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        utf8::append(s, cycle[i % cycle.size()]);
    return s;
}

// CPU time of this thread, not wall-clock time: on a loaded machine a run longer than a scheduler
// slice is preempted and its wall-clock time inflates, which would skew the ratio of a short run
// and a long one.
double threadSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double secondsOf(const std::function<void()>& f)
{
    const double t0 = threadSeconds();
    f();
    return threadSeconds() - t0;
}

// Encodes small and large (about four times small) with tok, best of kRuns each, and checks the ratio.
// Also checks that every span is well formed, so the work cannot be skipped.
void checkLinear(const Tokenizer& tok, const std::string& small, const std::string& large)
{
    // Each measurement encodes its text `reps` times, so the small one takes at least ~20 ms: one
    // encode of a millisecond is at the mercy of one interrupt or a cold cache line on a busy
    // machine (seen: 1.07 ms vs 3.41 ms, a ratio of 3.2, beside a parallel build).
    const double once = secondsOf([&] { (void)tok.encode(small); });
    const int reps = std::clamp(static_cast<int>(0.02 / std::max(once, 1e-6)) + 1, 1, 200);
    double best[2] = {1e9, 1e9};
    std::size_t tokens[2] = {0, 0};
    for (int run = 0; run < kRuns; ++run) {
        for (int k = 0; k < 2; ++k) {
            const std::string& text = k == 0 ? small : large;
            Encoding enc;
            best[k] = std::min(best[k], secondsOf([&] {
                for (int r = 0; r < reps; ++r)
                    enc = tok.encode(text);
            }) / reps);
            tokens[k] = enc.ids.size();
            const std::size_t chars = utf8::countCodePoints(text);
            for (const TokenSpan& s : enc.spans)
                QVERIFY(s.begin <= s.end && s.end <= chars);
        }
    }
    QVERIFY(tokens[0] > 0 && tokens[1] >= tokens[0]);
    const double ratio = best[1] / best[0];
    const std::string msg = std::to_string(small.size()) + " bytes: " + std::to_string(best[0] * 1e3) + " ms, " +
                            std::to_string(large.size()) + " bytes: " + std::to_string(best[1] * 1e3) +
                            " ms, ratio " + std::to_string(ratio) + " (limit " + std::to_string(kMaxRatio) + ")";
    qInfo("%s", msg.c_str());
    QVERIFY2(ratio <= kMaxRatio, msg.c_str());
}

// A small tokenizer.json: a BPE model over `vocab` (no merges), the given normalizer and added
// tokens, words split at whitespace.
Tokenizer tinyTokenizer(const std::vector<std::string>& vocab, const json& normalizer, const json& addedTokens)
{
    json v = json::object();
    for (std::size_t i = 0; i < vocab.size(); ++i)
        v[vocab[i]] = static_cast<int>(i);
    const json root = {{"version", "1.0"},
                       {"model", {{"type", "BPE"}, {"vocab", v}, {"merges", json::array()}}},
                       {"normalizer", normalizer},
                       {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
                       {"added_tokens", addedTokens}};
    return Tokenizer::fromJson(root.dump(), "tiny tokenizer.json");
}

std::vector<char32_t> range(char32_t first, char32_t last)
{
    std::vector<char32_t> v;
    for (char32_t c = first; c <= last; ++c)
        v.push_back(c);
    return v;
}

} // namespace

class TestTokenizerLinear : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // One pre-token of emoji: byte-level tokens inside 4-byte characters (the code-point offsets
    // used to restart from byte 0 for each) and a long BPE merge loop.
    void emojiPreToken_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("llama3") << "llama3";
        QTest::newRow("demo") << "demo";
    }
    void emojiPreToken()
    {
        QFETCH(QString, name);
        const auto emoji = range(0x1F600, 0x1F64F);
        checkLinear(tokenizer(name.toStdString()), repeatChars(emoji, 4000), repeatChars(emoji, 16000));
    }

    // "a" followed by many U+0301 COMBINING ACUTE ACCENT: one pre-token of 2-byte characters.
    void combiningMarks_data() { emojiPreToken_data(); }
    void combiningMarks()
    {
        QFETCH(QString, name);
        const std::string a = "a";
        checkLinear(tokenizer(name.toStdString()), a + repeatChars({0x301}, 12500), a + repeatChars({0x301}, 50000));
    }

    // One letter repeated: one pre-token that merges into ever longer tokens.
    void oneLetter_data()
    {
        QTest::addColumn<QString>("name");
        for (const char* n : {"llama3", "qwen3", "llama2", "demo"})
            QTest::newRow(n) << n;
    }
    void oneLetter()
    {
        QFETCH(QString, name);
        checkLinear(tokenizer(name.toStdString()), std::string(50000, 'a'), std::string(200000, 'a'));
    }

    // A run of CJK ideographs without spaces: one pre-token of 3-byte characters.
    void cjkPreToken_data() { oneLetter_data(); }
    void cjkPreToken()
    {
        QFETCH(QString, name);
        const auto cjk = range(0x4E00, 0x4FFF);
        checkLinear(tokenizer(name.toStdString()), repeatChars(cjk, 10000), repeatChars(cjk, 40000));
    }

    // One huge line of mixed multilingual text (the fixtures' texts joined, newlines removed):
    // many pre-tokens, scripts of 1 to 4 bytes per character.
    void hugeMixedLine_data() { oneLetter_data(); }
    void hugeMixedLine()
    {
        QFETCH(QString, name);
        const json texts = json::parse(readAll(test::sourceDir() / "tests/fixtures/tokenizers/texts.json"));
        std::string unit;
        for (const auto& [key, value] : texts.items())
            unit += value.get<std::string>() + " ";
        for (char& c : unit)
            if (c == '\n' || c == '\r')
                c = ' ';
        std::string small;
        while (small.size() < 100000)
            small += unit;
        checkLinear(tokenizer(name.toStdString()), small, small + small + small + small);
    }

    // Korean text (Hangul syllables, 3 bytes each, split in byte-level tokens) with spaces.
    void koreanOffsets_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("demo") << "demo";
        QTest::newRow("llama3") << "llama3";
    }
    void koreanOffsets()
    {
        QFETCH(QString, name);
        const std::string unit = "대한민국의 수도는 서울이며, 한국어는 한글로 적는다. 오늘 날씨가 맑고 따뜻합니다. ";
        std::string small;
        while (small.size() < 25000)
            small += unit;
        checkLinear(tokenizer(name.toStdString()), small, small + small + small + small);
    }

    // A Replace normalizer with an empty pattern inserts its content between all characters.
    void emptyPatternReplace()
    {
        const json replace = {{"type", "Replace"}, {"pattern", {{"String", ""}}}, {"content", "x"}};
        const Tokenizer tok = tinyTokenizer({"a", "b", "x"}, replace, json::array());
        std::string small;
        while (small.size() < 50000)
            small += "ab ";
        checkLinear(tok, small, small + small + small + small);
    }

    // An added token as long as a fifth of the text, almost matching everywhere ("aaa...ab" in
    // "aaa..."): a trie walk from each position costs text x token length.
    void longAddedToken()
    {
        auto make = [](std::size_t n) {
            const json added = json::array({{{"id", 3}, {"content", std::string(n / 5, 'a') + "b"}, {"special", true},
                                             {"normalized", false}}});
            return tinyTokenizer({"a", "b", "x"}, nullptr, added);
        };
        const std::size_t n = 30000;
        const Tokenizer small = make(n), large = make(4 * n);
        const std::string smallText(n, 'a'), largeText(4 * n, 'a');
        double best[2] = {1e9, 1e9};
        for (int run = 0; run < kRuns; ++run) {
            std::size_t count[2] = {0, 0};
            best[0] = std::min(best[0], secondsOf([&] { count[0] = small.encode(smallText).ids.size(); }));
            best[1] = std::min(best[1], secondsOf([&] { count[1] = large.encode(largeText).ids.size(); }));
            QCOMPARE(count[0], n);
            QCOMPARE(count[1], 4 * n);
        }
        const double ratio = best[1] / best[0];
        qInfo("%zu bytes: %.3f ms, %zu bytes: %.3f ms, ratio %.2f", n, best[0] * 1e3, 4 * n, best[1] * 1e3, ratio);
        QVERIFY2(ratio <= kMaxRatio, std::to_string(ratio).c_str());
        // The token is still found where it occurs (after a longer run of "a"), and only there.
        const std::string text = "b" + std::string(n / 5 + 7, 'a') + "b";
        const Encoding enc = small.encode(text);
        const std::vector<std::int32_t> expected{1, 0, 0, 0, 0, 0, 0, 0, 3};
        QCOMPARE(enc.ids, expected);
    }

    // An added token of whitespace with lstrip and rstrip in a long run of spaces: every space is
    // a hit, and each used to scan the whole run (back for lstrip, forward for rstrip) again.
    void whitespaceAddedTokenStrip()
    {
        const json added = json::array({{{"id", 2}, {"content", " "}, {"special", true}, {"normalized", false},
                                         {"lstrip", true}, {"rstrip", true}}});
        const Tokenizer tok = tinyTokenizer({"a", "b", "x"}, nullptr, added);
        auto text = [](std::size_t n) {
            std::string s;
            while (s.size() < n)
                s += "a" + std::string(2000, ' ') + "b";
            return s;
        };
        // Short runs: the first tokens are a, the run as one token, b.
        const Encoding enc = tok.encode("a   b");
        const std::vector<std::int32_t> expected{0, 2, 1};
        QVERIFY(enc.ids == expected);
        checkLinear(tok, "a" + std::string(25000, ' ') + "b", "a" + std::string(100000, ' ') + "b");
        checkLinear(tok, text(50000), text(200000));
    }
};

QTEST_APPLESS_MAIN(TestTokenizerLinear)
#include "test_tokenizer_linear.moc"
