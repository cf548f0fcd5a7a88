#include "engine/trained_context.hpp"

namespace blocklens::engine {
namespace {

std::string grouped(std::int64_t n)
{
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

} // namespace

std::optional<std::string> trainedContextWarning(const ModelConfig& config, std::int64_t tokens)
{
    if (config.maxPositions <= 0 || tokens <= config.maxPositions)
        return std::nullopt;
    return "the input is " + grouped(tokens) + " tokens but the model was trained on at most " + grouped(config.maxPositions)
        + " (max_position_embeddings in config.json): positions past that are outside its training, so its "
          "continuations, perplexity and the divergence between modes say little about block attention; "
          "timings, FLOPs and memory are still measured as usual";
}

} // namespace blocklens::engine
