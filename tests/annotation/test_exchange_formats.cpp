// The ecosystem's block formats (document/exchange_formats.hpp): each round-trips text and
// boundaries exactly, in memory and through `import --format` / `db export --format`, and
// malformed input names the line and the field.
#include "document/exchange_formats.hpp"
#include "support/cli_capture.hpp"
#include "support/error_of.hpp"
#include "support/temp_files.hpp"
#include "util/error.hpp"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>

using namespace blocklens;
using test::errorOf;

namespace {

// Documents with what breaks careless offset code: accents (2-byte UTF-8), an emoji (4 bytes,
// a UTF-16 surrogate pair), CRLF, tabs, quotes and a single-block document.
std::vector<std::pair<Document, std::vector<Boundary>>> samples()
{
    DocumentMeta m1;
    m1.id = "a1";
    m1.category = "book";
    m1.lang = "fr";
    const Document d1("\xC3\x89t\xC3\xA9 \xC3\xA0 Paris.\r\nDeuxi\xC3\xA8me \xF0\x9F\x98\x80 ligne.\n\tTab \"here\".\nEnd", m1);
    DocumentMeta m2;
    m2.id = "b2";
    const Document d2("Only one block, no boundary.", m2);
    DocumentMeta m3;
    m3.id = "c3";
    const Document d3("Q1\nQ2 \xF0\x9F\x98\x80\xF0\x9F\x98\x80\nQ3", m3);
    return {{d1, {{14, 1}, {30, 2}, {42, 1}}}, {d2, {}}, {d3, {{3, 1}, {6, 1}, {7, 3}}}};
}

std::vector<std::size_t> offsets(const std::vector<Boundary>& bs)
{
    std::vector<std::size_t> out;
    for (const auto& b : bs)
        out.push_back(b.offset);
    return out;
}

std::string readAll(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

Document parse(const std::string& line, ExchangeFormat f, const ExchangeOptions& o = {})
{
    return parseExchangeRecord(line, 7, "in.jsonl", f, o);
}

} // namespace

class TestExchangeFormats : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void roundTripInMemory_data()
    {
        QTest::addColumn<int>("format");
        QTest::addColumn<int>("unit");
        QTest::addColumn<QString>("separator");
        QTest::newRow("record") << int(ExchangeFormat::Record) << 0 << "";
        QTest::newRow("chunks") << int(ExchangeFormat::Chunks) << 0 << "";
        QTest::newRow("block-attention") << int(ExchangeFormat::BlockAttention) << 0 << "";
        QTest::newRow("block-attention-request") << int(ExchangeFormat::BlockAttentionRequest) << 0 << "";
        QTest::newRow("cacheblend") << int(ExchangeFormat::CacheBlend) << 0 << " # # ";
        QTest::newRow("cacheblend-custom") << int(ExchangeFormat::CacheBlend) << 0 << "<|blend|>";
        QTest::newRow("chunk-offsets-codepoints") << int(ExchangeFormat::ChunkOffsets) << int(OffsetUnit::CodePoints) << "";
        QTest::newRow("chunk-offsets-utf16") << int(ExchangeFormat::ChunkOffsets) << int(OffsetUnit::Utf16) << "";
        QTest::newRow("chunk-offsets-bytes") << int(ExchangeFormat::ChunkOffsets) << int(OffsetUnit::Bytes) << "";
    }
    void roundTripInMemory()
    {
        QFETCH(int, format);
        QFETCH(int, unit);
        QFETCH(QString, separator);
        const auto f = static_cast<ExchangeFormat>(format);
        ExchangeOptions o;
        o.offsets = static_cast<OffsetUnit>(unit);
        if (!separator.isEmpty())
            o.separator = separator.toStdString();
        for (const auto& [doc, boundaries] : samples()) {
            const std::string line = formatExchangeRecord(doc, boundaries, f, o);
            const Document back = parse(line, f, o);
            QCOMPARE(back.text(), doc.text());
            QCOMPARE(offsets(back.reference()), offsets(boundaries));
            if (f != ExchangeFormat::BlockAttentionRequest)
                QCOMPARE(back.meta().id, doc.meta().id);
            // Written again, the line is the same bytes.
            QCOMPARE(formatExchangeRecord(back, back.reference(), f, o), line);
        }
    }

