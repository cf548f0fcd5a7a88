#pragma once
// Whether a run goes past the context the model was trained on (config.json's
// max_position_embeddings), and what its numbers then mean. One wording for the CLI's stderr
// line and the app's banners (side by side, heatmap).
#include "engine/model_config.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace blocklens::engine {

// nullopt when `tokens` fits the trained context, or the config does not say how long it is.
// Otherwise one sentence: "the input is 28,114 tokens but the model was trained on at most
// 2,048 (max_position_embeddings): ... ".
std::optional<std::string> trainedContextWarning(const ModelConfig& config, std::int64_t tokens);

} // namespace blocklens::engine
