#pragma once
// Internal side of Model.
#include "engine/model.hpp"
#include "engine/torch/transformer.hpp"

namespace blocklens::engine {

struct Model::Impl {
    std::filesystem::path directory;
    ModelConfig config;
    DType dtype = DType::F32;
    std::string fingerprint;
    MemoryEstimate memory;
    std::unique_ptr<detail::Transformer> transformer;
};

} // namespace blocklens::engine