    void shapesOfTheFormats()
    {
        const auto [doc, boundaries] = samples()[2];
        // The last block is the global one: the question of a Block-Attention record.
        const auto ba = nlohmann::json::parse(formatExchangeRecord(doc, boundaries, ExchangeFormat::BlockAttention));
        QCOMPARE(ba["prompt"].get<std::string>(), doc.text());
        QCOMPARE(ba["blocks"].size(), std::size_t(4));
        QCOMPARE(ba["blocks"][3].get<std::string>(), std::string("\xF0\x9F\x98\x80\nQ3"));
        QCOMPARE(ba["response"].get<std::string>(), std::string());
        const auto req = nlohmann::json::parse(formatExchangeRecord(doc, boundaries, ExchangeFormat::BlockAttentionRequest));
        QCOMPARE(req.size(), std::size_t(1));
        QCOMPARE(req["blocks"][0].get<std::string>(), std::string("Q1\n"));
        const auto cb = nlohmann::json::parse(formatExchangeRecord(doc, boundaries, ExchangeFormat::CacheBlend));
        QCOMPARE(cb["prompt"].get<std::string>(), std::string("Q1\n # # Q2  # # \xF0\x9F\x98\x80 # # \xF0\x9F\x98\x80\nQ3"));
        ExchangeOptions utf16;
        utf16.offsets = OffsetUnit::Utf16;
        const auto co = nlohmann::json::parse(formatExchangeRecord(doc, boundaries, ExchangeFormat::ChunkOffsets, utf16));
        // "Q2 " ends at code point 6 = UTF-16 unit 6; the first emoji is two units: [6, 8).
        QCOMPARE(co["chunks"][2]["start_index"].get<int>(), 6);
        QCOMPARE(co["chunks"][2]["end_index"].get<int>(), 8);
        QCOMPARE(co["chunks"][3]["start_index"].get<int>(), 8);
    }

    void chunkListsAsLibrariesEmitThem()
    {
        // A full text with chunks that skip the whitespace between them (LangChain strips it):
        // each chunk must be text[start:end]; the gap joins the block before it.
        const std::string oneLine =
            R"({"id": "x", "text": "Alpha beta.\n\nGamma delta.\n\nEnd.", "chunks": [{"text": "Alpha beta.", "start_index": 0, )"
            R"("end_index": 11}, {"text": "Gamma delta.", "start_index": 13, "end_index": 25}, {"text": "End.", "start_index": 27, )"
            R"("end_index": 31}]})";
        const Document d = parse(oneLine, ExchangeFormat::ChunkOffsets);
        QCOMPARE(d.text(), std::string("Alpha beta.\n\nGamma delta.\n\nEnd."));
        QCOMPARE(offsets(d.reference()), (std::vector<std::size_t>{13, 27}));
        QCOMPARE(d.meta().id, std::string("x"));
        // A bare array of chunks (chonkie's chunk list serialised), tiling the text from 0.
        const Document bare = parse(R"([{"text": "ab", "start_index": 0, "end_index": 2}, {"text": "c", "start_index": 2, "end_index": 3}])",
                                    ExchangeFormat::ChunkOffsets);
        QCOMPARE(bare.text(), std::string("abc"));
        QCOMPARE(offsets(bare.reference()), (std::vector<std::size_t>{2}));
    }

