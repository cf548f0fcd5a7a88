#pragma once
// The side by side's second model (issue 19: "Compare with model…"), held on the inference
// worker's thread beside the loaded one: loaded on first use on the loaded model's device and
// dtype, kept while the same directory is asked for, with its own block KV cache (cache keys carry
// the model's fingerprint anyway; a cache of its own keeps the base model's hit counts its own).
// Internal to ui/inference: InferenceBackend owns one.
#include "tokenizer/tokenizer.hpp"
#include "util/progress.hpp"

#include <QString>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace blocklens::engine {
class BlockKvCache;
class Model;
class Runner;
} // namespace blocklens::engine

namespace blocklens::ui {

class SecondModel {
public:
    SecondModel();
    ~SecondModel();

    // The runner of `directory`, loaded now unless it is what is held (same directory, device and
    // dtype as `base`). Its tokenizer.json must be the base model's (usecases::requireSharedTokenizer,
    // checked before the weights are read). `tokens`: the longest input planned (memory check).
    // Throws Error; a failure keeps nothing loaded.
    const engine::Runner& prepare(const QString& directory, const engine::Model& base, const std::optional<Tokenizer>& baseTokenizer,
                                  const std::filesystem::path& baseTokenizerFile, std::int64_t tokens, const Progress& progress);
    void reset(); // frees the model and its cache
    QString name() const;      // the directory's name
    QString directory() const; // absolute; empty when none is held

private:
    std::unique_ptr<engine::BlockKvCache> cache_;
    std::unique_ptr<engine::Runner> runner_;
    QString directory_;
    std::string key_; // directory, device and dtype of what is held
};

} // namespace blocklens::ui
