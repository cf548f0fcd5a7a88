// config.json: any bytes as a model's config. A config that parses must describe itself again:
// its own toJson() parses to the same shape.
#include "fuzz_util.hpp"

#include "engine/model_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace blocklens;
    fuzz::onlyProjectErrors("ModelConfig::fromJson", [&] {
        const auto c = engine::ModelConfig::fromJson(fuzz::bytes(data, size), "config.json");
        (void)c.parameterCount();
        const std::string written = c.toJson();
        engine::ModelConfig again;
        try {
            again = engine::ModelConfig::fromJson(written, "config.json (written back)");
        } catch (const Error& e) {
            fuzz::fail("ModelConfig::toJson", std::string("its output does not parse: ") + e.what());
        }
        if (again.arch != c.arch || again.vocabSize != c.vocabSize || again.hiddenSize != c.hiddenSize
            || again.intermediateSize != c.intermediateSize || again.numLayers != c.numLayers
            || again.numHeads != c.numHeads || again.numKvHeads != c.numKvHeads || again.headDim != c.headDim)
            fuzz::fail("ModelConfig::toJson", "written back, the config has another shape:\n" + written);
    });
    return 0;
}
