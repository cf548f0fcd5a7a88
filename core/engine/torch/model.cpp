#include "engine/torch/model_impl.hpp"

#include "document/document.hpp"
#include "engine/host_memory.hpp"
#include "engine/safetensors.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"

namespace blocklens::engine {

Model Model::load(const std::filesystem::path& directory, const LoadOptions& options, const Progress& progress)
{
    const auto configPath = directory / "config.json";
    requireModelDirectory(directory);
    std::error_code ec;
    if (std::filesystem::symlink_status(configPath, ec).type() == std::filesystem::file_type::not_found)
        throw Error("no config.json in the model directory", {.file = directory.string()});
    // readFileBytes refuses a directory or a link loop in config.json's place with a one-line error.
    const std::string configText = readFileBytes(configPath, ModelConfig::kMaxFileBytes);

    auto impl = std::make_shared<Impl>();
    impl->directory = directory;
    impl->config = ModelConfig::fromJson(configText, configPath.string());
    const at::Device device = detail::parseDevice(options.device);
    reuseHostBuffers(); // every pass reuses host buffers already faulted in, in bounded address space (host_memory.hpp)
    DType dtype = options.dtype ? *options.dtype : (device.is_cuda() ? impl->config.dtype : DType::F32);
#if TORCH_VERSION_MAJOR < 2
    if (dtype == DType::F16 && !device.is_cuda())
        throw Error("f16 matrix products on CPU need libtorch 2 (this is " + std::string(TORCH_VERSION) + "); use f32 or bf16",
                    {.item = "--dtype f16"});
#endif
    impl->dtype = dtype;

    // Memory first: nothing is read if it cannot fit.
    impl->memory = estimateMemory(impl->config, dtype, options.maxTokens, options.logitRows);
    std::uint64_t available = 0;
    if (options.memoryBudget)
        available = *options.memoryBudget;
    else if (device.is_cuda())
        available = detail::cudaFreeMemory(device);
    else
        available = availableHostMemory().value_or(0);
    if (available > 0)
        checkFits(impl->memory, available, options.memoryBudget ? "the memory budget given" : device.str(),
                  "model " + directory.filename().string() + " in " + std::string(toString(dtype)));

    const auto files = CheckpointFiles::open(directory);
    impl->fingerprint = Sha256::hex(configText + "\n" + files.fingerprint());
    auto weights = detail::loadWeights(files, impl->config, device, detail::scalarType(dtype), progress);
    impl->transformer = std::make_unique<detail::Transformer>(impl->config, std::move(weights), device, detail::scalarType(dtype));
    return Model(std::move(impl));
}

const ModelConfig& Model::config() const { return impl_->config; }
DType Model::dtype() const { return impl_->dtype; }
std::string Model::device() const { return impl_->transformer->device().str(); }
const std::string& Model::fingerprint() const { return impl_->fingerprint; }
const std::filesystem::path& Model::directory() const { return impl_->directory; }
const MemoryEstimate& Model::memory() const { return impl_->memory; }

bool cudaAvailable() { return at::hasCUDA(); }
std::string torchVersion() { return TORCH_VERSION; }

} // namespace blocklens::engine
