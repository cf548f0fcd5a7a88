// Safetensors reading and writing, dtype conversions, .npy files.
#include "engine/dtype.hpp"
#include "engine/npy.hpp"
#include "engine/safetensors.hpp"
#include "support/temp_files.hpp"
#include "util/error.hpp"
#include "support/error_of.hpp"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>

using namespace blocklens;
using blocklens::test::errorOf;
using namespace blocklens::engine;

namespace {

// A safetensors file from a header JSON and a data section, exactly as given.
std::string rawFile(const std::string& header, const std::string& data)
{
    std::string out(8, '\0');
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
    return out + header + data;
}

std::span<const std::byte> asBytes(const std::vector<float>& v) { return std::as_bytes(std::span(v)); }
std::span<const std::byte> asBytes(const std::vector<std::uint16_t>& v) { return std::as_bytes(std::span(v)); }

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void dtypeConversions_data()
    {
        QTest::addColumn<float>("value");
        QTest::newRow("zero") << 0.0f;
        QTest::newRow("one") << 1.0f;
        QTest::newRow("negative") << -2.5f;
        QTest::newRow("small normal half") << 6.103515625e-05f;
        QTest::newRow("subnormal half") << 5.9604644775390625e-08f;
        QTest::newRow("max half") << 65504.0f;
        QTest::newRow("third") << 0.333333343f;
    }
    void dtypeConversions()
    {
        QFETCH(float, value);
        // Values exactly representable survive a round trip; others land within half an ulp.
        const float viaBf16 = bf16ToFloat(floatToBf16(value));
        QVERIFY(std::fabs(viaBf16 - value) <= std::fabs(value) * (1.0f / 256.0f));
        const float viaF16 = f16ToFloat(floatToF16(value));
        QVERIFY2(std::fabs(viaF16 - value) <= std::max(std::fabs(value) * (1.0f / 2048.0f), 3e-8f),
                 qPrintable(QString::number(viaF16)));
        QCOMPARE(bf16ToFloat(0x3F80), 1.0f);
        QCOMPARE(f16ToFloat(0x3C00), 1.0f);
        QCOMPARE(floatToBf16(1.0f + 1.0f / 512.0f), std::uint16_t(0x3F80)); // tie rounds to even
        QCOMPARE(f16ToFloat(floatToF16(1e6f)), std::numeric_limits<float>::infinity());
        QVERIFY(parseDType("bfloat16") == DType::BF16);
        QVERIFY(parseDType("FP32") == DType::F32);
        QVERIFY(!parseDType("int8"));
    }

    void writeThenRead()
    {
        QTemporaryDir dir;
        const std::vector<float> a = {1.0f, -2.0f, 3.5f, 0.25f, 5.0f, 6.0f};
        std::vector<std::uint16_t> b, c;
        for (float v : {1.0f, 0.5f, -4.0f})
            b.push_back(floatToBf16(v));
        for (float v : {2.0f, -0.125f})
            c.push_back(floatToF16(v));
        const std::vector<TensorToWrite> tensors = {
            {"a", DType::F32, {2, 3}, asBytes(a)},
            {"b.weight", DType::BF16, {3}, asBytes(b)},
            {"c", DType::F16, {1, 2}, asBytes(c)},
        };
        const auto path = std::filesystem::path(dir.path().toStdString()) / "t.safetensors";
        writeSafetensors(path, tensors, {{"format", "pt"}});
        const auto f = SafetensorsFile::open(path);
        QCOMPARE(f.tensors().size(), std::size_t(3));
        QCOMPARE(f.metadata().at("format"), std::string("pt"));
        QCOMPARE(f.headerJson().size() % 8, std::size_t(0));
        QCOMPARE(f.at("a").shape, (std::vector<std::int64_t>{2, 3}));
        QCOMPARE(f.toFloat(f.at("a")), a);
        QCOMPARE(f.toFloat(f.at("b.weight")), (std::vector<float>{1.0f, 0.5f, -4.0f}));
        QCOMPARE(f.toFloat(f.at("c")), (std::vector<float>{2.0f, -0.125f}));
        QVERIFY(f.floatDType(f.at("c")) == DType::F16);
        QVERIFY(!f.find("nope"));
        const auto e = errorOf([&] { (void)f.at("nope"); });
        QVERIFY2(e.find("t.safetensors") != std::string::npos && e.find("nope: missing tensor") != std::string::npos, e.c_str());
    }

