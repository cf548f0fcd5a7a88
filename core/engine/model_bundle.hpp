#pragma once
// A model as a user names it: a directory with config.json, the weights and (usually) the
// tokenizer.json the model was trained with, read together and checked to belong together in one
// place, as llama.cpp loads a vocabulary with its model. Every front end loads models this way:
// `compare`, `lm-eval`, the learned segmenter's language-model features, the app's Model panel.
//
//   auto files = readModelFiles(dir);                 // config + tokenizer, checked: plan the run
//   auto bundle = loadModelBundle(std::move(files), {.device = "cuda", .maxTokens = n});
#include "engine/model.hpp"
#include "engine/model_config.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/progress.hpp"

#include <filesystem>
#include <optional>

namespace blocklens::engine {

// The one rule for a tokenizer and a model: every id the tokenizer produces has a row in the
// model's embedding. A model may have more rows (checkpoints pad their vocabulary to a multiple of
// 64 or 128), never fewer. Throws Error naming `tokenizerFile`.
void checkVocabulary(const Tokenizer& tokenizer, const ModelConfig& config, const std::filesystem::path& tokenizerFile);

enum class TokenizerNeed {
    Optional, // a model without tokenizer.json still runs token ids
    Required, // text goes in: no tokenizer is an Error
};

// What is read before the weights: enough to plan a run (its length decides the memory check).
struct ModelFiles {
    std::filesystem::path directory;
    ModelConfig config;
    std::optional<Tokenizer> tokenizer;
    std::filesystem::path tokenizerFile; // where the tokenizer came from (empty without one)
};

// Reads config.json and the tokenizer (`tokenizer` if given, else the directory's tokenizer.json
// when there is one) and checks that they belong together. Throws Error (no such directory, no
// config.json, a bad file, a mismatched vocabulary, no tokenizer where one is Required).
ModelFiles readModelFiles(const std::filesystem::path& directory,
                          const std::optional<std::filesystem::path>& tokenizer = std::nullopt,
                          TokenizerNeed need = TokenizerNeed::Optional);

// The weights loaded on a device, with the tokenizer read beside them. Cheap to copy.
struct ModelBundle {
    Model model;
    std::optional<Tokenizer> tokenizer;
    std::filesystem::path tokenizerFile;

    const ModelConfig& config() const { return model.config(); }
    // The tokenizer's content hash, or "" without one (runs record it).
    std::string tokenizerHash() const;
};

// Loads the weights of `files` (Model::load: the memory check, then the tensors).
ModelBundle loadModelBundle(ModelFiles files, const LoadOptions& options = {}, const Progress& progress = {});

} // namespace blocklens::engine