    void malformedInputNamesLineAndField_data()
    {
        QTest::addColumn<int>("format");
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("expected");
        const int ba = int(ExchangeFormat::BlockAttention), cb = int(ExchangeFormat::CacheBlend),
                  co = int(ExchangeFormat::ChunkOffsets), req = int(ExchangeFormat::BlockAttentionRequest);
        QTest::newRow("prompt is not the blocks") << ba << R"({"prompt": "abX", "blocks": ["a", "b"], "response": "r"})"
                                                  << "in.jsonl:7: prompt: is not the blocks joined";
        QTest::newRow("blocks missing") << ba << R"({"prompt": "ab"})" << "in.jsonl:7: blocks: missing";
        QTest::newRow("block not a string") << req << R"({"blocks": ["a", 3]})" << "in.jsonl:7: blocks[1]: must be a string";
        QTest::newRow("empty block") << req << R"({"blocks": ["a", ""]})" << "in.jsonl:7: blocks[1]: is empty";
        QTest::newRow("separator at the end") << cb << R"({"prompt": "a # # b # # "})"
                                              << "in.jsonl:7: prompt: block 2 between separators";
        QTest::newRow("prompt missing") << cb << R"({"text": "a"})" << "in.jsonl:7: prompt: missing";
        QTest::newRow("start_index missing") << co << R"({"chunks": [{"text": "ab", "end_index": 2}]})"
                                             << "in.jsonl:7: chunks[0].start_index: missing";
        QTest::newRow("end_index wrong") << co
                                         << R"({"chunks": [{"text": "ab", "start_index": 0, "end_index": 2}, {"text": "cd", "start_index": 2, "end_index": 5}]})"
                                         << "in.jsonl:7: chunks[1].end_index: end_index - start_index is 3 but the chunk's text is 2 codepoints long";
        QTest::newRow("gap without text") << co
                                          << R"({"chunks": [{"text": "ab", "start_index": 0, "end_index": 2}, {"text": "cd", "start_index": 3, "end_index": 5}]})"
                                          << "in.jsonl:7: chunks[1].start_index: is 3 but the previous chunk ends at 2";
        QTest::newRow("overlap") << co
                                 << R"({"text": "abcd", "chunks": [{"text": "abc", "start_index": 0, "end_index": 3}, {"text": "cd", "start_index": 2, "end_index": 4}]})"
                                 << "in.jsonl:7: chunks[1].start_index: is 2, inside the previous chunk";
        QTest::newRow("text mismatch") << co
                                       << R"({"text": "abcd", "chunks": [{"text": "ab", "start_index": 0, "end_index": 2}, {"text": "xy", "start_index": 2, "end_index": 4}]})"
                                       << "in.jsonl:7: chunks[1].text: is not the text at [2, 4)";
        QTest::newRow("negative offset") << co << R"([{"text": "ab", "start_index": -1, "end_index": 1}])"
                                         << "in.jsonl:7: [0].start_index: must be a non-negative integer";
        QTest::newRow("past the end") << co << R"({"text": "ab", "chunks": [{"text": "abc", "start_index": 0, "end_index": 3}]})"
                                      << "in.jsonl:7: chunks[0].end_index: is 3, past the end";
    }
    void malformedInputNamesLineAndField()
    {
        QFETCH(int, format);
        QFETCH(QString, line);
        QFETCH(QString, expected);
        const std::string error = errorOf([&] { parse(line.toStdString(), static_cast<ExchangeFormat>(format)); });
        QVERIFY2(error.find(expected.toStdString()) != std::string::npos, error.c_str());
    }

    void offsetInsideACharacterIsReported()
    {
        // In UTF-16 the emoji is two units: an offset between them is inside a character.
        ExchangeOptions o;
        o.offsets = OffsetUnit::Utf16;
        const std::string line = "{\"text\": \"a\xF0\x9F\x98\x80" "b\", \"chunks\": [{\"text\": \"a\", \"start_index\": 0, "
                                 "\"end_index\": 1}, {\"text\": \"\xF0\x9F\x98\x80" "b\", \"start_index\": 2, \"end_index\": 5}]}";
        const std::string error = errorOf([&] { parse(line, ExchangeFormat::ChunkOffsets, o); });
        QVERIFY2(error.find("chunks[1].start_index: is 2, inside a character") != std::string::npos, error.c_str());
        // The same offsets in code points are wrong in another way, and say so.
        const std::string cp = errorOf([&] { parse(line, ExchangeFormat::ChunkOffsets); });
        QVERIFY2(cp.find("chunks[1].end_index") != std::string::npos, cp.c_str());
    }

    void separatorInsideABlockCannotBeWritten()
    {
        const Document d("one # # two three");
        const std::string error = errorOf([&] { formatExchangeRecord(d, {{12, 1}}, ExchangeFormat::CacheBlend); });
        QVERIFY2(error.find("contains the separator") != std::string::npos, error.c_str());
        ExchangeOptions pipe;
        pipe.separator = "|";
        QVERIFY(errorOf([&] { formatExchangeRecord(d, {{12, 1}}, ExchangeFormat::CacheBlend, pipe); }).empty());
    }

