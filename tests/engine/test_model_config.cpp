// config.json parsing (published and transformers-5 forms), memory estimates, FLOP counting.
#include "engine/flops.hpp"
#include "engine/make_model.hpp"
#include "engine/memory.hpp"
#include "engine/model_config.hpp"
#include "util/error.hpp"

#include <QtTest>

using namespace blocklens;
using namespace blocklens::engine;

namespace {

// A config with `extra` fields (a JSON fragment) spliced in after the common ones.
std::string configWith(const std::string& modelType, const std::string& extra)
{
    std::string s = "{\"model_type\": \"" + modelType + "\", \"vocab_size\": 256, \"hidden_size\": 64, "
                    "\"intermediate_size\": 128, \"num_hidden_layers\": 2, \"num_attention_heads\": 4";
    if (!extra.empty())
        s += ", " + extra;
    return s + "}";
}

std::string errorOf(const std::string& json)
{
    try {
        (void)ModelConfig::fromJson(json, "cfg.json");
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

} // namespace

class TestModelConfig : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void variants_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("arch");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<QString>("ropeType");
        QTest::addColumn<double>("theta");
        QTest::addColumn<bool>("qkvBias");
        QTest::addColumn<bool>("qkNorm");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<QString>("dtype");
        QTest::addColumn<int>("window"); // 0: none

        QTest::newRow("llama defaults") << QString::fromStdString(configWith("llama", ""))
                                        << "llama" << 4 << 16 << "default" << 10000.0 << false << false << false << "f32" << 0;
        // Llama 3.1 as published: top-level rope_theta, rope_scaling with rope_type, torch_dtype.
        QTest::newRow("llama 3.1 published")
            << QString::fromStdString(configWith("llama", "\"num_key_value_heads\": 2, \"rope_theta\": 500000.0, \"rope_scaling\": "
                                                          "{\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
                                                          "\"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}, "
                                                          "\"torch_dtype\": \"bfloat16\", \"tie_word_embeddings\": true"))
            << "llama" << 2 << 16 << "llama3" << 500000.0 << false << false << true << "bf16" << 0;
        // The same as transformers 5 writes it.
        QTest::newRow("llama 3 transformers 5")
            << QString::fromStdString(configWith("llama", "\"num_key_value_heads\": 2, \"rope_parameters\": {\"rope_type\": \"llama3\", "
                                                          "\"rope_theta\": 500000.0, \"factor\": 8.0, \"low_freq_factor\": 1.0, "
                                                          "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}, "
                                                          "\"dtype\": \"float32\""))
            << "llama" << 2 << 16 << "llama3" << 500000.0 << false << false << false << "f32" << 0;
        QTest::newRow("old 'type' key, linear") << QString::fromStdString(configWith("llama", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}"))
                                                << "llama" << 4 << 16 << "linear" << 10000.0 << false << false << false << "f32" << 0;
        QTest::newRow("llama attention_bias") << QString::fromStdString(configWith("llama", "\"attention_bias\": true"))
                                              << "llama" << 4 << 16 << "default" << 10000.0 << true << false << false << "f32" << 0;
        QTest::newRow("mistral window")
            << QString::fromStdString(configWith("mistral", "\"num_key_value_heads\": 1, \"sliding_window\": 4096, \"rope_theta\": 1000000.0"))
            << "mistral" << 1 << 16 << "default" << 1000000.0 << false << false << false << "f32" << 4096;
        QTest::newRow("mistral null window") << QString::fromStdString(configWith("mistral", "\"sliding_window\": null, \"head_dim\": 32"))
                                             << "mistral" << 4 << 32 << "default" << 10000.0 << false << false << false << "f32" << 0;
        QTest::newRow("qwen2 biases")
            << QString::fromStdString(configWith("qwen2", "\"num_key_value_heads\": 2, \"rope_theta\": 1000000.0, \"use_sliding_window\": false, "
                                                          "\"sliding_window\": 32768, \"tie_word_embeddings\": true, \"torch_dtype\": \"float16\""))
            << "qwen2" << 2 << 16 << "default" << 1000000.0 << true << false << true << "f16" << 0;
        QTest::newRow("qwen3 head_dim")
            << QString::fromStdString(configWith("qwen3", "\"num_key_value_heads\": 2, \"head_dim\": 32, \"rope_parameters\": "
                                                          "{\"rope_theta\": 1000000.0, \"rope_type\": \"default\"}, \"dtype\": \"bfloat16\""))
            << "qwen3" << 2 << 32 << "default" << 1000000.0 << false << true << false << "bf16" << 0;
        QTest::newRow("by architectures only")
            << QString::fromStdString("{\"architectures\": [\"Qwen3ForCausalLM\"], \"vocab_size\": 8, \"hidden_size\": 8, "
                                      "\"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2}")
            << "qwen3" << 2 << 4 << "default" << 10000.0 << false << true << false << "f32" << 0;
    }
    void variants()
    {
        QFETCH(QString, json);
        QFETCH(QString, arch);
        QFETCH(int, kvHeads);
        QFETCH(int, headDim);
        QFETCH(QString, ropeType);
        QFETCH(double, theta);
        QFETCH(bool, qkvBias);
        QFETCH(bool, qkNorm);
        QFETCH(bool, tied);
        QFETCH(QString, dtype);
        QFETCH(int, window);
        const auto c = ModelConfig::fromJson(json.toStdString());
        QCOMPARE(QString::fromUtf8(toString(c.arch).data(), static_cast<int>(toString(c.arch).size())), arch);
        QCOMPARE(c.numKvHeads, std::int64_t(kvHeads));
        QCOMPARE(c.headDim, std::int64_t(headDim));
        QCOMPARE(QString::fromStdString(c.rope.type), ropeType);
        QCOMPARE(c.rope.theta, theta);
        QCOMPARE(c.qkvBias, qkvBias);
        QCOMPARE(c.qkNorm, qkNorm);
        QCOMPARE(c.tieWordEmbeddings, tied);
        QCOMPARE(QString::fromUtf8(toString(c.dtype).data(), static_cast<int>(toString(c.dtype).size())), dtype);
        QCOMPARE(c.slidingWindow.value_or(0), std::int64_t(window));
        // What toJson writes (the published form) reads back the same.
        const auto again = ModelConfig::fromJson(c.toJson());
        QCOMPARE(again.toJson(), c.toJson());
    }

    void llama3Parameters()
    {
        const auto c = ModelConfig::fromJson(configWith("llama", "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 32.0, "
                                                                 "\"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
                                                                 "\"original_max_position_embeddings\": 8192}"));
        QCOMPARE(c.rope.factor, 32.0);
        QCOMPARE(c.rope.highFreqFactor, 4.0);
        QCOMPARE(c.rope.originalMaxPositions, std::int64_t(8192));
    }

    void errors_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("gpt2") << QString::fromStdString("{\"model_type\": \"gpt2\", \"architectures\": [\"GPT2LMHeadModel\"]}")
                              << "cfg.json: model_type: unsupported architecture gpt2 (GPT2LMHeadModel); supported: llama, mistral, qwen2, qwen3";
        QTest::newRow("no type") << QString::fromStdString("{\"vocab_size\": 3}") << "unsupported architecture (none given)";
        QTest::newRow("missing hidden") << QString::fromStdString("{\"model_type\": \"llama\", \"vocab_size\": 3}") << "hidden_size: missing (required)";
        QTest::newRow("bad kv heads") << QString::fromStdString(configWith("llama", "\"num_key_value_heads\": 3"))
                                      << "num_key_value_heads: 3 does not divide num_attention_heads 4";
        QTest::newRow("yarn") << QString::fromStdString(configWith("llama", "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}"))
                              << "rope_scaling.rope_type: unsupported RoPE type 'yarn' (supported: default, linear, llama3)";
        QTest::newRow("gelu") << QString::fromStdString(configWith("llama", "\"hidden_act\": \"gelu\""))
                              << "hidden_act: unsupported activation \"gelu\"";
        QTest::newRow("int8") << QString::fromStdString(configWith("llama", "\"torch_dtype\": \"int8\""))
                              << "torch_dtype: unsupported dtype \"int8\"";
        QTest::newRow("qwen sliding") << QString::fromStdString(configWith("qwen2", "\"use_sliding_window\": true"))
                                      << "use_sliding_window: sliding-window layers of qwen models are not supported";
        QTest::newRow("not json") << QString::fromStdString("{\"model_type\": ") << "cfg.json: byte ";
        QTest::newRow("negative") << QString::fromStdString(configWith("llama", "\"head_dim\": -4"))
                                  << "head_dim: must be a positive integer, got -4";
        // Values that parse but make no sense (issue 16: they gave all-NaN logits with exit 0).
        const char* epsRule = "rms_norm_eps: must be a finite number between 0 and 1 (exclusive";
        QTest::newRow("eps negative") << QString::fromStdString(configWith("llama", "\"rms_norm_eps\": -1")) << epsRule;
        QTest::newRow("eps zero") << QString::fromStdString(configWith("llama", "\"rms_norm_eps\": 0")) << epsRule;
        QTest::newRow("eps one") << QString::fromStdString(configWith("llama", "\"rms_norm_eps\": 1.0")) << epsRule;
        const char* thetaRule = "rope_theta: must be a finite number greater than 1";
        QTest::newRow("theta denormal") << QString::fromStdString(configWith("llama", "\"rope_theta\": 1e-320")) << thetaRule;
        QTest::newRow("theta below one") << QString::fromStdString(configWith("llama", "\"rope_theta\": 0.5")) << thetaRule;
        QTest::newRow("theta in rope_parameters")
            << QString::fromStdString(configWith("llama", "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": -3}"))
            << "rope_parameters.rope_theta: must be a finite number greater than 1";
        QTest::newRow("factor negative")
            << QString::fromStdString(configWith("llama", "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": -2}"))
            << "rope_scaling.factor: must be a finite positive number, got -2";
        QTest::newRow("llama3 original positions")
            << QString::fromStdString(configWith("llama", "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, "
                                                          "\"original_max_position_embeddings\": 1e300}"))
            << "rope_scaling.original_max_position_embeddings: must be a positive number of positions below 2^31";
        QTest::newRow("size too large") << QString::fromStdString(configWith("llama", "\"head_dim\": 4294967296"))
                                        << "head_dim: must be at most 2147483647, got 4294967296";
        // 100,000 nested arrays as a value (dump() in the error message overflowed the stack).
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        QTest::newRow("nested vocab_size") << QString::fromStdString("{\"model_type\": \"llama\", \"vocab_size\": " + deep + "}")
                                           << "cfg.json: byte 549: not valid JSON: nesting deeper than 512 levels of arrays and objects";
        QTest::newRow("nested rope_scaling") << QString::fromStdString(configWith("llama", "\"rope_scaling\": " + deep))
                                             << "not valid JSON: nesting deeper than 512 levels";
        QTest::newRow("nested hidden_act") << QString::fromStdString(configWith("llama", "\"hidden_act\": " + deep))
                                           << "not valid JSON: nesting deeper than 512 levels";
    }
    void errors()
    {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        const auto e = errorOf(json.toStdString());
        QVERIFY2(e.find(expected.toStdString()) != std::string::npos, e.c_str());
    }

    void memoryEstimate()
    {
        // Llama 3 8B shape in bf16: 8.03e9 parameters, 128 KiB of K/V per token.
        auto c = defaultConfig(Architecture::Llama, 32, 4096, 32, 8, 128256, 14336, 128);
        QCOMPARE(c.parameterCount(), std::int64_t(8030261248));
        const auto e = estimateMemory(c, DType::BF16, 32768);
        QCOMPARE(e.kvBytesPerToken, std::uint64_t(131072));
        QCOMPARE(e.kvBytes, std::uint64_t(131072) * 32768);
        QCOMPARE(e.weightBytes, std::uint64_t(8030261248) * 2);
        try {
            checkFits(e, 8ull << 30, "cpu", "model llama-8b in bf16");
            QFAIL("no error");
        } catch (const Error& err) {
            const std::string m = err.what();
            QVERIFY2(m.find("model llama-8b in bf16 needs about") != std::string::npos, m.c_str());
            QVERIFY2(m.find("KV cache 4.00 GiB for 32768 tokens") != std::string::npos, m.c_str());
            QVERIFY2(m.find("but only 8.00 GiB is available on cpu") != std::string::npos, m.c_str());
        }
        checkFits(e, 1ull << 40, "cpu", "x"); // fits: no throw
        QVERIFY(availableHostMemory().value_or(0) > 0);
    }

    void absurdSizesSaturate()
    {
        // Each field at its largest allowed value: the counts saturate instead of wrapping to
        // something small that would pass the memory check.
        ModelConfig c = defaultConfig(Architecture::Llama, 2147483647, 2147483647, 1, 1, 2147483647, 2147483647, 2147483646);
        QCOMPARE(c.parameterCount(), std::numeric_limits<std::int64_t>::max());
        const auto e = estimateMemory(c, DType::F32, 2147483647, 2147483647);
        QCOMPARE(e.totalBytes(), std::numeric_limits<std::uint64_t>::max());
        QVERIFY(e.kvBytes > (1ull << 62));
        bool refused = false;
        try {
            checkFits(e, 1ull << 50, "cpu", "x");
        } catch (const Error&) {
            refused = true;
        }
        QVERIFY(refused);
        // Just below saturation the count is still exact (Llama 3 8B, as in memoryEstimate).
        QCOMPARE(defaultConfig(Architecture::Llama, 32, 4096, 32, 8, 128256, 14336, 128).parameterCount(), std::int64_t(8030261248));
        // Logits of every position count when kept.
        const auto small = defaultConfig(Architecture::Llama, 1, 8, 1, 1, 1000, 32, 8);
        QCOMPARE(estimateMemory(small, DType::F32, 100, 100).activationBytes - estimateMemory(small, DType::F32, 100).activationBytes,
                 std::uint64_t(2 * 100 * 1000 * 4 - 1000 * 4));
    }

    void flops()
    {
        QCOMPARE(attendedPairs(0, 4, 0, std::nullopt), std::int64_t(10)); // 1+2+3+4
        QCOMPARE(attendedPairs(10, 2, 0, std::nullopt), std::int64_t(23)); // 11 + 12
        QCOMPARE(attendedPairs(10, 2, 10, std::nullopt), std::int64_t(3));
        QCOMPARE(attendedPairs(0, 5, 0, std::int64_t(2)), std::int64_t(9)); // 1+2+2+2+2
        const auto c = defaultConfig(Architecture::Llama, 2, 64, 4, 2, 256, 128, 16);
        const auto f = forwardFlops(c, 10, 55, 1);
        // per layer per token: 2 * (64*64*2 + 64*32*2 + 3*64*128) = 2 * 36864
        QCOMPARE(f.linear, 2.0 * 2 * 36864 * 10);
        QCOMPARE(f.attention, 4.0 * 2 * 64 * 55);
        QCOMPARE(f.lmHead, 2.0 * 64 * 256);
    }
};

QTEST_GUILESS_MAIN(TestModelConfig)
#include "test_model_config.moc"
