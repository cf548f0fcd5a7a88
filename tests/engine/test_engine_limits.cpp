// Hostile and absurd inputs to the engine's commands (issue 16): every one is refused at once with a
// one-line error (exit 1, or 2 for a bad option) that names the file or option and the rule, instead
// of a crash, minutes of work, an overflow, a raw library message or NaN logits with exit 0.
#include "support/cli_capture.hpp"
#include "support/temp_files.hpp"
#include "engine/safetensors.hpp"

#include <QtTest>

#include <cmath>
#include <fstream>
#include <limits>

using namespace blocklens;
namespace fs = std::filesystem;

namespace {

using test::runCliCaptured;

std::string idList(std::int64_t n, std::int64_t vocab)
{
    std::string s;
    for (std::int64_t i = 0; i < n; ++i)
        s += (i ? "," : "") + std::to_string((i * 7 + 3) % vocab);
    return s;
}

std::string readText(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeText(const fs::path& p, const std::string& text)
{
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

// Exit code, one line on stderr, and every expected part in it.
#define VERIFY_ONE_LINE_ERROR(r, expectedCode, ...)                                                                    \
    do {                                                                                                               \
        QCOMPARE((r).code, expectedCode);                                                                              \
        QVERIFY2(std::count((r).err.begin(), (r).err.end(), '\n') == 1, (r).err.c_str());                              \
        for (const std::string& part : std::initializer_list<std::string>{__VA_ARGS__})                                                                   \
            QVERIFY2((r).err.find(part) != std::string::npos, ((r).err + " lacks: " + part).c_str());                 \
    } while (0)

} // namespace

class TestEngineLimits : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(tmp_.isValid());
        dir_ = tmp_.path().toStdString();
        model_ = dir_ / "tiny";
        const auto r = runCliCaptured({"make-model", "--arch", "llama", "--layers", "1", "--hidden", "32", "--heads", "4",
                                       "--vocab", "64", "--out", model_.string()});
        QVERIFY2(r.code == 0, r.err.c_str());
    }

    // A copy of the tiny model whose config.json is `config` (or left as it is when empty).
    fs::path modelWithConfig(const std::string& name, const std::string& config)
    {
        const fs::path d = dir_ / name;
        fs::create_directories(d);
        fs::copy_file(model_ / "model.safetensors", d / "model.safetensors", fs::copy_options::overwrite_existing);
        writeText(d / "config.json", config.empty() ? readText(model_ / "config.json") : config);
        return d;
    }

    std::string tinyConfigWith(const std::string& field, const std::string& value)
    {
        std::string c = readText(model_ / "config.json");
        const auto at = c.find("\"" + field + "\"");
        if (at == std::string::npos)
            return c.insert(1, "\"" + field + "\": " + value + ",");
        const auto colon = c.find(':', at), end = c.find_first_of(",\n}", colon);
        return c.replace(colon + 1, end - colon - 1, " " + value);
    }