    void badFiles_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected"); // substrings of the message, separated by '|'
        const std::string f32x2(8, '\0');
        QTest::newRow("empty") << QByteArray() << "truncated file: 0 bytes";
        QTest::newRow("five bytes") << QByteArray("\x10\0\0\0\0", 5) << "truncated file: 5 bytes";
        const auto overrun = rawFile("{}", "");
        std::string longHeader = overrun;
        longHeader[0] = 100; // says 100 bytes of header, has 2
        QTest::newRow("header overruns file") << QByteArray::fromStdString(longHeader) << "truncated file: the header says it is 100 bytes";
        QTest::newRow("not json") << QByteArray::fromStdString(rawFile("{\"a\": [1,", "")) << "header is not valid JSON|byte ";
        QTest::newRow("not an object") << QByteArray::fromStdString(rawFile("[1, 2]", "")) << "header is not a JSON object";
        QTest::newRow("offsets overrun data")
            << QByteArray::fromStdString(rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", f32x2))
            << "w: data_offsets [0, 16) overrun the data section of 8 bytes (truncated file?)";
        QTest::newRow("offsets disagree with shape")
            << QByteArray::fromStdString(rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", f32x2))
            << "w: data_offsets [0, 8) hold 8 bytes but shape [3] of F32 needs 12";
        QTest::newRow("unknown dtype")
            << QByteArray::fromStdString(rawFile("{\"w\": {\"dtype\": \"Q4_K\", \"shape\": [2], \"data_offsets\": [0, 8]}}", f32x2))
            << "w: unsupported dtype 'Q4_K' (supported: F32, F16, BF16)";
        QTest::newRow("missing fields")
            << QByteArray::fromStdString(rawFile("{\"w\": {\"dtype\": \"F32\"}}", f32x2)) << "w: header entry needs dtype, shape and data_offsets";
        QTest::newRow("negative dim")
            << QByteArray::fromStdString(rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", f32x2))
            << "w: shape [-2] has an entry";
        QTest::newRow("overlap")
            << QByteArray::fromStdString(rawFile("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                                                 " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", f32x2))
            << "b: data_offsets [4, 8) overlap those of tensor 'a' [0, 8)";
        // An empty tensor between two that overlap hid them when only neighbours were compared.
        QTest::newRow("overlap around an empty tensor")
            << QByteArray::fromStdString(rawFile("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                                                 " \"e\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]},"
                                                 " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
                                                 std::string(12, '\0')))
            << "b: data_offsets [4, 12) overlap those of tensor 'a' [0, 8)";
        // 100,000 nested arrays (dump() and copies of them overflowed the stack).
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        QTest::newRow("nested metadata")
            << QByteArray::fromStdString(rawFile("{\"__metadata__\": {\"k\": " + deep + "}}", ""))
            << "byte 541: header is not valid JSON: nesting deeper than 512 levels";
        QTest::newRow("nested shape")
            << QByteArray::fromStdString(rawFile("{\"w\": {\"dtype\": \"F32\", \"shape\": " + deep + ", \"data_offsets\": [0, 8]}}", f32x2))
            << "header is not valid JSON: nesting deeper than 512 levels";
        QTest::newRow("huge header length") << QByteArray("\xff\xff\xff\xff\xff\0\0\0{}", 10) << "implausible";
    }
    void badFiles()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const auto path = test::writeFile(dir, "bad.safetensors", std::string_view(bytes.constData(), bytes.size()));
        const auto e = errorOf([&] { (void)SafetensorsFile::open(path); });
        QVERIFY2(!e.empty(), "no error");
        QVERIFY2(e.find("bad.safetensors") != std::string::npos, e.c_str());
        for (const auto& part : expected.split('|'))
            QVERIFY2(e.find(part.toStdString()) != std::string::npos, e.c_str());
    }

    void nonFloatDtypeFailsOnlyWhenUsed()
    {
        QTemporaryDir dir;
        const auto path = test::writeFile(dir, "m.safetensors",
                                          rawFile("{\"ids\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", std::string(8, '\0')));
        const auto f = SafetensorsFile::open(path);
        const auto e = errorOf([&] { (void)f.floatDType(f.at("ids")); });
        QVERIFY2(e.find("m.safetensors: ids: unsupported dtype 'I64'") != std::string::npos, e.c_str());
    }

    void shardedCheckpoint()
    {
        QTemporaryDir dir;
        const std::filesystem::path d = dir.path().toStdString();
        const std::vector<float> x = {1, 2}, y = {3, 4, 5};
        const std::vector<TensorToWrite> s1 = {{"x", DType::F32, {2}, asBytes(x)}};
        const std::vector<TensorToWrite> s2 = {{"y", DType::F32, {3}, asBytes(y)}};
        writeSafetensors(d / "model-00001-of-00002.safetensors", s1);
        writeSafetensors(d / "model-00002-of-00002.safetensors", s2);
        test::writeFile(dir, "model.safetensors.index.json",
                        "{\"metadata\": {}, \"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\","
                        " \"y\": \"model-00002-of-00002.safetensors\"}}");
        const auto c = CheckpointFiles::open(d);
        QCOMPARE(c.files().size(), std::size_t(2));
        const auto ly = c.at("y");
        QCOMPARE(ly.file->toFloat(*ly.tensor), y);
        QCOMPARE(c.totalTensorBytes(), std::uint64_t(20));
        const auto e = errorOf([&] { (void)c.at("z"); });
        QVERIFY2(e.find("z: missing tensor") != std::string::npos, e.c_str());

        // The index names a tensor its shard lacks, then a shard that does not exist.
        test::writeFile(dir, "model.safetensors.index.json",
                        "{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\", \"w\": \"model-00002-of-00002.safetensors\"}}");
        const auto e2 = errorOf([&] { (void)CheckpointFiles::open(d); });
        QVERIFY2(e2.find("model-00002-of-00002.safetensors: w: missing tensor") != std::string::npos, e2.c_str());
        test::writeFile(dir, "model.safetensors.index.json", "{\"weight_map\": {\"x\": \"model-00009-of-00009.safetensors\"}}");
        const auto e3 = errorOf([&] { (void)CheckpointFiles::open(d); });
        QVERIFY2(e3.find("model.safetensors.index.json: x: shard 'model-00009-of-00009.safetensors' named here does not exist") !=
                     std::string::npos, e3.c_str());
    }

    void singleFileAndEmptyDirectory()
    {
        QTemporaryDir dir;
        const std::filesystem::path d = dir.path().toStdString();
        const auto e = errorOf([&] { (void)CheckpointFiles::open(d); });
        QVERIFY2(e.find("no model.safetensors or model.safetensors.index.json") != std::string::npos, e.c_str());
        const std::vector<float> x = {1, 2};
        const std::vector<TensorToWrite> t = {{"x", DType::F32, {2}, asBytes(x)}};
        writeSafetensors(d / "model.safetensors", t);
        QVERIFY(CheckpointFiles::open(d).contains("x"));
    }

    void npyRoundTrip()
    {
        QTemporaryDir dir;
        const auto path = std::filesystem::path(dir.path().toStdString()) / "a.npy";
        const std::vector<float> v = {1, 2, 3, 4, 5, 6};
        const std::vector<std::int64_t> shape = {2, 3};
        writeNpy(path, v, shape);
        std::ifstream in(path, std::ios::binary);
        std::string head(10, '\0');
        in.read(head.data(), 10);
        QCOMPARE(head.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
        QCOMPARE(std::filesystem::file_size(path) % 64, std::uint64_t(24 % 64)); // 64-aligned header + 24 data bytes
        const auto a = readNpy(path);
        QCOMPARE(a.shape, shape);
        QCOMPARE(a.data, v);
        const std::vector<std::int64_t> one = {6};
        writeNpy(path, v, one);
        QCOMPARE(readNpy(path).shape, one);
        const auto e = errorOf([&] { writeNpy(path, v, shape.size() == 2 ? std::vector<std::int64_t>{4, 4} : shape); });
        QVERIFY(e.find("needs 16") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