    void importAndExportThroughTheWorkspace_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QStringList>("extra");
        QTest::newRow("block-attention") << "block-attention" << QStringList{};
        QTest::newRow("block-attention-request") << "block-attention-request" << QStringList{};
        QTest::newRow("cacheblend") << "cacheblend" << QStringList{};
        QTest::newRow("cacheblend-separator") << "cacheblend" << QStringList{"--separator", "<sep>"};
        QTest::newRow("chunk-offsets") << "chunk-offsets" << QStringList{};
        QTest::newRow("chunk-offsets-utf16") << "chunk-offsets" << QStringList{"--offsets", "utf16"};
        QTest::newRow("chunk-offsets-bytes") << "chunk-offsets" << QStringList{"--offsets", "bytes"};
    }
    void importAndExportThroughTheWorkspace()
    {
        QFETCH(QString, format);
        QFETCH(QStringList, extra);
        QTemporaryDir dir;
        const std::string f = format.toStdString();
        ExchangeOptions o;
        for (int i = 0; i + 1 < extra.size(); i += 2) {
            if (extra[i] == "--separator")
                o.separator = extra[i + 1].toStdString();
            if (extra[i] == "--offsets")
                o.offsets = parseOffsetUnit(extra[i + 1].toStdString());
        }
        std::string input;
        for (const auto& [doc, boundaries] : samples()) {
            std::vector<Boundary> level1 = boundaries;
            for (auto& b : level1)
                b.level = 1; // the formats have no levels
            input += formatExchangeRecord(doc, level1, parseExchangeFormat(f), o) + "\n";
        }
        const auto in = test::writeFile(dir, "in.jsonl", input);
        const std::string db = (std::filesystem::path(dir.path().toStdString()) / "ws.db").string();
        const auto out = std::filesystem::path(dir.path().toStdString()) / "out.jsonl";
        std::vector<std::string> importArgs = {"import", in.string(), "--db", db, "--name", "n", "--format", f};
        std::vector<std::string> exportArgs = {"db", "export", "--db", db, "--dataset", "n", "--format", f, "--out", out.string()};
        for (const auto& e : extra) {
            importArgs.push_back(e.toStdString());
            exportArgs.push_back(e.toStdString());
        }
        auto r = test::runCliCaptured(importArgs);
        QVERIFY2(r.code == 0, r.err.c_str());
        r = test::runCliCaptured(exportArgs);
        QVERIFY2(r.code == 0, r.err.c_str());
        QCOMPARE(readAll(out), input);
    }

    void commandErrors()
    {
        QTemporaryDir dir;
        const auto in = test::writeFile(dir, "bad.jsonl", "{\"blocks\": [\"a\", \"b\"]}\n{\"blocks\": [\"a\", 7]}\n");
        const std::string db = (std::filesystem::path(dir.path().toStdString()) / "ws.db").string();
        auto r = test::runCliCaptured({"import", in.string(), "--db", db, "--format", "block-attention-request"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.find("bad.jsonl:2: blocks[1]: must be a string") != std::string::npos, r.err.c_str());
        QVERIFY(!std::filesystem::exists(db)); // a bad file leaves no empty workspace
        r = test::runCliCaptured({"import", in.string(), "--db", db, "--format", "lmcache"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.find("unknown format 'lmcache'") != std::string::npos, r.err.c_str());
        // Record import, then both spellings of the export form at once are refused.
        const auto rec = test::writeFile(dir, "rec.jsonl", "{\"id\": \"r\", \"text\": \"ab\\ncd\", \"boundaries\": [3]}\n");
        QCOMPARE(test::runCliCaptured({"import", rec.string(), "--db", db, "--name", "r"}).code, 0);
        r = test::runCliCaptured({"db", "export", "--db", db, "--dataset", "r", "--format", "chunks", "--form", "record"});
        QVERIFY(r.code != 0);
        r = test::runCliCaptured({"db", "export", "--db", db, "--dataset", "r", "--format", "csv"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.find("unknown format 'csv'") != std::string::npos, r.err.c_str());
        r = test::runCliCaptured({"db", "export", "--db", db, "--dataset", "r", "--format", "cacheblend"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, std::string("{\"id\":\"r\",\"prompt\":\"ab\\n # # cd\"}\n"));
        r = test::runCliCaptured({"db", "export", "--db", db, "--dataset", "r", "--form", "chunks"}); // the older option still works
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, std::string("{\"id\":\"r\",\"chunks\":[\"ab\\n\",\"cd\"]}\n"));
    }
};

QTEST_GUILESS_MAIN(TestExchangeFormats)
#include "test_exchange_formats.moc"