    void nonsenseConfigValues_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("negative eps") << "rms_norm_eps" << "-1" << "rms_norm_eps: must be a finite number between 0 and 1";
        QTest::newRow("zero eps") << "rms_norm_eps" << "0" << "rms_norm_eps: must be a finite number between 0 and 1";
        QTest::newRow("denormal theta") << "rope_theta" << "1e-320" << "rope_theta: must be a finite number greater than 1";
        QTest::newRow("huge layers") << "num_hidden_layers" << "4294967297" << "num_hidden_layers: must be at most 2147483647";
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        for (const char* f : {"vocab_size", "rope_scaling", "hidden_act"})
            QTest::newRow((std::string("nested ") + f).c_str()) << f << QString::fromStdString(deep)
                                                                << "not valid JSON: nesting deeper than 512 levels";
    }
    void nonsenseConfigValues()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        const auto d = modelWithConfig("cfg-" + field.toStdString() + std::to_string(counter_++),
                                       tinyConfigWith(field.toStdString(), value.toStdString()));
        const auto r = runCliCaptured({"logits", "--model", d.string(), "--ids", "1,2,3", "--out", (dir_ / "x.npy").string()});
        VERIFY_ONE_LINE_ERROR(r, 1, (d / "config.json").string(), expected.toStdString());
    }

    void nanLogitsFailTheRun()
    {
        // Weights that make every logit NaN: the final norm's scale.
        const auto d = modelWithConfig("nan-weights", "");
        std::uint64_t at = 0, bytes = 0;
        {
            const auto f = engine::SafetensorsFile::open(d / "model.safetensors");
            const auto& t = f.at("model.norm.weight");
            at = 8 + f.headerJson().size() + t.begin;
            bytes = t.bytes();
        }
        std::fstream io(d / "model.safetensors", std::ios::binary | std::ios::in | std::ios::out);
        io.seekp(static_cast<std::streamoff>(at));
        const float nan = std::numeric_limits<float>::quiet_NaN();
        for (std::uint64_t i = 0; i < bytes / 4; ++i)
            io.write(reinterpret_cast<const char*>(&nan), 4);
        io.close();
        const auto out = dir_ / "nan.npy";
        auto r = runCliCaptured({"logits", "--model", d.string(), "--ids", "1,2,3", "--out", out.string()});
        VERIFY_ONE_LINE_ERROR(r, 1, d.string(), "contain NaN or infinity");
        QVERIFY(!fs::exists(out));
        r = runCliCaptured({"compare", "--model", d.string(), "--ids", "1,2,3,4", "--max-new-tokens", "2"});
        VERIFY_ONE_LINE_ERROR(r, 1, "contain NaN or infinity");
    }

    void configThatIsNotAFile()
    {
        // A directory in config.json's place (was: basic_filebuf::underflow).
        const auto d = dir_ / "dir-config";
        fs::create_directories(d / "config.json");
        fs::copy_file(model_ / "model.safetensors", d / "model.safetensors");
        auto r = runCliCaptured({"logits", "--model", d.string(), "--ids", "1", "--out", (dir_ / "x.npy").string()});
        VERIFY_ONE_LINE_ERROR(r, 1, (d / "config.json").string(), "is a directory");
        r = runCliCaptured({"compare", "--model", d.string(), "--ids", "1,2"});
        VERIFY_ONE_LINE_ERROR(r, 1, (d / "config.json").string(), "is a directory");

        // Symbolic link loops: as config.json, and as the model directory itself (was: a raw
        // "filesystem error", or "no config.json" for the loop inside).
        const auto l = dir_ / "loop-config";
        fs::create_directories(l);
        fs::create_symlink("config.json", l / "config.json");
        r = runCliCaptured({"logits", "--model", l.string(), "--ids", "1", "--out", (dir_ / "x.npy").string()});
        VERIFY_ONE_LINE_ERROR(r, 1, (l / "config.json").string(), "symbolic links");
        const auto loop = dir_ / "loop-model";
        fs::create_symlink("loop-model", loop);
        for (const std::string command : {"logits", "compare"}) {
            std::vector<std::string> args = {command, "--model", loop.string(), "--ids", "1"};
            if (command == "logits")
                args.insert(args.end(), {"--out", (dir_ / "x.npy").string()});
            r = runCliCaptured(args);
            VERIFY_ONE_LINE_ERROR(r, 1, loop.string(), "symbolic links");
            QVERIFY2(r.err.find("filesystem error") == std::string::npos, r.err.c_str());
        }
    }

    void sizesRefusedUpFront()
    {
        // A billion layers: refused before a tensor list is built or a byte written.
        const auto huge = dir_ / "billion";
        auto r = runCliCaptured({"make-model", "--arch", "llama", "--layers", "1000000000", "--out", huge.string()});
        VERIFY_ONE_LINE_ERROR(r, 1, "needs about", "GiB", "is available on this machine");
        QVERIFY(!fs::exists(huge));

        // 100,000 ids with every position's logits kept: [100000, 1048576] floats cannot fit.
        const auto wide = dir_ / "wide-vocab";
        r = runCliCaptured({"make-model", "--arch", "llama", "--layers", "1", "--hidden", "8", "--heads", "1", "--tie",
                            "--vocab", "1048576", "--out", wide.string()});
        QVERIFY2(r.code == 0, r.err.c_str());
        r = runCliCaptured({"logits", "--model", wide.string(), "--ids", idList(100000, 1048576), "--out", (dir_ / "w.npy").string()});
        VERIFY_ONE_LINE_ERROR(r, 1, "needs about", "for 100000 tokens", "is available on cpu");
    }

    void optionsThatOverflow_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        QTest::newRow("max-new-tokens") << QStringList{"compare", "--ids", "1,2", "--max-new-tokens", "9223372036854775807"}
                                        << "--max-new-tokens must be at most 2147483647";
        QTest::newRow("max-new-tokens + prompt") << QStringList{"compare", "--ids", "1,2", "--max-new-tokens", "2147483647"}
                                                 << "--max-new-tokens 2147483647 after 2 prompt tokens exceeds";
        QTest::newRow("temperature nan") << QStringList{"compare", "--ids", "1,2", "--temperature", "nan"}
                                         << "--temperature: nan is not a finite number";
        QTest::newRow("temperature inf") << QStringList{"compare", "--ids", "1,2", "--temperature", "inf"}
                                         << "--temperature: inf is not a finite number";
        QTest::newRow("lengths") << QStringList{"bench-ttft", "--lengths", "99999999999999999k"}
                                 << "--lengths: '99999999999999999k' is more than the 2147483647 tokens a run can hold";
        QTest::newRow("lengths out of int64") << QStringList{"bench-ttft", "--lengths", "2k,99999999999999999999"}
                                              << "is more than the 2147483647 tokens";
        QTest::newRow("lengths + question") << QStringList{"bench-ttft", "--lengths", "2097151k", "--question", "2000"}
                                            << "tokens are more than the 2147483647 tokens a run can hold";
        QTest::newRow("cache-gb nan") << QStringList{"bench-ttft", "--lengths", "64", "--cache-gb", "nan"}
                                      << "--cache-gb: nan is not a finite number";
    }
    void optionsThatOverflow()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        std::vector<std::string> a;
        for (const auto& s : args)
            a.push_back(s.toStdString());
        a.insert(a.begin() + 1, {"--model", model_.string()});
        const auto r = runCliCaptured(a);
        VERIFY_ONE_LINE_ERROR(r, 2, expected.toStdString());
    }

    void emptyTokenizerVocabulary()
    {
        const auto tok = test::writeFile(tmp_, "empty-vocab.json", R"({"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}})");
        const auto r = runCliCaptured({"make-model", "--arch", "llama", "--layers", "1", "--tokenizer", tok.string(), "--out",
                                       (dir_ / "never").string()});
        VERIFY_ONE_LINE_ERROR(r, 1, tok.string(), "model.vocab: the BPE vocabulary is empty");
        QVERIFY2(r.err.find("-1") == std::string::npos, r.err.c_str());
    }

private:
    QTemporaryDir tmp_;
    fs::path dir_, model_;
    int counter_ = 0;
};

QTEST_GUILESS_MAIN(TestEngineLimits)
#include "test_engine_limits.moc"
